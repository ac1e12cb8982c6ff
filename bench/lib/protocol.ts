/**
 * What the orchestrator (`bench/run.ts`) and a case process (`bench/cases/*.ts`) say to each other: the case
 * gets one JSON argument, and answers with one line `BENCH_RESULT {json}` on stdout (anything else it prints
 * is passed through as log). A case that fails a correctness check exits non-zero with the reason on stderr.
 */

/** Which implementation a row measures. */
export type System = "ours" | "node-resque" | "bullmq"

/** The argument of a case process. */
export interface CaseInput {
  /** Case id, e.g. `enqueue-single`. */
  readonly case: string
  readonly system: System
  /** Variant label shown in the table (e.g. `c25`); empty for the default. */
  readonly variant: string
  /** Number of jobs (or fan-out children). */
  readonly n: number
  readonly redisUrl: string
  /** Key prefix (namespace) of this run: every key it writes starts with `PREFIX:`. */
  readonly prefix: string
  /** Case-specific knobs (concurrency, batch size...). */
  readonly params: Readonly<Record<string, number>>
  /**
   * The orchestrator started this Redis server for the run: nothing but the case process (and the
   * orchestrator's own connection, idle while a case runs) talks to it, so server-wide counters are the case's.
   */
  readonly privateServer: boolean
}

/** One measurement. */
export interface CaseResult {
  readonly case: string
  readonly system: System
  readonly variant: string
  readonly n: number
  /** The headline number of the row. */
  readonly value: number
  readonly unit: "jobs/s" | "ms" | "per job" | "bytes" | "commands/s"
  /** Wall time of the timed window. */
  readonly wallMs: number
  /** CPU of this node process over the timed window, in % of one core (can exceed 100: GC threads). */
  readonly nodeCpuPct: number
  /** CPU of redis-server over the timed window, in % of one core (whole server: includes other clients). */
  readonly redisCpuPct: number
  /** Secondary numbers (peak RSS, status call time, round trips...). */
  readonly extra: Readonly<Record<string, number>>
  /** Correctness checks that passed, for the log. */
  readonly checks: ReadonlyArray<string>
}

export const RESULT_MARK = "BENCH_RESULT "
