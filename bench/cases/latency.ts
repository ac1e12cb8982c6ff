/**
 * Case `latency`: pick-up latency of idle workers. The workers idle in this process; N jobs (default 1 000)
 * are enqueued one at a time, 5–10 ms apart, each carrying the time read just before its enqueue call; each
 * notes when its run starts (`lib/latency.ts`). Reports p50 (the headline), p90, p99, max and mean of
 * run start − enqueue time, in ms, one clock.
 * - ours: `Worker.make({ queues: [QUEUE], concurrency: 50 })`, `Actions.enqueue`.
 * - node-resque: the MultiWorker of case 4 (10–50 task processors, 50 ms poll), `queue.enqueue`.
 * - BullMQ: `Worker` c50, `queue.add`.
 * Checks: every measured job started exactly once, no latency below 0, all jobs succeeded, the queue is
 * empty and the system's own counters agree.
 */
import { Checks, harnessClient, main } from "../lib/child.ts"
import type { CaseResult } from "../lib/protocol.ts"

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  // each system's modules are imported only by the process that measures it
  const measured = input.system === "node-resque"
    ? await (await import("../peers/nodeResque.ts")).latencyTimed(input, harness, checks)
    : input.system === "bullmq"
    ? await (await import("../peers/bullmq.ts")).latencyTimed(input, harness, checks)
    : await (await import("../peers/ours.ts")).latencyTimed(input, harness, checks)
  harness.disconnect()
  return {
    case: input.case,
    system: input.system,
    variant: input.variant,
    n: input.n,
    value: measured.p50Ms,
    unit: "ms",
    wallMs: measured.wallMs,
    nodeCpuPct: measured.nodeCpuPct,
    redisCpuPct: measured.redisCpuPct,
    extra: {
      p50Ms: measured.p50Ms,
      p90Ms: measured.p90Ms,
      p99Ms: measured.p99Ms,
      maxMs: measured.maxMs,
      minMs: measured.minMs,
      meanMs: measured.meanMs,
      peakRssMb: measured.peakRssMb
    },
    checks: checks.passed
  }
})
