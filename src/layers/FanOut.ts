/**
 * Fan-out storage in Redis and the worker middleware that records children.
 *
 * Keys (under the runtime's namespace): `fanout:{id}`, a hash of `total`, `completed`, `failed`, `ttl`,
 * `actions`, `queues`, `createdAt`, the `onComplete` job (payload prefix and queue), the `done` flag and one
 * `b{first index}` marker per written batch; and `fanout:{id}:outcomes`, a hash of child index -> compact
 * outcome (status, action, inputs, result or error).
 *
 * Round trips: each enqueue batch is one script call (the meta hash rides in the first one); recording a
 * child is one script inside the worker's completion MULTI (zero extra round trips); a status read is one
 * MULTI.
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
import * as Script from "../internal/script.ts"
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

/** An error Redis replied with (WRONGTYPE, OOM, a script error...): deterministic, so never retried. */
const isReplyError = (error: unknown): boolean =>
  (error instanceof Error && error.name === "ReplyError") ||
  /^(ERR|WRONGTYPE|EXECABORT|OOM|NOSCRIPT|READONLY|BUSY|NOPERM|MISCONF|LOADING)\b|lua/i.test(errorMessage(error))

/** Retries transport failures (connection lost, timeout) a couple of times; never a Redis reply error. */
const transportRetry = {
  schedule: Schedule.exponential("50 millis"),
  times: 2,
  while: (error: RedisError) => !isReplyError(error.cause)
} as const

/**
 * Writes one batch, atomically and idempotently: creates the meta hash if this is the first batch and it
 * does not exist yet (else checks that its `total` matches: a re-run of the same fan-out), pushes the
 * `onCreate` job with it (the `onComplete` of an empty fan-out), then, unless the batch's marker is already
 * set (written by an earlier run), `SADD queues` + `RPUSH` per queue and sets the marker. Slides the TTL.
 * KEYS: meta, queues set. ARGV: marker, ttl ms, queue key prefix, meta pair count (0: not the first batch),
 * total, onCreate queue ("" for none), onCreate payload, meta pairs..., then per queue: name, count, payloads...
 * Returns 1 (written), 0 (already written), -1 (meta missing: expired), -2 (meta exists with another total).
 */
export const batchScript = Script.make(
  "fanOutBatch",
  2,
  `
local unpack = unpack or table.unpack
local pairs = tonumber(ARGV[4])
local at = 8
if pairs > 0 then
  local existing = redis.call('hget', KEYS[1], 'total')
  if existing then
    if existing ~= ARGV[5] then return -2 end
  else
    redis.call('hset', KEYS[1], unpack(ARGV, at, at + 2 * pairs - 1))
    if ARGV[6] ~= '' then
      redis.call('sadd', KEYS[2], ARGV[6])
      redis.call('rpush', ARGV[3] .. ARGV[6], ARGV[7])
    end
  end
  at = at + 2 * pairs
elseif redis.call('exists', KEYS[1]) == 0 then
  return -1
end
redis.call('pexpire', KEYS[1], ARGV[2])
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 then return 0 end
while at <= #ARGV do
  local q = ARGV[at]
  local n = tonumber(ARGV[at + 1])
  at = at + 2
  redis.call('sadd', KEYS[2], q)
  local i = 0
  while i < n do
    local j = math.min(i + 1000, n)
    redis.call('rpush', ARGV[3] .. q, unpack(ARGV, at + i, at + j - 1))
    i = j
  end
  at = at + n
end
redis.call('hset', KEYS[1], ARGV[1], '1')
return 1
`
)

/** The first batch's extras: the meta hash, and a job to push when it is created. @category models */
export interface Creation {
  readonly meta: Readonly<Record<string, string | number>>
  readonly total: number
  readonly onCreate?: { readonly queue: string; readonly payload: string } | undefined
}

/**
 * What became of one batch. `unwritten` lists children known not to be in their queue, or possibly not
 * (`failed` is set: the call failed as a whole, and the children may or may not have landed). `conflict` is
 * the `total` of an existing fan-out of the same id that does not match.
 */
export interface BatchOutcome {
  readonly unwritten: ReadonlyArray<Unwritten>
  readonly failed?: RedisError
  readonly conflict?: number
}

/**
 * Writes one batch of children in one round trip (one EVALSHA of {@link batchScript}). The batch's marker
 * is its first child's index, so a re-run with the same id, inputs and batch size writes only the batches
 * an earlier run did not. A transport failure is retried (a child written twice is still counted once:
 * outcomes are keyed by index). Never fails: it reports what was not written.
 */
export const writeBatch = (
  client: IORedis,
  keys: Keys,
  fanOutId: string,
  children: ReadonlyArray<Child>,
  ttlMillis: number,
  creation?: Creation
): Effect.Effect<BatchOutcome> => {
  const byQueue = new Map<string, Array<string>>()
  for (const child of children) {
    const list = byQueue.get(child.queue)
    if (list === undefined) byQueue.set(child.queue, [child.payload])
    else list.push(child.payload)
  }
  const pairs = creation === undefined ? [] : Object.entries(creation.meta).flatMap(([k, v]) => [k, String(v)])
  const args: Array<string> = [
    `b${children[0]?.index ?? 0}`,
    String(ttlMillis),
    keys.queue(""),
    String(pairs.length / 2),
    String(creation?.total ?? ""),
    creation?.onCreate?.queue ?? "",
    creation?.onCreate?.payload ?? "",
    ...pairs
  ]
  for (const [queue, payloads] of byQueue) args.push(queue, String(payloads.length), ...payloads)
  return Effect.tryPromise({
    try: () => batchScript.run(client, [keys.fanOut(fanOutId), keys.queues], args),
    catch: redisError("fan-out batch")
  }).pipe(
    Effect.retry(transportRetry),
    Effect.flatMap((reply): Effect.Effect<BatchOutcome> => {
      if (reply === -2) {
        return Effect.map(
          Effect.promise(() => client.hget(keys.fanOut(fanOutId), "total")).pipe(Effect.catchDefect(() => Effect.succeed(null))),
          (total) => ({ unwritten: [], conflict: Number(total) })
        )
      }
      if (reply === -1) return Effect.succeed({ unwritten: unwrittenAll(children, "the fan-out expired while it was being enqueued") })
      return Effect.succeed({ unwritten: [] })
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
