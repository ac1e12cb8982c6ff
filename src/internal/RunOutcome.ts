/**
 * What a job's run came to, as an {@link Outcome}: its failure's tag, text and data from an Effect `Cause`
 * (through `JobError`, so a failure is never described as ""), and the outcomes of jobs that did not finish
 * on their own (shutdown, a dead worker, a stuck one).
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as JobError from "../domain/JobError.ts"
import * as Outcome from "../domain/Outcome.ts"

/** The typed error a job failed with, or undefined for a defect or an interruption. */
export const failureOf = (cause: Cause.Cause<unknown>): { readonly error: unknown } | undefined => {
  const reason = cause.reasons.find(Cause.isFailReason)
  return reason === undefined ? undefined : { error: reason.error }
}

/**
 * Invalid inputs are not retried: another run would fail the same way. Defects are not retried either, nor
 * a cancelled job (its own outcome).
 */
export const retryable = (failure: { readonly error: unknown } | undefined): boolean => {
  if (failure === undefined) return false
  const tag = JobError.tag(failure.error)
  return tag !== "InvalidInputs" && tag !== "JobCancelled"
}

const backtraceOf = (error: unknown): ReadonlyArray<string> =>
  error instanceof Error && error.stack ? error.stack.split("\n").slice(1).map((line) => line.trim()) : []

/** The thrown value of a defect, or undefined for an interruption. */
const defectOf = (cause: Cause.Cause<unknown>): unknown => cause.reasons.find(Cause.isDieReason)?.defect

/**
 * The outcome of a run that failed with `cause`. `encodeError` turns the typed error into data (the action's
 * `error` Schema); a defect is described by what was thrown.
 *
 * @category constructors
 */
export const failed = (options: {
  readonly cause: Cause.Cause<unknown>
  readonly encodeError: (error: unknown) => unknown
  readonly final: boolean
  readonly durationMs: number
}): Outcome.Failure => {
  const failure = failureOf(options.cause)
  if (failure !== undefined) {
    const data = options.encodeError(failure.error)
    return Outcome.failure({
      exception: JobError.tag(failure.error),
      error: JobError.message(failure.error),
      ...(data === undefined ? {} : { data }),
      backtrace: backtraceOf(failure.error),
      final: options.final,
      durationMs: options.durationMs
    })
  }
  const defect = defectOf(options.cause)
  const interrupted = defect === undefined && Cause.hasInterrupts(options.cause)
  return Outcome.failure({
    exception: interrupted ? "Interrupted" : "Defect",
    error: interrupted ? "interrupted" : JobError.message(defect),
    backtrace: backtraceOf(defect),
    final: options.final,
    durationMs: options.durationMs
  })
}

/**
 * The outcome of a job that cannot run: its payload is unreadable or it names an action this worker does
 * not know. `error` is the typed error saying which.
 *
 * @category constructors
 */
export const refused = (error: { readonly _tag: string; readonly message: string }): Outcome.Failure =>
  Outcome.failure({ exception: error._tag, error: error.message, data: JobError.plainData(error), backtrace: [], final: true, durationMs: 0 })

/** The outcome of a job still running when the grace period of a shutdown passed. */
export const shutdown: Outcome.Failure = Outcome.failure({
  exception: "Shutdown",
  error: "shutdown: the worker stopped before the job finished",
  backtrace: [],
  final: true,
  durationMs: 0
})

/** The outcome of the job of a worker that stopped pinging. */
export const workerDied = (options: {
  readonly worker: string
  readonly silentSeconds: number
  readonly scheduler: string
  readonly final: boolean
}): Outcome.Failure =>
  Outcome.failure({
    exception: "WorkerDied",
    error: `worker died: ${options.worker} sent no ping for ${options.silentSeconds} s`,
    backtrace: [`reclaimed by scheduler ${options.scheduler}`],
    final: options.final,
    durationMs: 0
  })

/** The outcome of a job an operator failed as stuck (`cleanOldWorkers`). */
export const stuck = (options: { readonly worker: string; readonly ranForMs: number; readonly now: number }): Outcome.Failure =>
  Outcome.failure({
    exception: "WorkerTimeout",
    error: `stuck: worker ${options.worker} ran this job for ${Math.round(options.ranForMs / 1000)} s; failed by cleanOldWorkers`,
    backtrace: [`cleaned at ${new Date(options.now).toISOString()}`, "Operations.cleanOldWorkers"],
    final: true,
    durationMs: options.ranForMs
  })
