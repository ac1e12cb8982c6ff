/**
 * Case 5: a fan-out of N children end to end, timed from the enqueue call
 * until the status reports every child completed, with workers already running; then the time of one
 * status read of the N results, and the Redis memory the finished fan-out keeps, per child.
 * - ours: `actions.fanOut`, `Worker` (`concurrency` slots), `actions.awaitFanOut` (polling every ≤ 25 ms),
 *   then one `actions.fanOutStatus`.
 * - BullMQ: `FlowProducer.add` (1 parent, N children), a Worker (c50) on the children and one on the parent;
 *   done when the parent completes; the status read is `parent.getChildrenValues()`.
 * Checks: N completed, 0 failed, N results.
 */
import { Checks, cpuPerJob, harnessClient, main } from "../lib/child.ts"
import type { CaseResult } from "../lib/protocol.ts"

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  // each system's modules are imported only by the process that measures it
  const system = input.system === "bullmq" ? await import("../peers/bullmq.ts") : await import("../peers/ours.ts")
  const measured = await system.e2eTimed(input, harness, checks)
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
    extra: { ...cpuPerJob(measured, input.n), statusMs: measured.statusMs, redisBytesPerChild: measured.redisBytes / input.n, peakRssMb: measured.peakRssMb },
    checks: checks.passed
  }
})
