/**
 * Case 6: Redis commands and round trips per job, counted on a short run (not timed), phase by phase:
 * enqueue one job, bulk enqueue / fan-out, processing (plain jobs, and for us fan-out children, whose
 * completion also records the outcome), and one status read. Worker start and stop are inside the
 * processing phases (a few round trips in all), as is idle polling at the end of the queue. See
 * `lib/monitor.ts` for how commands and round trips are counted.
 * Checks: every phase did all its jobs.
 */
import { Checks, harnessClient, main } from "../lib/child.ts"
import { startCounter } from "../lib/monitor.ts"
import type { CaseResult } from "../lib/protocol.ts"

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const counter = await startCounter(input.redisUrl, harness)
  const checks = new Checks()
  // each system's modules are imported only by the process that measures it
  const extra = input.system === "node-resque"
    ? await (await import("../peers/nodeResque.ts")).roundTrips(input, harness, counter, checks)
    : input.system === "bullmq"
    ? await (await import("../peers/bullmq.ts")).roundTrips(input, counter, checks)
    : await (await import("../peers/ours.ts")).roundTrips(input, counter, checks)
  counter.close()
  harness.disconnect()
  return {
    case: input.case,
    system: input.system,
    variant: input.variant,
    n: input.n,
    value: extra["process.roundTrips"] ?? Number.NaN,
    unit: "per job",
    wallMs: 0,
    nodeCpuPct: 0,
    redisCpuPct: 0,
    extra,
    checks: checks.passed
  }
})
