/**
 * Fan-out storage in Redis and the worker middleware that records children.
 *
 * Keys (under the runtime's namespace): `fanout:{id}`, a hash of `total`, `completed`, `failed`, `ttl`,
 * `actions`, `queues`, `createdAt`, the `onComplete` job (payload prefix and queue) and the `done` flag; and
 * `fanout:{id}:outcomes`, a hash of child index -> compact outcome (status, action, inputs, result or error).
 *
 * Round trips: each enqueue batch is one MULTI (the meta hash rides in the first one); recording a child is
 * one script inside the worker's completion MULTI (zero extra round trips); a status read is one MULTI.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Schedule } from "effect"
import type { Redis as IORedis } from "ioredis"
import { RedisError } from "../domain/Errors.ts"
import * as FanOut from "../domain/FanOut.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Payload from "../domain/Payload.ts"
import { fanOutRecorder, queueRecord, record } from "../internal/fanOutRecord.ts"
import { addPush } from "./Queue.ts"
import { actionStats, type Middleware, WorkerMiddleware } from "./WorkerMiddleware.ts"

export { fanOutRecorder, record as recordScript }

/**
 * Puts the fan-out recorder in the worker middleware list. It is there by default; use this layer when you
 * provide a list of your own, so fan-outs never wait forever for children nobody records.
 *
 * @category layers
 */
export const layer = (others: ReadonlyArray<Middleware> = [actionStats]): Layer.Layer<never> =>
  Layer.succeed(WorkerMiddleware, [...others.filter((m) => m.name !== fanOutRecorder.name), fanOutRecorder])

/** A child ready to be written. @category models */
export interface Child {
  readonly index: number
  readonly action: string
  readonly queue: string
  /** Inputs as encoded by the action's Schema (also stored with a "not enqueued" outcome). */
  readonly inputs: unknown
  readonly payload: string
}

/** A child whose batch could not be written. @category models */
export interface Unwritten {
  readonly child: Child
  readonly message: string
}

/** Safe message of anything thrown (mock errors may not stringify). */
export const errorMessage = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") return error.message
  try {
    return String(error)
  } catch {
    return "unknown error"
  }
}

const redisError = (op: string) => (cause: unknown) => new RedisError({ op, cause: cause instanceof Error ? cause : errorMessage(cause) })

/** An error Redis replied with (WRONGTYPE, OOM...): deterministic, so never retried. */
const isReplyError = (error: unknown): boolean =>
  (error instanceof Error && error.name === "ReplyError") ||
  /^(ERR|WRONGTYPE|EXECABORT|OOM|NOSCRIPT|READONLY|BUSY|NOPERM|MISCONF|LOADING)\b/.test(errorMessage(error))

/** Retries transport failures (connection lost, timeout) a couple of times; never a Redis reply error. */
const transportRetry = {
  schedule: Schedule.exponential("50 millis"),
  times: 2,
  while: (error: RedisError) => !isReplyError(error.cause)
} as const

/**
 * What became of one batch. `unwritten` lists children known not to be in their queue (a per-command error)
 * or possibly not (the whole MULTI failed: `failed` is set, and the children may or may not have landed).
 */
export interface BatchOutcome {
  readonly unwritten: ReadonlyArray<Unwritten>
  readonly failed?: RedisError
}

/**
 * Writes one batch of children in one MULTI: the meta hash first if given, then per queue `SADD queues` and
 * one multi-value `RPUSH`, then the meta expiry. A transport failure is retried (a child written twice is
 * still counted once: outcomes are keyed by index). Never fails: it reports what was not written.
 */
export const writeBatch = (
  client: IORedis,
  keys: Keys,
  fanOutId: string,
  children: ReadonlyArray<Child>,
  ttlMillis: number,
  meta?: Readonly<Record<string, string | number>>
): Effect.Effect<BatchOutcome> => {
  const byQueue = new Map<string, Array<Child>>()
  for (const child of children) {
    const list = byQueue.get(child.queue)
    if (list === undefined) byQueue.set(child.queue, [child])
    else list.push(child)
  }
  const groups = [...byQueue.entries()]
  const metaKey = keys.fanOut(fanOutId)
  const send = Effect.suspend(() => {
    const tx = client.multi()
    if (meta !== undefined) tx.hset(metaKey, meta)
    for (const [queue, list] of groups) addPush(tx, keys, queue, list.map((child) => child.payload))
    tx.pexpire(metaKey, ttlMillis)
    return Effect.tryPromise({ try: () => tx.exec(), catch: redisError("fan-out batch") }).pipe(
      Effect.flatMap((replies) =>
        replies === null ? Effect.fail(new RedisError({ op: "fan-out batch", cause: "transaction aborted" })) : Effect.succeed(replies)
      )
    )
  }).pipe(Effect.retry(transportRetry))
  return send.pipe(
    Effect.map((replies): BatchOutcome => {
      let at = 0
      if (meta !== undefined) {
        const [error] = replies[at++] ?? [null]
        if (error) return { unwritten: unwrittenAll(children, error), failed: redisError("write fan-out metadata")(error) }
      }
      const unwritten: Array<Unwritten> = []
      for (const [, list] of groups) {
        at++ // SADD queues
        const [error] = replies[at++] ?? [null]
        if (error) for (const child of list) unwritten.push({ child, message: `not enqueued: ${errorMessage(error)}` })
      }
      return { unwritten }
    }),
    Effect.catch((error) => Effect.succeed({ unwritten: unwrittenAll(children, error.cause), failed: error }))
  )
}

