/**
 * Case 5 (and the Redis half of case 7): a fan-out of N children end to end, timed from the enqueue call
 * until the status reports every child completed, with workers already running; then the time of one
 * status read of the N results, and the Redis memory the finished fan-out keeps, per child.
 * - ours: `actions.fanOut`, `Worker` (`concurrency` slots), `actions.awaitFanOut` (polling every ≤ 25 ms),
 *   then one `actions.fanOutStatus`.
 * - BullMQ: `FlowProducer.add` (1 parent, N children), a Worker (c50) on the children and one on the parent;
 *   done when the parent completes; the status read is `parent.getChildrenValues()`.
 * Checks: N completed, 0 failed, N results.
 */
import { performance } from "node:perf_hooks"
import { Effect } from "effect"
import { Job } from "bullmq"
import type { Redis as IORedis } from "ioredis"
import { Actions } from "../../src/layers/Actions.ts"
import * as bull from "../peers/bullmq.ts"
import * as ours from "../peers/ours.ts"
import { Checks, harnessClient, main, redisUsedMemory, startWindow, waitUntil, type Window } from "../lib/child.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

interface Measured {
  readonly wallMs: number
  readonly nodeCpuPct: number
  readonly redisCpuPct: number
  readonly peakRssMb: number
  readonly statusMs: number
  readonly redisBytes: number
}

const runOurs = (input: CaseInput, harness: IORedis, checks: Checks): Promise<Measured> =>
  ours.run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const items = ours.inputs(input.n)
    const memoryBefore = yield* Effect.promise(() => redisUsedMemory(harness))
    let fanOutId = ""
    const concurrency = input.params["concurrency"] ?? 25
    // the pool starts first and idles; the window opens when the fan-out is sent
    let window: Window | undefined
    const done = yield* ours.work(input.n, concurrency, Effect.gen(function*() {
      window = startWindow(harness)
      fanOutId = yield* ours.fanOut(input.n, { batchSize: input.params["batchSize"] ?? 100, inFlight: input.params["inFlight"] ?? 4 }, items)
      const status = yield* actions.awaitFanOut(fanOutId, { maxPollInterval: "25 millis", timeout: "10 minutes" })
      const ended = yield* Effect.promise(() => (window as Window).end())
      return { status, ended }
    }))
    const { status: final, ended: measured } = done.result
    checks.equal("worker succeeded", done.succeeded, input.n)
    checks.equal("worker failed", done.failed, 0)
    checks.equal("status completed", final.completed, input.n)
    checks.equal("status failed", final.failed, 0)
    checks.equal("status done", final.done, true)
    const started = performance.now()
    const status = yield* actions.fanOutStatus(fanOutId)
    const statusMs = performance.now() - started
    checks.equal("results", status.results.length, input.n)
    checks.equal("last result index", status.results[input.n - 1]?.index, input.n - 1)
    const memoryAfter = yield* Effect.promise(() => redisUsedMemory(harness))
    return { ...measured, statusMs, redisBytes: memoryAfter - memoryBefore }
  }))

const runBullmq = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<Measured> => {
  const flow = await bull.flowProducer(input)
  const parents = await bull.queue(input, bull.PARENT_QUEUE)
  const spec = bull.flowSpec(input.n, { removeOnComplete: false, removeOnFail: false })
  const children = bull.worker(input, () => {})
  const parent = bull.worker({ ...input, params: { concurrency: 1 } }, () => {}, bull.PARENT_QUEUE)
  await Promise.all([children.worker.waitUntilReady(), parent.worker.waitUntilReady()])
  const memoryBefore = await redisUsedMemory(harness)
  const window = startWindow(harness)
  const node = await flow.add(spec)
  await waitUntil("parent completed", () => parent.counts.succeeded + parent.counts.failed >= 1, 600_000, 2)
  const measured = await window.end()
  checks.equal("children completed", children.counts.succeeded, input.n)
  checks.equal("children failed", children.counts.failed, 0)
  checks.equal("parent completed", parent.counts.succeeded, 1)
  const job = await Job.fromId(parents, node.job.id ?? "")
  if (job === undefined) throw new Error("parent job not found")
  const started = performance.now()
  const values = await job.getChildrenValues()
  const statusMs = performance.now() - started
  checks.equal("results", Object.keys(values).length, input.n)
  const memoryAfter = await redisUsedMemory(harness)
  await Promise.all([children.worker.close(), parent.worker.close(), flow.close(), parents.close()])
  return { ...measured, statusMs, redisBytes: memoryAfter - memoryBefore }
}

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  const measured = input.system === "bullmq" ? await runBullmq(input, harness, checks) : await runOurs(input, harness, checks)
  harness.disconnect()
  return {
    case: input.case,
    system: input.system,
    variant: input.variant,
    n: input.n,
    value: measured.wallMs,
    unit: "ms",
    wallMs: measured.wallMs,
    nodeCpuPct: measured.nodeCpuPct,
    redisCpuPct: measured.redisCpuPct,
    extra: { statusMs: measured.statusMs, redisBytesPerChild: measured.redisBytes / input.n, peakRssMb: measured.peakRssMb },
    checks: checks.passed
  }
})
