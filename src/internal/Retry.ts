/**
 * Retry delays from an action's {@link RetryPolicy}: the delay before attempt `n + 1` is the n-th delay the
 * policy's Schedule produces. No more retries once `attempts` runs were made or the Schedule ends. Shared by
 * the worker (a run that failed) and the scheduler (a job reclaimed from a dead worker), so both follow one
 * policy.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Exit, Schedule } from "effect"
import type { RetryPolicy } from "../domain/Action.ts"
import * as Job from "../domain/Job.ts"

const defaultDelay = Schedule.spaced("1 second")

/** The delay in ms before retrying after failed attempt `attempt` (1-based), or undefined if no retry is due. */
export const retryDelayMillis = (policy: RetryPolicy, attempt: number): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    if (attempt >= policy.attempts) return undefined
    const step = yield* Schedule.toStep(policy.schedule ?? defaultDelay)
    let delay: number | undefined
    for (let i = 0; i < attempt; i++) {
      const next = yield* Effect.exit(step(0, undefined))
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
 * The next attempt of a failed job under `policy`, or undefined when no retry is due. Recurring copies never
 * retry: their chain schedules the next period instead.
 */
export const nextAttempt = (policy: RetryPolicy | undefined, job: Job.ParsedJob): Effect.Effect<NextAttempt | undefined> =>
  Effect.gen(function*() {
    if (policy === undefined || job.meta.recurrence !== undefined) return undefined
    const attempt = job.meta.attempt ?? 1
    const delayMillis = yield* retryDelayMillis(policy, attempt)
    if (delayMillis === undefined) return undefined
    return {
      attempt: attempt + 1,
      delayMillis,
      queue: job.queue,
      payload: Job.encode(job.queue, job.action, job.inputs, { ...job.meta, attempt: attempt + 1 })
    }
  })

/**
 * Where a retry goes: on its queue now when it has no delay, else delayed until `now + delay`.
 *
 * @category constructors
 */
export const target = (next: NextAttempt, now: number) =>
  next.delayMillis <= 0
    ? { queue: next.queue, payload: next.payload }
    : { queue: next.queue, payload: next.payload, at: now + next.delayMillis }
