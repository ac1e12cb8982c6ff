/**
 * Pausing a queue: workers take none of its jobs until it is resumed; its jobs stay where they are. The
 * paused queues are a hash of our own (`Keys.paused`, queue name -> epoch ms it was paused at) that the
 * pick scripts read with the queues they pick from, so a pause costs no round trip per job, holds for every
 * worker of every process at once, and survives restarts (it lives in Redis, not in a worker). Other Resque
 * clients do not read it: their workers still take the queue's jobs.
 *
 * @since 0.3.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { InvalidQueue } from "../domain/Errors.ts"
import type * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import * as Enqueue from "./Enqueue.ts"
import type { Context } from "./Operations.ts"

/** A queue's own name: not empty and not `*`. */
const checked = (queue: string) => (queue === "" || queue === "*" ? Effect.fail(new InvalidQueue({ queue })) : Effect.succeed(queue))

/** The pause operations on a context. */
export const make = ({ redis, keys }: Context) => {
  /**
   * Pauses a queue (known or not yet): one MULTI. It stays in the set of queues, so `*` workers and listings
   * still see it. Answers whether it was running until now.
   */
  const pauseQueue = (queue: string) =>
    Effect.gen(function*() {
      const name = yield* checked(queue)
      const now = yield* Clock.currentTimeMillis
      const [added] = yield* redis.multi([["hsetnx", keys.paused, name, now], ["sadd", keys.queues, name]])
      return Resque.count(added) === 1
    })

  /**
   * Resumes a paused queue and wakes the idle workers, so its jobs start at once: one MULTI. Answers whether
   * it was paused.
   */
  const resumeQueue = (queue: string) =>
    Effect.gen(function*() {
      const name = yield* checked(queue)
      const [removed] = yield* redis.multi([["hdel", keys.paused, name], ...Enqueue.wake(keys, name)])
      return Resque.count(removed) === 1
    })

  /** The paused queues and when each was paused, by name: one `HGETALL`. */
  const pausedQueues = Effect.map(redis.send<Record<string, unknown> | null>("hgetall", keys.paused), (hash) =>
    Object.entries(hash ?? {})
      .map(([queue, at]): Ops.PausedQueue => ({ queue, pausedAt: Resque.count(at) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0)))

  return { pauseQueue, resumeQueue, pausedQueues }
}
