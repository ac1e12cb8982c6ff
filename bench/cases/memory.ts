/**
 * Case `memory`: our runtime on the in-memory Redis (`RedisMemory.layer()`, no server), ours only.
 * - `plain`: the pool (`concurrency` slots) processes N pre-filled plain jobs, timed from the first job started
 *   to the N-th completion (as case 4).
 * - `fan-out`: with the pool idle, one fan-out of N children end to end: `fanOut`, every child completed by
 *   the pool, one `fanOutStatus` reporting all done (as case 5, with the status read inside the window).
 * Reports jobs/s; redis CPU is 0 (there is no server).
 * Checks: N succeeded, 0 failed, the queue is empty and the stats agree (plain); status completed N, failed 0,
 * done, N results (fan-out).
 */
import { Checks, main, throughput } from "../lib/child.ts"
import type { CaseResult } from "../lib/protocol.ts"

main(async (input): Promise<CaseResult> => {
  const checks = new Checks()
  const ours = await import("../peers/ours.ts")
  if ((input.params["fanOut"] ?? 0) === 1) {
    const measured = await ours.memoryFanOutTimed(input, checks)
    return throughput(input, measured, checks, { peakRssMb: measured.peakRssMb, statusMs: measured.statusMs, noServer: 1 })
  }
  const measured = await ours.memoryPlainTimed(input, checks)
  return throughput(input, measured, checks, { peakRssMb: measured.peakRssMb, noServer: 1 })
})
