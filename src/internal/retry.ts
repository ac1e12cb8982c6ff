/**
 * Retry delays from an action's {@link RetryPolicy}: the delay before attempt `n + 1` is the n-th delay the
 * policy's Schedule produces. No more retries once `attempts` runs were made or the Schedule ends.
 */
import { Duration, Effect, Exit, Schedule } from "effect"
import type { RetryPolicy } from "../domain/Action.ts"

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
