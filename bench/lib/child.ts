/**
 * Helpers for a case process: read the input, time a window (wall, CPU of this process and of redis-server,
 * peak RSS), check correctness loudly, and print the result line.
 */
import { performance } from "node:perf_hooks"
import { Redis as IORedis } from "ioredis"
import { type CaseInput, type CaseResult, RESULT_MARK } from "./protocol.ts"

/** A correctness check failed: the case exits non-zero with this message. */
export class CheckFailed extends Error {
  override readonly name = "CheckFailed"
}

/** Collects correctness checks; the first failing one throws. */
export class Checks {
  readonly passed: Array<string> = []
  equal(label: string, actual: unknown, expected: unknown): void {
    if (actual !== expected) throw new CheckFailed(`${label}: expected ${String(expected)}, got ${String(actual)}`)
    this.passed.push(`${label} = ${String(expected)}`)
  }
  atLeast(label: string, actual: number, min: number): void {
    if (!(actual >= min)) throw new CheckFailed(`${label}: expected at least ${min}, got ${actual}`)
    this.passed.push(`${label} ≥ ${min}`)
  }
  atMost(label: string, actual: number, max: number): void {
    if (!(actual <= max)) throw new CheckFailed(`${label}: expected at most ${max}, got ${actual}`)
    this.passed.push(`${label} ≤ ${max}`)
  }
}

/** Reads the JSON argument the orchestrator passes. */
export const readInput = (): CaseInput => {
  const raw = process.argv[2]
  if (raw === undefined) throw new Error("usage: tsx bench/cases/<case>.ts '<CaseInput JSON>'")
  return JSON.parse(raw) as CaseInput
}

/** Runs a case body and prints its result line; any error exits with code 1. */
export const main = (body: (input: CaseInput) => Promise<CaseResult>): void => {
  const input = readInput()
  body(input).then(
    (result) => {
      process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`bench case ${input.case}/${input.system}${input.variant ? `/${input.variant}` : ""} FAILED: ${
        error instanceof Error ? error.stack ?? error.message : String(error)
      }\n`)
      process.exit(1)
    }
  )
}

/** A plain connection for the harness itself (INFO, checks), never used by the system under test. */
export const harnessClient = async (url: string): Promise<IORedis> => {
  const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  await client.connect()
  return client
}

/** Parses an `INFO` section into numbers. */
export const info = async (client: IORedis, section: string): Promise<Record<string, number>> => {
  const text = await client.info(section)
  const out: Record<string, number> = {}
  for (const line of text.split("\r\n")) {
    const at = line.indexOf(":")
    if (at > 0) {
      const value = Number(line.slice(at + 1))
      if (!Number.isNaN(value)) out[line.slice(0, at)] = value
    }
  }
  return out
}

/** CPU seconds redis-server has used so far (user + system). */
export const redisCpuSeconds = async (client: IORedis): Promise<number> => {
  const cpu = await info(client, "cpu")
  return (cpu["used_cpu_user"] ?? 0) + (cpu["used_cpu_sys"] ?? 0)
}

/** Bytes redis-server uses for data. */
export const redisUsedMemory = async (client: IORedis): Promise<number> => (await info(client, "memory"))["used_memory"] ?? 0

/** A started timed window. */
export interface Window {
  /** Ends the window: wall, CPU%, peak RSS. */
  readonly end: () => Promise<{ readonly wallMs: number; readonly nodeCpuPct: number; readonly redisCpuPct: number; readonly peakRssMb: number }>
}

/**
 * Starts a timed window now (synchronously: call it at the exact moment the measured work starts). The
 * redis-server CPU reading is sent at once and lands before any later command of this process. Without a
 * harness (the in-memory cases: no server) the redis CPU is 0.
 */
