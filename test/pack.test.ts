/**
 * The published package, as a user gets it: `npm pack` (which builds `dist/` through `prepack`), install the
 * tarball into an empty project, then with plain Node (no tsx, no TypeScript of ours): import the library,
 * define an action and run it; build a CLI for that action with `effect-resque/cli`; run the package's own
 * `effect-resque --help`; and type-check a TypeScript consumer against the shipped declarations.
 *
 * One test: it installs dependencies (from the npm cache when it can), so it is slow and gets a long timeout.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..")
const work = mkdtempSync(join(tmpdir(), "effect-resque-pack-"))
const project = join(work, "consumer")
// `#!/usr/bin/env node` scripts (npm, the package's bin) must find this Node (>= 22), not an older system one
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}`, NO_COLOR: "1" }

const run = (command: string, args: ReadonlyArray<string>, cwd: string): string =>
  execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 })

const library = `
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, RedisMemory, Runtime } from "effect-resque"

const greet = Action.make({
  name: "greet",
  description: "Says hello",
  inputs: Schema.Struct({ who: Schema.String }),
  run: ({ who }) => Effect.succeed("hello " + who)
})

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const job = yield* actions.enqueue(greet, { who: "queue" })
  const result = yield* actions.run(greet, { who: "pack" })
  console.log(JSON.stringify({ result, queued: JSON.parse(job.payload) }))
})

await Effect.runPromise(program.pipe(Effect.provide(Runtime.layer({ actions: [greet] }).pipe(Layer.provideMerge(RedisMemory.layer())))))
`

const bin = `
import { Effect, Schema } from "effect"
import { Action } from "effect-resque"
import * as Cli from "effect-resque/cli"

const greet = Action.make({
  name: "greet",
  description: "Says hello",
  inputs: Schema.Struct({ who: Schema.String.annotate({ description: "Who to greet" }) }),
  run: ({ who }) => Effect.succeed("hello " + who)
})

Cli.runMain({ name: "mine", version: "1.0.0", actions: [greet] })
`

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe("npm package", () => {
  it("packs, installs into an empty project, and works there without our TypeScript tooling", { timeout: 300_000 }, () => {
    run("npm", ["pack", "--pack-destination", work], root)
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"))
    expect(tarball).toBeDefined()

    mkdirSync(project)
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball ?? "")], project)

    writeFileSync(join(project, "library.mjs"), library)
    expect(JSON.parse(run(process.execPath, ["library.mjs"], project))).toEqual({
      result: "hello pack",
      queued: { class: "greet", queue: "default", args: [{ who: "queue" }] }
    })

    writeFileSync(join(project, "bin.mjs"), bin)
    expect(run(process.execPath, ["bin.mjs", "run", "greet", "--who", "you", "-q"], project).trim()).toBe("\"hello you\"")
    expect(run(process.execPath, ["bin.mjs", "run", "greet", "--help"], project)).toMatch(/--who string\s+Who to greet \(required\)/)

    const help = run("npx", ["--no-install", "effect-resque", "--help"], project)
    expect(help).toMatch(/add\s+Adds two numbers/)
    expect(help).toContain("worker")
    expect(run("npx", ["--no-install", "effect-resque", "run", "add", "--a", "40", "--b", "2", "-q"], project).trim()).toBe("42")

    // the shipped declarations type-check a strict TypeScript consumer (lib check included), and catch mistakes
    writeFileSync(join(project, "bin.ts"), bin)
    writeFileSync(join(project, "wrong.ts"), bin.replace("name: \"mine\"", "name: 1"))
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: []
      },
      files: ["bin.ts", "wrong.ts"]
    }))
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
    let output = ""
    try {
      run(process.execPath, [tsc, "-p", "."], project)
    } catch (error) {
      output = error instanceof Error && "stdout" in error ? String(error.stdout) : String(error)
    }
    expect(output).toContain("wrong.ts")
    expect(output).toContain("Type 'number' is not assignable to type 'string'")
    expect(output).not.toContain("bin.ts")
  })
})
