/**
 * What became of one run of a job.
 *
 * @since 0.1.0
 */

/**
 * The job succeeded; `result` is its encoded result as JSON.
 *
 * @category models
 */
export interface Success {
  readonly _tag: "Success"
  readonly result: string
  readonly durationMs: number
}

/**
 * The job failed. `final` is false when the job will be retried (a later attempt decides its outcome).
 *
 * @category models
 */
export interface Failure {
  readonly _tag: "Failure"
  /** The error's tag or class name (`exception` in Resque's failed-job record). */
  readonly exception: string
  /** The error as text, never empty (see `JobError.message`). */
  readonly error: string
  /** The error as data (encoded by the action's `error` Schema, or its plain fields), when it has any. */
  readonly data?: unknown
  readonly backtrace: ReadonlyArray<string>
  readonly final: boolean
  readonly durationMs: number
}

/** @category models */
export type Outcome = Success | Failure

/** @category constructors */
export const success = (result: string, durationMs: number): Success => ({ _tag: "Success", result, durationMs })

/** @category constructors */
export const failure = (options: Omit<Failure, "_tag">): Failure => ({ _tag: "Failure", ...options })
