/**
 * The pick-up latency protocol (case `latency`), the same for every system: the workers run idle in this
 * process; jobs are enqueued one at a time by this process, each after a random gap of `gapMinMs`..`gapMaxMs`
 * (default 5–10 ms: no-op jobs, so every job finds the workers idle), each carrying `t`, the
 * `performance.now()` read just before its enqueue call; the job's run notes `performance.now()` when it
 * starts. Producer and worker share one process, so both readings come from one monotonic clock.
 *
 * A few warm-up jobs (`warmup`, default 20, negative indexes) go first and are not measured. Latency of a job =
 * run start − `t`: it includes the enqueue call itself (the producer's round trip) and whatever the worker
 * needs to notice the job.
 */
import { performance } from "node:perf_hooks"
import type { Redis as IORedis } from "ioredis"
import { CheckFailed, type Checks, quantile, sleep, startWindow, waitUntil, type Window } from "./child.ts"
import type { CaseInput } from "./protocol.ts"

/** What a latency job carries: its index (negative: warm-up) and the time read just before its enqueue call. */
export interface Stamp {
  readonly i: number
  readonly t: number
}

export interface LatencyMeasured {
  readonly wallMs: number
  readonly nodeCpuPct: number
  readonly redisCpuPct: number
  readonly peakRssMb: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly meanMs: number
  readonly minMs: number
}

/** One run of the protocol: the job's run calls `started`, the peer drives the enqueues with `drive`. */
export interface Session {
  /** Called by a job's run, first thing: the job `stamp` starts now. */
  readonly started: (stamp: Stamp) => void
  /** Enqueues the warm-up jobs, then the `n` measured ones with their gaps, and waits until every one started. */
  readonly drive: (enqueue: (stamp: Stamp) => Promise<unknown>) => Promise<LatencyMeasured>
  /** Jobs started so far (warm-up included), for the peer's own completion wait. */
  readonly total: () => number
}

export const warmupOf = (input: CaseInput): number => input.params["warmup"] ?? 20

export const session = (input: CaseInput, harness: IORedis, checks: Checks): Session => {
  const n = input.n
  const warmup = warmupOf(input)
  const gapMin = input.params["gapMinMs"] ?? 5
  const gapMax = input.params["gapMaxMs"] ?? 10
  const latencies = new Float64Array(n).fill(Number.NaN)
  let startedCount = 0
  let measuredCount = 0
  let duplicates = 0
  const started = (stamp: Stamp) => {
    const now = performance.now()
    startedCount++
    if (stamp.i < 0) return
    if (!Number.isNaN(latencies[stamp.i] as number)) {
      duplicates++
      return
    }
    latencies[stamp.i] = now - stamp.t
    measuredCount++
  }
  const deadline = 30_000 + n * 50
  const drive = async (enqueue: (stamp: Stamp) => Promise<unknown>): Promise<LatencyMeasured> => {
    for (let i = -warmup; i < 0; i++) {
      await enqueue({ i, t: performance.now() })
      await sleep(gapMin + Math.random() * (gapMax - gapMin))
    }
    await waitUntil("warm-up jobs started", () => startedCount >= warmup, deadline, 1)
    let window: Window | undefined
    for (let i = 0; i < n; i++) {
      // the window opens with the first measured enqueue
      window ??= startWindow(harness)
      await enqueue({ i, t: performance.now() })
      await sleep(gapMin + Math.random() * (gapMax - gapMin))
    }
    await waitUntil("every measured job started", () => measuredCount >= n, deadline, 1)
    const ended = await (window as Window).end()
    checks.equal("measured jobs started", measuredCount, n)
    checks.equal("jobs started twice", duplicates, 0)
    const sorted = Array.from(latencies).sort((a, b) => a - b)
    if (sorted.some((x) => !Number.isFinite(x))) throw new CheckFailed("a measured job has no latency")
    checks.atLeast("smallest latency (ms)", sorted[0] as number, 0)
    return {
      ...ended,
      p50Ms: quantile(sorted, 0.5),
      p90Ms: quantile(sorted, 0.9),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1] as number,
      minMs: sorted[0] as number,
      meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length
    }
  }
  return { started, drive, total: () => startedCount }
}
