/**
 * `npm run bench`: throughput of this runtime against raw node-resque and BullMQ, on this machine, in one run.
 *
 * Starts its own `redis-server` on a free loopback port (no persistence) unless `BENCH_REDIS_URL` is set, and
 * flushes only a server it started (on any other server every run works under its own key prefix and deletes
 * its keys afterwards). Every case runs in a fresh process, interleaved: round 1 of every case, then round 2...
 * Prints a Markdown table of median [min–max] and writes the raw results as JSON.
 *
 * Flags (or env): --n (BENCH_N, 20000), --children (BENCH_CHILDREN, 10000), --rt-n (BENCH_RT_N, 1000),
 * --latency-n (BENCH_LATENCY_N, 1000 jobs per pick-up latency run), --idle-seconds (BENCH_IDLE_SECONDS, 10:
 * the idle-cost window), --rounds (BENCH_ROUNDS, 3), --cases a,b (BENCH_CASES, all), --concurrency 10,25,50 (our worker slots),
 * --resque-workers 10,50 (MultiWorker min,max), --prefix (key prefix, default `bench`), --out (JSON path,
 * default bench/results/latest.json), --cpu-prof (profile every case process into bench/results/profiles),
 * --match REGEXP (BENCH_MATCH: only the entries whose `system variant` matches the regular expression REGEXP, e.g. `--match "ours c25"`).
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../test/support/redisServer.ts"
import { caseIds, type CaseId, type Entry, isCaseId, plan, type Settings } from "./lib/plan.ts"
import { type CaseInput, type CaseResult, RESULT_MARK } from "./lib/protocol.ts"
import { idleTable, latencyTable, roundTripTable, summarise, table, targetList, targets } from "./lib/report.ts"

const here = dirname(fileURLToPath(import.meta.url))

const flag = (name: string, env: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at >= 0 ? process.argv[at + 1] : undefined
  return value ?? process.env[env]
}
const numberFlag = (name: string, env: string, fallback: number): number => {
  const raw = flag(name, env)
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`)
  return value
}
const listFlag = (name: string, env: string, fallback: ReadonlyArray<number>): ReadonlyArray<number> => {
  const raw = flag(name, env)
  return raw === undefined ? fallback : raw.split(",").map(Number)
}

const settings: Settings = {
  n: numberFlag("n", "BENCH_N", 20_000),
  children: numberFlag("children", "BENCH_CHILDREN", 10_000),
  roundTripN: numberFlag("rt-n", "BENCH_RT_N", 1_000),
  rounds: numberFlag("rounds", "BENCH_ROUNDS", 3),
  ourConcurrency: listFlag("concurrency", "BENCH_CONCURRENCY", [10, 25, 50]),
  resqueWorkers: (() => {
    const [min = 10, max = 50] = listFlag("resque-workers", "BENCH_RESQUE_WORKERS", [10, 50])
    return [min, max] as const
  })(),
  latencyN: numberFlag("latency-n", "BENCH_LATENCY_N", 1_000),
  idleSeconds: numberFlag("idle-seconds", "BENCH_IDLE_SECONDS", 10)
}
const selected: ReadonlyArray<CaseId> = (() => {
  const raw = flag("cases", "BENCH_CASES")
  if (raw === undefined) return caseIds
  const ids = raw.split(",").map((s) => s.trim())
  const unknown = ids.filter((id) => !isCaseId(id))
  if (unknown.length > 0) throw new Error(`unknown case(s) ${unknown.join(", ")}; known: ${caseIds.join(", ")}`)
  return ids.filter(isCaseId)
})()
const match = flag("match", "BENCH_MATCH")
const prefixBase = flag("prefix", "BENCH_PREFIX") ?? "bench"
const outPath = flag("out", "BENCH_OUT") ?? join(here, "results", "latest.json")
const cpuProf = process.argv.includes("--cpu-prof")

/** Runs one case process and returns its result; rejects with its stderr when it fails. */
const runCase = (entry: Entry, input: CaseInput): Promise<CaseResult> =>
  new Promise((resolve, reject) => {
    const profile = cpuProf ? ["--cpu-prof", "--cpu-prof-dir", join(here, "results", "profiles"), "--cpu-prof-name", `${input.prefix}.cpuprofile`] : []
    const child = spawn(process.execPath, [...profile, join(here, "cases", entry.file), JSON.stringify(input)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    // a case that hangs is a failure, not a stuck benchmark
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000 + entry.n * 20)
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK))
      if (code !== 0 || line === undefined) {
        reject(new Error(`exit ${code ?? signal}\n${stderr.trim() || stdout.trim()}`))
        return
      }
      if (stderr.trim()) process.stderr.write(stderr)
      resolve(JSON.parse(line.slice(RESULT_MARK.length)) as CaseResult)
    })
  })

