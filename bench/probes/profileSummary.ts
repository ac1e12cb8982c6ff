/**
 * Probe helper (not part of `npm run bench`): self time of a `.cpuprofile` (V8's JSON) by function and by
 * file, as % of the samples of the worker's window (from the first to the last sample whose stack is in
 * `src/internal/Completion.ts`, which only the worker's completions run, so module loading and the queue's
 * pre-fill are left out). The bench runs its cases on Node's own type stripping, which keeps every
 * position, so a row names the source line.
 *
 *   npx tsx bench/probes/profileSummary.ts bench/results/profiles/X.cpuprofile [rows=40]
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

interface Frame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}
interface Node {
  readonly id: number
  readonly callFrame: Frame
  readonly children?: ReadonlyArray<number>
}
const path = process.argv[2]
if (path === undefined) throw new Error("usage: profileSummary.ts FILE.cpuprofile [rows]")
const rows = Number(process.argv[3] ?? 40)
const profile = JSON.parse(readFileSync(path, "utf8")) as { nodes: ReadonlyArray<Node>; samples: ReadonlyArray<number> }
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

// the window: samples whose stack passes through a completion
const inWorker = new Map<number, boolean>()
const passesWorker = (id: number): boolean => {
  const known = inWorker.get(id)
  if (known !== undefined) return known
  const node = byId.get(id)!
  const up = parent.get(id)
  const result = node.callFrame.url.endsWith("src/internal/Completion.ts") || (up !== undefined && passesWorker(up))
  inWorker.set(id, result)
  return result
}
const first = profile.samples.findIndex(passesWorker)
let last = profile.samples.length - 1
while (last > first && !passesWorker(profile.samples[last]!)) last--
const window = profile.samples.slice(first, last + 1)

// this project's files: the source line of a position (Node strips the types in place, so a profile's
// positions are the TypeScript's own)
const sources = new Map<string, ReadonlyArray<string> | undefined>()
const mapped = (frame: Frame): string | undefined => {
  if (!frame.url.startsWith("file://") || frame.url.includes("node_modules")) return undefined
  if (!sources.has(frame.url)) {
    try {
      sources.set(frame.url, readFileSync(fileURLToPath(frame.url), "utf8").split("\n"))
    } catch {
      sources.set(frame.url, undefined)
    }
  }
  const lines = sources.get(frame.url)
  if (lines === undefined) return undefined
  return `:${frame.lineNumber + 1}  ${(lines[frame.lineNumber] ?? "").trim().slice(0, 70)}`
}

const shortUrl = (url: string) => url.replace(/^.*node_modules\//, "~/").replace(/^.*\/(src|bench|test)\//, "$1/")
const hits = new Map<number, number>()
for (const sample of window) hits.set(sample, (hits.get(sample) ?? 0) + 1)
const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
for (const [id, count] of hits) {
  const frame = byId.get(id)!.callFrame
  const file = frame.url === "" ? "(native)" : shortUrl(frame.url)
  const where = mapped(frame) ?? `:${frame.lineNumber + 1}`
  const fn = `${frame.functionName || "(anonymous)"} ${file}${where}`
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + count)
  const bucket = file.startsWith("~/") ? file.split("/").slice(0, file.startsWith("~/@") ? 3 : 2).join("/") : file
  byFile.set(bucket, (byFile.get(bucket) ?? 0) + count)
}
const print = (title: string, table: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, count] of [...table].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    process.stdout.write(`${((count / window.length) * 100).toFixed(1).padStart(5)}%  ${name}\n`)
  }
}
// library time by the project's function that called into it: the nearest frame of this project's files
const isOurs = (frame: Frame) => frame.url.startsWith("file://") && !frame.url.includes("node_modules")
const byCaller = new Map<string, number>()
for (const [id, count] of hits) {
  const leaf = byId.get(id)!.callFrame
  if (leaf.url === "" && leaf.functionName.startsWith("(")) continue
  let at: number | undefined = id
  while (at !== undefined && !isOurs(byId.get(at)!.callFrame)) at = parent.get(at)
  if (at === undefined || at === id) continue
  const frame = byId.get(at)!.callFrame
  const name = `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}${mapped(frame) ?? ""}`
  byCaller.set(name, (byCaller.get(name) ?? 0) + count)
}
process.stdout.write(`${window.length} samples in the worker's window (of ${profile.samples.length})\n`)
print("self time by file (package)", byFile)
print("self time by function", byFunction)
print("library time (node_modules, node) by the project function that called it", byCaller)