export const startWindow = (harness: IORedis | undefined): Window => {
  const redisBefore = harness === undefined ? Promise.resolve(0) : redisCpuSeconds(harness)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  // memoryUsage.rss() is the cheap reading (memoryUsage() walks the heap spaces): the sampler costs ~nothing
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 50)
  return {
    end: async () => {
      const wallMs = performance.now() - started
      const cpu = process.cpuUsage(cpuBefore)
      clearInterval(sampler)
      peakRss = Math.max(peakRss, process.memoryUsage.rss())
      const redisCpu = harness === undefined ? 0 : (await redisCpuSeconds(harness)) - (await redisBefore)
      return {
        wallMs,
        nodeCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
        redisCpuPct: ((redisCpu * 1000) / wallMs) * 100,
        peakRssMb: peakRss / (1024 * 1024)
      }
    }
  }
}

/** What the end-to-end fan-out case measures. */
export interface E2eMeasured {
  readonly wallMs: number
  readonly nodeCpuPct: number
  readonly redisCpuPct: number
  readonly peakRssMb: number
  /** One status read of the finished fan-out. */
  readonly statusMs: number
  /** Redis `used_memory` growth kept by the finished fan-out. */
  readonly redisBytes: number
}

/**
 * The warm-up of a processing case (its `warmup` param, default 0): that many jobs run before its window
 * opens, so the window measures a worker that has run a while (its code compiled, its caches and heap grown),
 * as a long-running worker is, rather than its first seconds. The queue holds N + warmup jobs; the jobs that
 * started before the window and finish inside it (at most the worker's concurrency) are counted in it, an
 * error of concurrency / N.
 */
export const processWarmupOf = (input: CaseInput): number => input.params["warmup"] ?? 0

/** Calls `open` at the start of job `warmup` + 1 (call it at every job's start). */
export const windowOpener = (warmup: number, open: () => void): (() => void) => {
  let started = 0
  return () => {
    if (++started === warmup + 1) open()
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The `p`-quantile (0..1) of `sorted` (ascending), nearest rank. */
export const quantile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number)

/** Splits `items` into chunks of `size`. */
export const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Runs `f` over `items` with at most `concurrency` in flight. */
export const forEachConcurrent = async <A>(
  items: ReadonlyArray<A>,
  concurrency: number,
  f: (item: A) => Promise<unknown>
): Promise<void> => {
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as A
      await f(item)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane))
}

/** Resolves when `done()` is true, polling every `everyMs`, or rejects after `timeoutMs`. */
export const waitUntil = async (label: string, done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 5) => {
  const deadline = performance.now() + timeoutMs
  while (!(await done())) {
    if (performance.now() > deadline) throw new CheckFailed(`timed out after ${timeoutMs} ms waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/**
 * CPU time per job of this process and of redis-server, in µs: unlike throughput, it hardly depends on how
 * busy the machine is, so it is the number to compare on a shared box.
 */
export const cpuPerJob = (measured: { readonly wallMs: number; readonly nodeCpuPct: number; readonly redisCpuPct: number }, jobs: number) => ({
  nodeCpuUsPerJob: (measured.nodeCpuPct / 100) * measured.wallMs * 1000 / jobs,
  redisCpuUsPerJob: (measured.redisCpuPct / 100) * measured.wallMs * 1000 / jobs
})

/** Builds the result of a throughput row. */
export const throughput = (
  input: CaseInput,
  measured: { readonly wallMs: number; readonly nodeCpuPct: number; readonly redisCpuPct: number },
  checks: Checks,
  extra: Record<string, number> = {}
): CaseResult => ({
  case: input.case,
  system: input.system,
  variant: input.variant,
  n: input.n,
  value: (input.n / measured.wallMs) * 1000,
  unit: "jobs/s",
  wallMs: measured.wallMs,
  nodeCpuPct: measured.nodeCpuPct,
  redisCpuPct: measured.redisCpuPct,
  extra: { ...cpuPerJob(measured, input.n), ...extra },
  checks: checks.passed
})