/** Deletes every key under `prefix:` (used on a server we did not start). */
const deletePrefix = async (client: IORedis, prefix: string) => {
  let cursor = "0"
  for (let i = 0; i < 1_000_000; i++) {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)
    if (keys.length > 0) await client.unlink(...keys)
    cursor = next
    if (cursor === "0") return
  }
}

const machine = async (client: IORedis) => {
  const server = await client.info("server")
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    redis: /redis_version:(\S+)/.exec(server)?.[1] ?? "unknown"
  }
}

const main = async () => {
  const external = process.env["BENCH_REDIS_URL"]
  const server = external ? undefined : await startRedisServer()
  const redisUrl = external ?? (server as { url: string }).url
  const admin = new IORedis(redisUrl, { maxRetriesPerRequest: 3 })
  const entries = plan(settings, selected).filter((entry) => match === undefined || new RegExp(match).test(`${entry.system} ${entry.variant}`))
  const results: Array<CaseResult> = []
  const failures: Array<string> = []
  const failed = new Set<Entry>()
  const runId = randomUUID().slice(0, 6)
  try {
    const env = await machine(admin)
    process.stderr.write(`bench: ${entries.length} entries x ${settings.rounds} rounds on redis ${env.redis} (${external ? "BENCH_REDIS_URL" : `private redis-server pid ${server?.pid}`})\n`)
    for (let round = 1; round <= settings.rounds; round++) {
      for (const entry of entries) {
        if (failed.has(entry) || (entry.once && round > 1)) continue
        const prefix = `${prefixBase}-${runId}-${entry.case}-${entry.system}-${results.length}`
        const input: CaseInput = {
          case: entry.case,
          system: entry.system,
          variant: entry.variant,
          n: entry.n,
          redisUrl,
          prefix,
          params: entry.params,
          privateServer: server !== undefined
        }
        const name = `${entry.case} ${entry.system}${entry.variant ? ` (${entry.variant})` : ""} round ${round}`
        const started = Date.now()
        try {
          const result = await runCase(entry, input)
          results.push(result)
          const seconds = ((Date.now() - started) / 1000).toFixed(1)
          process.stderr.write(`  ${name}: ${result.value.toFixed(2)} ${result.unit} [${result.checks.length} checks ok, process ${seconds} s]\n`)
        } catch (error) {
          failed.add(entry)
          const message = `${name} FAILED: ${error instanceof Error ? error.message : String(error)}`
          failures.push(message)
          process.stderr.write(`  ${message}\n`)
        } finally {
          if (server) await admin.flushall()
          else await deletePrefix(admin, prefix)
        }
      }
    }
    const summaries = summarise(results)
    const report = [
      `Machine: ${env.cpus} × ${env.cpuModel}, Node ${env.node}, Redis ${env.redis}; ${settings.rounds} round(s), N = ${settings.n}, children = ${settings.children}.`,
      table(summaries),
      roundTripTable(summaries),
      latencyTable(summaries),
      idleTable(summaries),
      targets(summaries)
    ].filter((section) => section !== "").join("\n\n")
    process.stdout.write(`${report}\n`)
    mkdirSync(dirname(outPath), { recursive: true })
    writeFileSync(outPath, JSON.stringify({ date: new Date().toISOString(), machine: env, settings, results, summaries, targets: targetList(summaries), failures }, null, 2))
    process.stderr.write(`bench: results written to ${outPath}\n`)
  } finally {
    admin.disconnect()
    await server?.stop()
  }
  if (failures.length > 0) {
    process.stderr.write(`\nbench: ${failures.length} case(s) FAILED their correctness checks:\n${failures.map((f) => `- ${f}`).join("\n")}\n`)
    process.exitCode = 1
  } else {
    process.stdout.write("\nAll correctness checks passed.\n")
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exitCode = 1
})
