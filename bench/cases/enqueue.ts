/**
 * Cases 1 and 2: enqueue N no-op jobs.
 * - `enqueue-single`: one at a time, awaiting each (ours `Actions.enqueue`, node-resque `queue.enqueue`,
 *   BullMQ `queue.add`).
 * - `enqueue-bulk`: batches of `batchSize` (100), `inFlight` (4) batches in flight: our `fanOut`, node-resque
 *   `queue.enqueue` ×100 in parallel (it has no batch form), BullMQ `addBulk`.
 * Checks: exactly N jobs are waiting afterwards.
 */
import type { Redis as IORedis } from "ioredis"
// each system's modules are imported only by the process that measures it (startup stays small and fair)
import { Checks, chunks, forEachConcurrent, harnessClient, main, startWindow, throughput } from "../lib/child.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

const bulk = (input: CaseInput) => input.case === "enqueue-bulk"
const batchSize = (input: CaseInput) => input.params["batchSize"] ?? 100
const inFlight = (input: CaseInput) => input.params["inFlight"] ?? 4
const indexes = (n: number) => Array.from({ length: n }, (_, i) => i)

const runNodeResque = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const resque = await import("../peers/nodeResque.ts")
  const q = await resque.queue(input)
  const window = startWindow(harness)
  if (bulk(input)) {
    await forEachConcurrent(chunks(indexes(input.n), batchSize(input)), inFlight(input), (batch) => resque.enqueueParallel(q, batch))
  } else {
    await resque.enqueueSingle(q, 0, input.n)
  }
  const measured = await window.end()
  checks.equal("jobs waiting", await harness.llen(resque.queueKey(input)), input.n)
  await q.end()
  return measured
}

const runBullmq = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const bull = await import("../peers/bullmq.ts")
  const q = await bull.queue(input)
  const window = startWindow(harness)
  if (bulk(input)) {
    await forEachConcurrent(chunks(indexes(input.n), batchSize(input)), inFlight(input), (batch) => bull.enqueueBulk(q, batch))
  } else {
    await bull.enqueueSingle(q, 0, input.n)
  }
  const measured = await window.end()
  checks.equal("jobs waiting", await q.getWaitingCount(), input.n)
  await q.close()
  return measured
}

const runOurs = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const ours = await import("../peers/ours.ts")
  const measured = bulk(input)
    ? await ours.fanOutTimed(input, harness, { batchSize: batchSize(input), inFlight: inFlight(input) })
    : await ours.enqueueSingleTimed(input, harness)
  checks.equal("jobs waiting", await harness.llen(ours.queueKey(input)), input.n)
  return measured
}

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  const measured = input.system === "node-resque"
    ? await runNodeResque(input, harness, checks)
    : input.system === "bullmq"
    ? await runBullmq(input, harness, checks)
    : await runOurs(input, harness, checks)
  harness.disconnect()
  return throughput(input, measured, checks)
})
