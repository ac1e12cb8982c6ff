/**
 * The log line of a job's outcome: one per run, through Effect's `Logger`, annotated with what identifies the
 * run (action, queue, worker, attempt, fan-out id and index, duration, outcome, and the error's tag for a
 * failure), so a JSON logger (`Logger.consoleJson`) gives one structured record per run. The worker writes it
 * at Debug level; `jobs worker` at Info (success) and Warning (failure).
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import type * as LogLevel from "effect/LogLevel"
import type * as Job from "../domain/Job.ts"
import type * as Outcome from "../domain/Outcome.ts"

/** One run of a job, as the worker reports it. */
export interface Ran {
  readonly worker: string
  readonly queue: string
  readonly job: Job.ParsedJob | undefined
  readonly outcome: Outcome.Outcome
}

/**
 * The annotations of a run's line.
 *
 * @category logging
 */
export const annotations = ({ job, outcome, queue, worker }: Ran): Record<string, unknown> => {
  const annotations: Record<string, unknown> = {
    action: job?.action ?? "?",
    queue,
    worker,
    attempt: job?.meta.attempt ?? 1,
    outcome: outcome._tag,
    durationMs: Math.round(outcome.durationMs)
  }
  if (job?.meta.fanOut !== undefined) {
    annotations["fanOut"] = job.meta.fanOut
    annotations["index"] = job.meta.index
  }
  if (outcome._tag === "Failure") {
    annotations["exception"] = outcome.exception
    annotations["final"] = outcome.final
  }
  return annotations
}

/**
 * The line's text: `ok add on math by host:1.0 in 3 ms -> 42`, or `failed ... in 3 ms: Boom: why (will retry)`.
 *
 * @category logging
 */
export const message = ({ job, outcome, queue, worker }: Ran): string => {
  const base = `${job?.action ?? "(unreadable job)"} on ${queue} by ${worker}`
  const ms = Math.round(outcome.durationMs)
  return outcome._tag === "Success"
    ? `ok ${base} in ${ms} ms -> ${outcome.result.length > 200 ? `${outcome.result.slice(0, 200)}...` : outcome.result}`
    : `failed ${base} in ${ms} ms: ${outcome.exception}: ${outcome.error}${outcome.final ? "" : " (will retry)"}`
}

/**
 * Logs a run's line at `level`, or by default Info for a success and Warning for a failure.
 *
 * @category logging
 */
export const log = (ran: Ran, level?: LogLevel.Severity): Effect.Effect<void> =>
  Effect.logWithLevel(level ?? (ran.outcome._tag === "Success" ? "Info" : "Warn"))(message(ran)).pipe(Effect.annotateLogs(annotations(ran)))
