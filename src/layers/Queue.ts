/**
 * The Resque queue: node-resque's `Queue` on the runtime's Redis connection (for inspection and the failed-job
 * API), plus the write paths the runtime uses, each one round trip: a MULTI of `SADD queues` and one
 * multi-value `RPUSH` for any number of jobs, and the delayed-job write Resque's scheduler reads.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { ChainableCommander } from "ioredis"
import { Queue as NodeResqueQueue } from "node-resque"
import { RedisError } from "../domain/Errors.ts"
import type { Keys } from "../domain/Keys.ts"
import { Redis } from "./Redis.ts"

/**
 * The queue service.
 *
 * @category services
 */
export class ResqueQueue extends Context.Service<ResqueQueue, {
  /** node-resque's Queue, sharing the runtime's connection. */
  readonly queue: NodeResqueQueue
  /** Appends payloads to a queue (registering the queue) in one round trip. */
  readonly push: (queue: string, payloads: ReadonlyArray<string>) => Effect.Effect<void, RedisError>
  /** Schedules a payload for `timestampMs` (rounded to the second, as Resque does) in one round trip. */
  readonly pushAt: (timestampMs: number, payload: string) => Effect.Effect<void, RedisError>
}>()("effect-resque/Queue") {}

/**
 * Adds the commands that enqueue `payloads` on `queue` to a MULTI or pipeline.
 *
 * @category commands
 */
export const addPush = (
  chain: ChainableCommander,
  keys: Keys,
  queue: string,
  payloads: ReadonlyArray<string>
): ChainableCommander =>
  payloads.length === 0 ? chain : chain.sadd(keys.queues, queue).rpush(keys.queue(queue), ...payloads)

/**
 * Adds the commands that schedule `payload` at `timestampMs` to a MULTI or pipeline: the same three writes as
 * node-resque's `enqueueAt`, so its scheduler (and Ruby's resque-scheduler) promote the job.
 *
 * @category commands
 */
export const addPushAt = (
  chain: ChainableCommander,
  keys: Keys,
  timestampMs: number,
  payload: string
): ChainableCommander => {
  const seconds = Math.round(timestampMs / 1000)
  return chain
    .rpush(keys.delayed(seconds), payload)
    .sadd(keys.timestamps(payload), `delayed:${seconds}`)
    .zadd(keys.delayedSchedule, seconds, String(seconds))
}

/**
 * Runs a MULTI and fails with a {@link RedisError} if EXEC or any command in it failed.
 *
 * @category commands
 */
export const exec = (op: string, chain: ChainableCommander): Effect.Effect<ReadonlyArray<unknown>, RedisError> =>
  Effect.tryPromise({ try: () => chain.exec(), catch: (cause) => new RedisError({ op, cause }) }).pipe(
    Effect.flatMap((replies) => {
      if (replies === null) return Effect.fail(new RedisError({ op, cause: "transaction aborted" }))
      const failed = replies.find(([error]) => error !== null)
      return failed ? Effect.fail(new RedisError({ op, cause: failed[0] })) : Effect.succeed(replies.map(([, r]) => r))
    })
  )

/**
 * Runs one Redis call as an Effect with a typed error.
 *
 * @category commands
 */
export const call = <A>(op: string, f: () => Promise<A>): Effect.Effect<A, RedisError> =>
  Effect.tryPromise({ try: f, catch: (cause) => new RedisError({ op, cause }) })

/**
 * The queue layer, on the {@link Redis} layer.
 *
 * @category layers
 */
export const layer: Layer.Layer<ResqueQueue, RedisError, Redis> = Layer.effect(
  ResqueQueue,
  Effect.gen(function*() {
    const { client, keys, pkg } = yield* Redis
    const queue = new NodeResqueQueue({ connection: { redis: client, pkg, namespace: keys.namespace } })
    // node-resque re-emits connection errors; the commands that fail report them as typed errors
    queue.on("error", () => {})
    yield* Effect.acquireRelease(
      call("connect queue", () => queue.connect()),
      () => Effect.promise(() => queue.end()).pipe(Effect.ignore)
    )
    return ResqueQueue.of({
      queue,
      push: (name, payloads) =>
        payloads.length === 0 ? Effect.void : exec(`enqueue on ${name}`, addPush(client.multi(), keys, name, payloads)),
      pushAt: (timestampMs, payload) => exec("enqueue delayed job", addPushAt(client.multi(), keys, timestampMs, payload))
    })
  })
)
