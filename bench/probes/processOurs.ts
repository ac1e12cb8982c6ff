/**
 * Probe (not part of `npm run bench`): our processing case alone, `rounds` runs back to back on one fresh
 * redis-server, each in its own process as the bench runs it (`bench/cases/process.ts`, fan-out children,
 * recording on). Prints jobs/s, node and redis CPU µs per job and peak RSS per run, so a change can be
 * measured before and after without the peers' rows. `--cpu-prof` profiles each run into
 * bench/results/profiles (summarize with `bench/probes/profileSummary.ts`).
 *
 *   npx tsx bench/probes/processOurs.ts [--n 20000] [--concurrency 50] [--rounds 2] [--plain] [--metrics] [--param key=value]... [--cpu-prof]
 *
 * `--metrics`: with the metrics hook (`JobMetrics.layer`), as the bench's "metrics on" variant. `--param`: any
 * other of the entry's numeric params (`bench/lib/plan.ts`, `observabilityVariants`), e.g. `--param tracing=1
 * --param httpClient=1` for "tracing and metrics on".
 */
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../test/support/redisServer.ts"
import { type CaseInput, type CaseResult, RESULT_MARK } from "../lib/protocol.ts"

const here = dirname(fileURLToPath(import.meta.url))
const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}
const n = flag("n", 20_000)
const concurrency = flag("concurrency", 50)
const rounds = flag("rounds", 2)
const plain = process.argv.includes("--plain")
const metrics = process.argv.includes("--metrics")
const cpuProf = process.argv.includes("--cpu-prof")
const extraParams: Record<string, number> = Object.fromEntries(
  process.argv.flatMap((arg, at) => (arg === "--param" ? [process.argv[at + 1] ?? ""] : [])).map((pair) => {
    const [key = "", value = ""] = pair.split("=")
    return [key, Number(value)]
  })
)

const runOnce = (input: CaseInput): Promise<CaseResult> =>
  new Promise((resolve, reject) => {
    const profile = cpuProf ? ["--cpu-prof", "--cpu-prof-dir", join(here, "..", "results", "profiles"), "--cpu-prof-interval", "100", "--cpu-prof-name", `${input.prefix}.cpuprofile`] : []
    const child = spawn(process.execPath, [...profile, join(here, "..", "cases", "process.ts"), JSON.stringify(input)], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("exit", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK))
      if (stderr) process.stderr.write(stderr)
      if (code !== 0 || line === undefined) reject(new Error(`exit ${code}\n${stderr || stdout}`))
      else resolve(JSON.parse(line.slice(RESULT_MARK.length)) as CaseResult)
    })
  })

const server = await startRedisServer()
const admin = new IORedis(server.url)
try {
  for (let round = 1; round <= rounds; round++) {
    await admin.flushall()
    const input: CaseInput = {
      case: "process",
      system: "ours",
      variant: `c${concurrency}`,
      n,
      redisUrl: server.url,
      prefix: `probe-${process.pid}-${round}`,
      params: { concurrency, children: plain ? 0 : 1, ...(metrics ? { metrics: 1 } : {}), ...extraParams },
      privateServer: true
    }
    const result = await runOnce(input)
    const perJob = (pct: number) => (pct / 100) * result.wallMs * 1000 / n
    process.stdout.write(
      `round ${round} c${concurrency}${plain ? " plain" : ""}: ${result.value.toFixed(0)} jobs/s, node ${perJob(result.nodeCpuPct).toFixed(1)} µs/job, ` +
        `redis ${perJob(result.redisCpuPct).toFixed(1)} µs/job, peak RSS ${(result.extra["peakRssMb"] ?? 0).toFixed(0)} MB\n`
    )
  }
} finally {
  admin.disconnect()
  await server.stop()
}
