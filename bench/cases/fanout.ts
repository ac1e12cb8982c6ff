/**
 * Case 3: fan-out of N children (default 10 000), timed until every child is enqueued.
 * - ours: `actions.fanOut` (batches of 100, 4 in flight).
 * - BullMQ: `FlowProducer.add` of 1 parent with N children.
 * Checks: exactly N children are waiting, and the fan-out / parent knows all N.
 */
import type { Redis as IORedis } from "ioredis"
// each system's modules are imported only by the process that measures it (startup stays small and fair)
import { Checks, cpuPerJob, harnessClient, main, startWindow } from "../lib/child.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

const runBullmq = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const bull = await import("../peers/bullmq.ts")
  const flow = await bull.flowProducer(input)
  const spec = bull.flowSpec(input.n)
  const window = startWindow(harness)
  const node = await flow.add(spec)
  const measured = await window.end()
  const children = await bull.queue(input)
  const parents = await bull.queue(input, bull.PARENT_QUEUE)
  checks.equal("children waiting", await children.getWaitingCount(), input.n)
  checks.equal("parent waiting for children", await parents.getWaitingChildrenCount(), 1)
  const dependencies = await node.job.getDependenciesCount({ unprocessed: true })
  checks.equal("parent's unprocessed children", dependencies.unprocessed ?? 0, input.n)
  await Promise.all([flow.close(), children.close(), parents.close()])
  return measured
}

const runOurs = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  const ours = await import("../peers/ours.ts")
  const measured = await ours.fanOutTimed(input, harness, { batchSize: input.params["batchSize"] ?? 100, inFlight: input.params["inFlight"] ?? 4 })
  checks.equal("children waiting", await harness.llen(ours.queueKey(input)), input.n)
  return measured
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
    extra: cpuPerJob(measured, input.n),
    checks: checks.passed
  }
})
