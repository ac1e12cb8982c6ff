/**
 * Case 4: processing N no-op jobs from a pre-filled queue, timed from the first job picked up to the N-th
 * completion; the node process's peak RSS is sampled over that window (reported in its notes column). With
 * `warmup` W (ours and BullMQ), N + W jobs, timed from the start of job W + 1 (`processWarmupOf`).
 * - ours: `Worker` with `concurrency` slots, on fan-out children so the recording middleware writes every
 *   child's outcome (set `children: 0` for plain jobs).
 * - node-resque: `MultiWorker` (`minWorkers`..`maxWorkers` task processors).
 * - BullMQ: `Worker` with `concurrency` 50.
 * Checks: N succeeded, 0 failed, the queue is empty, and the system's own counters agree.
 */
import type { Redis as IORedis } from "ioredis"
// each system's modules are imported only by the process that measures it (startup stays small and fair)
import { Checks, chunks, forEachConcurrent, harnessClient, main, processWarmupOf, startWindow, throughput, waitUntil, type Window, windowOpener } from "../lib/child.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

const indexes = (n: number) => Array.from({ length: n }, (_, i) => i)
const deadline = (input: CaseInput) => 60_000 + input.n * 10

const runNodeResque = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  if (processWarmupOf(input) > 0) throw new Error("process: warmup is not measured for node-resque")
  const resque = await import("../peers/nodeResque.ts")
  const q = await resque.queue(input)
  await forEachConcurrent(chunks(indexes(input.n), 100), 4, (batch) => resque.enqueueParallel(q, batch))
  checks.equal("jobs waiting before", await harness.llen(resque.queueKey(input)), input.n)
  let window: Window | undefined
  const { worker, counts } = resque.multiWorker(input, () => {
    window = startWindow(harness)
  })
  await worker.start()
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= input.n, deadline(input), 2)
  const measured = await (window as Window).end()
  await worker.end()
  checks.equal("succeeded", counts.succeeded, input.n)
  checks.equal("failed", counts.failed, 0)
  checks.equal("jobs left", await harness.llen(resque.queueKey(input)), 0)
  const stats = await resque.stats(harness, input)
  checks.equal("stat:processed", stats.processed, input.n)
  checks.equal("stat:failed", stats.failed, 0)
  await q.end()
  return measured
}

const runBullmq = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const bull = await import("../peers/bullmq.ts")
  const tracing = input.params["tracing"] === 1 ? await bull.startTracing() : undefined
  const q = await bull.queue(input)
  const total = input.n + processWarmupOf(input)
  await forEachConcurrent(chunks(indexes(total), 100), 4, (batch) => bull.enqueueBulk(q, batch))
  checks.equal("jobs waiting before", await q.getWaitingCount(), total)
  let window: Window | undefined
  const opener = windowOpener(processWarmupOf(input), () => {
    window = startWindow(harness)
  })
  const { worker, counts } = bull.worker(input, () => {}, undefined, opener)
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= total, deadline(input), 2)
  const measured = await (window as Window).end()
  await worker.close()
  checks.equal("succeeded", counts.succeeded, total)
  checks.equal("failed", counts.failed, 0)
  const left = await q.getJobCounts("waiting", "active", "failed", "delayed")
  checks.equal("jobs left", (left["waiting"] ?? 0) + (left["active"] ?? 0) + (left["delayed"] ?? 0), 0)
  checks.equal("failed set", left["failed"] ?? 0, 0)
  await q.close()
  // every trace sampled: each job's span reached the collector
  if (tracing !== undefined) checks.atLeast("spans the collector received", await tracing.shutdown(), total)
  return measured
}

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  const measured = input.system === "node-resque"
    ? await runNodeResque(input, harness, checks)
    : input.system === "bullmq"
    ? await runBullmq(input, harness, checks)
    : await (await import("../peers/ours.ts")).processTimed(input, harness, checks)
  harness.disconnect()
  return throughput(input, measured, checks, { peakRssMb: measured.peakRssMb })
})
