/**
 * The README's TypeScript blocks compile and run, as a user would copy them: each block is written to a file
 * of its own (its `effect-resque` imports pointed at this repository's sources, nothing else changed), the
 * files are type-checked together with the project's strict settings, then every program block runs to a
 * clean exit, the command-line block answers `--help`, and the test block passes under vitest.
 */
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..")
const dir = join(root, "node_modules", ".cache", `readme-${randomUUID().slice(0, 8)}`)
const slow = { timeout: 240_000 }

const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "")

interface Block {
  readonly file: string
  readonly kind: "program" | "cli" | "test"
}

const kindOf = (code: string): Block["kind"] =>
  code.includes("@effect/vitest") ? "test" : code.includes("Cli.runMain") ? "cli" : "program"

const entries = {
  "effect-resque": join(root, "src", "index.ts"),
  "effect-resque/cli": join(root, "src", "programs", "cli", "Cli.ts"),
  "effect-resque/testing": join(root, "src", "programs", "Testing.ts"),
  "effect-resque/dashboard": join(root, "src", "programs", "dashboard", "Dashboard.ts")
}

mkdirSync(dir, { recursive: true })
const written: ReadonlyArray<Block> = blocks.map((code, i) => {
  const kind = kindOf(code)
  const file = join(dir, `block-${i + 1}${kind === "test" ? ".test" : ""}.ts`)
  const pointed = code.replace(/from "(effect-resque(?:\/cli|\/testing|\/dashboard)?)"/g, (_, name: keyof typeof entries) => `from ${JSON.stringify(entries[name])}`)
  writeFileSync(file, pointed)
  return { file, kind }
})
const tsconfig = join(dir, "tsconfig.json")
writeFileSync(tsconfig, JSON.stringify({ extends: join(root, "tsconfig.json"), include: ["*.ts"] }))
writeFileSync(join(dir, "vitest.config.ts"), `export default { test: { include: ["*.test.ts"] } }\n`)

const run = (args: ReadonlyArray<string>, options: { readonly env?: Record<string, string> } = {}) =>
  execFileSync(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000
  })

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("README", () => {
  it("has TypeScript blocks of every kind: programs, a command line, a test", () => {
    expect(written.map((b) => b.kind)).toContain("program")
    expect(written.map((b) => b.kind)).toContain("cli")
    expect(written.map((b) => b.kind)).toContain("test")
  })

  it("every block type-checks with the project's strict settings", slow, () => {
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
    let output = ""
    try {
      run([tsc, "-p", tsconfig])
    } catch (error) {
      output = error instanceof Error && "stdout" in error ? String(error.stdout) : String(error)
    }
    expect(output).toBe("")
  })

  it("every program block runs to a clean exit", slow, () => {
    for (const block of written.filter((b) => b.kind === "program")) {
      // throws (failing the test with its stderr) on a non-zero exit or a timeout
      run(["--import", "tsx", block.file])
    }
  })

  it("the command-line block answers --help with its action", slow, () => {
    for (const block of written.filter((b) => b.kind === "cli")) {
      expect(run(["--import", "tsx", block.file, "--help"])).toMatch(/add\s+Adds two numbers/)
    }
  })

  it("the test block passes under vitest", slow, () => {
    const vitest = join(root, "node_modules", "vitest", "vitest.mjs")
    const output = run([vitest, "run", "--root", dir, "--config", join(dir, "vitest.config.ts")])
    expect(output).toMatch(/passed/)
  })
})
