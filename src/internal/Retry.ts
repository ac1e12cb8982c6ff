/**
 * Retry delays from an action's {@link RetryPolicy}: the delay before attempt `n + 1` is the n-th delay the
 * policy's Schedule produces. No more retries once `attempts` runs were made or the Schedule ends. Shared by
 * the worker (a run that failed) and the scheduler (a job reclaimed from a dead worker), so both follow one
 * policy.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import { isUnrecoverable, type RetryPolicy } from "../domain/Action.ts"
import * as Job from "../domain/Job.ts"

const defaultDelay = Schedule.spaced("1 second")

/** A policy of any action, as the runtime applies it: to errors it cannot name. */
const anyPolicy = (policy: RetryPolicy<never>): RetryPolicy<unknown> => policy as RetryPolicy<unknown>

/**
 * The delay in ms before retrying after failed attempt `attempt` (1-based), or undefined if no retry is due.
 * The schedule is stepped `attempt` times, each step with `error` (the error of this attempt) as its input.
 */
export const retryDelayMillis = (policy: RetryPolicy<never>, attempt: number, error?: unknown): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    if (attempt >= policy.attempts) return undefined
    const step = yield* Schedule.toStep(anyPolicy(policy).schedule ?? defaultDelay)
    let delay: number | undefined
    for (let i = 0; i < attempt; i++) {
      const next = yield* Effect.exit(step(0, error))
      if (Exit.isFailure(next)) return undefined
      delay = Duration.toMillis(next.value[1])
    }
    return delay
  })

/** What retrying a failed job means: the payload of the next attempt, its queue, and when it may run. */
export interface NextAttempt {
  readonly attempt: number
  readonly delayMillis: number
  readonly queue: string
  readonly payload: string
}

/**
 * The next attempt of a failed job under `policy`, or undefined when no retry is due. With `failure` (the
 * typed error the run failed with) the policy decides on it: an unrecoverable error is never retried, `while`
 * may refuse it, the schedule gets it as input. Without one (a dead worker's job) only `attempts` and the
 * schedule apply. Recurring copies never retry: their chain schedules the next run instead. The next
 * attempt's metadata rides beside `args` when the job's did or the action has `plainArgs`.
 */
export const nextAttempt = (
  policy: RetryPolicy<never> | undefined,
  job: Job.ParsedJob,
  failure?: { readonly error: unknown },
  options?: { readonly plainArgs?: boolean | undefined }
): Effect.Effect<NextAttempt | undefined> =>
  Effect.gen(function*() {
    if (policy === undefined || job.meta.recurrence !== undefined) return undefined
    if (failure !== undefined) {
      if (isUnrecoverable(failure.error)) return undefined
      const accepts = anyPolicy(policy).while
      if (accepts !== undefined && !accepts(failure.error)) return undefined
    }
    const attempt = job.meta.attempt ?? 1
    const delayMillis = yield* retryDelayMillis(policy, attempt, failure?.error)
    if (delayMillis === undefined) return undefined
    return {
      attempt: attempt + 1,
      delayMillis,
      queue: job.queue,
      payload: attemptPayload(job, attempt + 1, options)
    }
  })

/**
 * The payload of a job's attempt `attempt`: the same job, its metadata (id, fan-out, ...) kept, beside `args`
 * when the job's was or the action has `plainArgs`.
 */
export const attemptPayload = (job: Job.ParsedJob, attempt: number, options?: { readonly plainArgs?: boolean | undefined }): string =>
  Job.encode(job.queue, job.action, job.inputs, { ...job.meta, attempt }, { besideArgs: job.metaBesideArgs === true || options?.plainArgs === true })

/**
 * Where a retry goes: on its queue now when it has no delay, else delayed until `now + delay` (filed under
 * the first whole second at or after it: never early, see `Enqueue.pushNotBefore`).
 *
 * @category constructors
 */
export const target = (next: NextAttempt, now: number) =>
  next.delayMillis <= 0
    ? { queue: next.queue, payload: next.payload }
    : { queue: next.queue, payload: next.payload, at: now + next.delayMillis }
