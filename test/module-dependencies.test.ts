/**
 * The shape of the source tree, as a test: imports go one way (domain ← internal ← layers ← programs, and
 * `index.ts` on top), no module imports itself back through others, the domain depends on Effect alone, and
 * the Redis client is imported by the live Redis layer only (the in-memory backend and everything else work
 * through the seam of `internal/Connection.ts`), and Effect is imported per module (`effect/Effect`), as Effect's own packages do.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const src = join(import.meta.dirname, "..", "src")

const files = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

/** Every module specifier a file imports or re-exports, type-only imports included. */
const specifiers = (file: string): ReadonlyArray<string> => {
  const text = readFileSync(file, "utf8")
  const found = [...text.matchAll(/^\s*(?:import|export)\b[^"';]*?\bfrom\s+"([^"]+)"/gm), ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)]
  return found.map((match) => match[1] ?? "")
}

const layerOf = (file: string): string => {
  const path = relative(src, file)
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "index"
}

const rank: Record<string, number> = { domain: 0, internal: 1, layers: 2, programs: 3, index: 4 }

const modules = files(src)
const graph = new Map(modules.map((file) => [
  file,
  specifiers(file).filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s))
]))
const name = (file: string) => relative(src, file)

describe("module dependencies", () => {
  it("imports go one way: domain <- internal <- layers <- programs <- index", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => rank[layerOf(target)]! > rank[layerOf(file)]!).map((target) => `${name(file)} -> ${name(target)}`)
    )
    expect(upward).toEqual([])
  })

  it("every relative import names a module that exists", () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${name(file)} -> ${name(t)}`))
    expect(missing).toEqual([])
  })

  it("no cycle: no module imports itself back through others", () => {
    const cycles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (file: string, path: ReadonlyArray<string>) => {
      if (state.get(file) === "done") return
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(" -> "))
        return
      }
      state.set(file, "visiting")
      for (const target of graph.get(file) ?? []) visit(target, [...path, file])
      state.set(file, "done")
    }
    for (const file of modules) visit(file, [])
    expect(cycles).toEqual([])
  })

  it("the domain is data: it imports Effect and other domain modules only", () => {
    const foreign = modules.filter((file) => layerOf(file) === "domain").flatMap((file) =>
      specifiers(file).filter((s) => !s.startsWith("./") && s !== "effect" && !s.startsWith("effect/")).map((s) => `${name(file)}: ${s}`)
    )
    expect(foreign).toEqual([])
  })

  it("Effect is imported one module at a time, never through a barrel, so a worker loads only the modules it uses", () => {
    const effectDist = join(import.meta.dirname, "..", "node_modules", "effect", "dist")
    const isBarrel = (s: string) => s === "effect" || (s.startsWith("effect/") && existsSync(join(effectDist, s.slice("effect/".length), "index.js")))
    const barrels = modules.flatMap((file) => specifiers(file).filter(isBarrel).map((s) => `${name(file)}: ${s}`))
    expect(barrels).toEqual([])
  })

  it("the Redis client is imported by the live Redis layer only; node-resque and ioredis-mock by nothing", () => {
    const clients = modules.flatMap((file) =>
      specifiers(file).filter((s) => /^(ioredis|ioredis-mock|node-resque|bullmq)(\/|$)/.test(s)).map((s) => `${name(file)}: ${s}`)
    )
    expect(clients).toEqual(["layers/Redis.ts: ioredis"])
  })

  it("only the command line and the test helpers import the Node platform or Effect's test services", () => {
    const platform = modules.flatMap((file) =>
      specifiers(file).filter((s) => s.startsWith("@effect/platform-node") || s.startsWith("effect/testing")).map(() => name(file))
    )
    expect([...new Set(platform)].sort()).toEqual(["programs/Testing.ts", "programs/cli/Cli.ts", "programs/cli/WebServer.ts"])
  })
})
