/**
 * The published package, as a user gets it: `npm pack` (which builds `dist/` through `prepack`), install the
 * tarball into an empty project together with `effect` and `@effect/platform-node` as that project's own
 * dependencies (they are peer dependencies of ours), then with plain Node (no tsx, no TypeScript of ours):
 *
 * - there is one copy of `effect` in the project, the consumer's: the library uses the application's Effect;
 * - the tarball ships no demo or examples files, and every source map carries its sources (no map points at a
 *   `.ts` file that is not in the package);
 * - every entry point in `exports` loads, and its declarations are in the tarball;
 * - the library works: define an action, enqueue it and run it directly on the in-memory Redis;
 * - a CLI built with `effect-resque/cli` for the consumer's own action runs it;
 * - the package's own bin (`effect-resque`) is the operator's tool: `status` and no `run`;
 * - the shipped declarations type-check a strict TypeScript consumer, and catch its mistakes.
 *
 * One test: it installs dependencies (from the npm cache when it can), so it is slow and gets a long timeout.
 * The tarball checks are soft (`expect.soft`): a packaging mistake is reported with the rest still checked.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join, relative, sep } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..")
const work = mkdtempSync(join(tmpdir(), "effect-resque-pack-"))
const project = join(work, "consumer")
// `#!/usr/bin/env node` scripts (npm, the package's bin) must find this Node (>= 22), not an older system one
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}`, NO_COLOR: "1" }

const run = (command: string, args: ReadonlyArray<string>, cwd: string): string =>
  execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 })

interface PackageJson {
  readonly devDependencies: Record<string, string>
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>
}
const ours = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson

/** Every file under `dir`, as paths relative to it with `/` separators. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory()
      ? filesUnder(path).map((file) => `${name}/${file}`)
      : [name]
  })

const library = `
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, RedisMemory, Resque } from "effect-resque"

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

await Effect.runPromise(program.pipe(Effect.provide(Resque.layer({ actions: [greet] }).pipe(Layer.provideMerge(RedisMemory.layer())))))
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

/** Imports each entry point and prints its export names (the process fails if one does not load). */
const entryPoints = (specifiers: ReadonlyArray<string>) => `
const names = {}
for (const specifier of ${JSON.stringify(specifiers)}) names[specifier] = Object.keys(await import(specifier))
console.log(JSON.stringify(names))
`

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe("npm package", () => {
  it("packs, installs into an empty project next to the project's own Effect, and works there without our TypeScript tooling", { timeout: 400_000 }, () => {
    run("npm", ["pack", "--pack-destination", work], root)
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"))
    expect(tarball).toBeDefined()
    const tarballPath = join(work, tarball ?? "")

    // what the tarball holds
    const unpacked = join(work, "unpacked")
    mkdirSync(unpacked)
    run("tar", ["-xzf", tarballPath, "-C", unpacked], work)
    const shipped = join(unpacked, "package")
    const files = filesUnder(shipped)
    expect(files).toContain("dist/programs/main.js")
    expect.soft(files.filter((file) => /demo|examples/i.test(file)), "demo or examples files in the tarball").toEqual([])
    const maps = files.filter((file) => file.endsWith(".map"))
    const withoutSources = maps.filter((file) => {
      const map = JSON.parse(readFileSync(join(shipped, file), "utf8")) as { sources: Array<string>; sourcesContent?: Array<string | null> }
      return map.sourcesContent === undefined || map.sourcesContent.length !== map.sources.length ||
        map.sourcesContent.some((content) => typeof content !== "string")
    })
    expect.soft(withoutSources, "source maps pointing at sources that are not shipped").toEqual([])
    const subpaths = Object.entries(ours.exports).filter(([subpath]) => subpath !== "./package.json")
    for (const [subpath, target] of subpaths) {
      const targets = typeof target === "string" ? [target] : [target.types, target.default]
      for (const file of targets) expect.soft(files, `${subpath} -> ${file}`).toContain(relative(".", file).split(sep).join("/"))
    }

    // the consumer depends on Effect itself; ours is a peer dependency, so the library shares the consumer's copy
    mkdirSync(project)
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    const own = ["effect", "@effect/platform-node"].map((name) => `${name}@${ours.devDependencies[name]}`)
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarballPath, ...own], project)
    const copies = run("npm", ["ls", "effect", "--all", "--parseable"], project).split("\n").filter((line) => line.length > 0)
    expect(copies).toEqual([join(project, "node_modules", "effect")])

    const specifiers = subpaths.map(([subpath]) => (subpath === "." ? "effect-resque" : `effect-resque/${subpath.slice(2)}`))
    writeFileSync(join(project, "entries.mjs"), entryPoints(specifiers))
    const loaded = JSON.parse(run(process.execPath, ["entries.mjs"], project)) as Record<string, ReadonlyArray<string>>
    for (const specifier of specifiers) expect(loaded[specifier]?.length ?? 0, specifier).toBeGreaterThan(0)
    expect(loaded["effect-resque"]).toEqual(expect.arrayContaining(["Action", "Actions", "Resque", "RedisMemory", "Worker"]))
    expect(loaded["effect-resque/cli"]).toEqual(expect.arrayContaining(["runMain", "command", "make"]))

    writeFileSync(join(project, "library.mjs"), library)
    expect(JSON.parse(run(process.execPath, ["library.mjs"], project))).toEqual({
      result: "hello pack",
      queued: { class: "greet", queue: "default", args: [{ who: "queue" }] }
    })

    writeFileSync(join(project, "bin.mjs"), bin)
    expect(run(process.execPath, ["bin.mjs", "run", "greet", "--who", "you", "-q"], project).trim()).toBe("\"hello you\"")
    expect(run(process.execPath, ["bin.mjs", "run", "greet", "--help"], project)).toMatch(/--who string\s+Who to greet \(required\)/)

    // the package's own bin: inspection commands only, no actions to run
    const help = run("npx", ["--no-install", "effect-resque", "--help"], project)
    expect(help).toMatch(/^\s+status\s/m)
    expect(help).toMatch(/^\s+failed\s/m)
    expect(help).not.toMatch(/^\s+run\s/m)
    expect(help).not.toMatch(/^\s+worker\s/m)

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