const unwrittenAll = (children: ReadonlyArray<Child>, error: unknown): ReadonlyArray<Unwritten> =>
  children.map((child) => ({ child, message: `not enqueued: ${errorMessage(error)}` }))

/** Whether the meta hash exists (after an ambiguous first batch). */
export const exists = (client: IORedis, keys: Keys, fanOutId: string): Effect.Effect<boolean, RedisError> =>
  Effect.tryPromise({ try: () => client.hexists(keys.fanOut(fanOutId), "total"), catch: redisError("read fan-out") }).pipe(
    Effect.map((n) => n === 1)
  )

/**
 * Writes a fan-out with no children: the meta hash already done, and its `onComplete` job, in one MULTI.
 */
export const writeEmpty = (
  client: IORedis,
  keys: Keys,
  fanOutId: string,
  ttlMillis: number,
  meta: Readonly<Record<string, string | number>>,
  onComplete: { readonly queue: string; readonly payload: string } | undefined
): Effect.Effect<void, RedisError> =>
  Effect.suspend(() => {
    const tx = client.multi().hset(keys.fanOut(fanOutId), meta).pexpire(keys.fanOut(fanOutId), ttlMillis)
    if (onComplete !== undefined) addPush(tx, keys, onComplete.queue, [onComplete.payload])
    return Effect.tryPromise({ try: () => tx.exec(), catch: redisError("write fan-out") })
  }).pipe(Effect.asVoid)

/**
 * Records children that were not enqueued as failed, through the recording script (so the fan-out finishes
 * and fires `onComplete` when they were the last ones), in one pipeline.
 */
export const recordUnwritten = (
  client: IORedis,
  keys: Keys,
  fanOutId: string,
  unwritten: ReadonlyArray<Unwritten>,
  now: number
): Effect.Effect<void, RedisError> =>
  unwritten.length === 0 ? Effect.void : Effect.suspend(() => {
    record.define(client)
    const pipeline = client.pipeline()
    for (const { child, message } of unwritten) {
      queueRecord(client, pipeline, keys, fanOutId, child.index, FanOut.encodeFailure(child.action, child.inputs, message), now, true)
    }
    return Effect.tryPromise({ try: () => pipeline.exec(), catch: redisError("record unwritten children") })
  }).pipe(Effect.retry(transportRetry), Effect.asVoid)

/** The raw stored state of a fan-out, read in one MULTI. @category models */
export interface Stored {
  readonly meta: Readonly<Record<string, string>>
  readonly outcomes: Readonly<Record<string, string>>
}

/** Reads the meta and outcomes hashes atomically; `undefined` when the fan-out does not exist. */
export const readStored = (client: IORedis, keys: Keys, fanOutId: string): Effect.Effect<Stored | undefined, RedisError> =>
  Effect.tryPromise({
    try: () => client.multi().hgetall(keys.fanOut(fanOutId)).hgetall(keys.fanOutOutcomes(fanOutId)).exec(),
    catch: (cause) => new RedisError({ op: "read fan-out", cause })
  }).pipe(
    Effect.flatMap((replies) => {
      const [metaReply, outcomesReply] = replies ?? []
      const failed = metaReply?.[0] ?? outcomesReply?.[0]
      if (replies === null || failed) return Effect.fail(new RedisError({ op: "read fan-out", cause: failed ?? "aborted" }))
      const meta = (metaReply?.[1] ?? {}) as Record<string, string>
      if (meta["total"] === undefined) return Effect.succeed(undefined)
      return Effect.succeed({ meta, outcomes: (outcomesReply?.[1] ?? {}) as Record<string, string> })
    })
  )

/** Counts only (one HMGET), for polling; `undefined` when the fan-out does not exist. */
export const readCounts = (
  client: IORedis,
  keys: Keys,
  fanOutId: string
): Effect.Effect<{ readonly total: number; readonly finished: number } | undefined, RedisError> =>
  Effect.tryPromise({
    try: () => client.hmget(keys.fanOut(fanOutId), "total", "completed", "failed"),
    catch: (cause) => new RedisError({ op: "read fan-out counts", cause })
  }).pipe(
    Effect.map(([total, completed, failed]) =>
      total === null || total === undefined
        ? undefined
        : { total: Number(total), finished: Number(completed ?? 0) + Number(failed ?? 0) }
    )
  )

/**
 * Records the fan-out children among jobs removed from a queue (by an operator) as failed with `reason`, in
 * one pipeline, so their parent never waits for a child that will not run. Only children without an outcome
 * are recorded; other payloads are ignored (no round trip when there is no fan-out child among them).
 *
 * @category commands
 */
export const recordRemoved = (
  client: IORedis,
  keys: Keys,
  payloads: ReadonlyArray<string>,
  reason: string,
  now: number
): Effect.Effect<number, RedisError> =>
  Effect.suspend(() => {
    const children = payloads.flatMap((raw) => {
      const parsed = Payload.parse(raw)
      if (parsed._tag === "Failure") return []
      const { action, inputs, meta } = parsed.success
      return meta.fanOut === undefined || meta.index === undefined ? [] : [{ fanOutId: meta.fanOut, index: meta.index, action, inputs }]
    })
    if (children.length === 0) return Effect.succeed(0)
    record.define(client)
    const pipeline = client.pipeline()
    for (const child of children) {
      queueRecord(client, pipeline, keys, child.fanOutId, child.index, FanOut.encodeFailure(child.action, child.inputs, reason), now, true)
    }
    return Effect.tryPromise({ try: () => pipeline.exec(), catch: redisError("record removed fan-out children") }).pipe(
      Effect.as(children.length)
    )
  })
