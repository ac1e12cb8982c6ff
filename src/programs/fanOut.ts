/**
 * Fan-out programs: distribute work across child jobs (`fanOut`), read where they stand (`fanOutStatus`),
 * and wait for the last one (`awaitFanOut`). The `Actions` service exposes them with typed overloads; these
 * are the untyped engines, which need the {@link Redis} and {@link ActionRegistry} services.
 *
 * @example
 * const { fanOutId } = yield* actions.fanOut(resize, images.map((url) => ({ url })), undefined, { onComplete: notify })
 * const status = yield* actions.awaitFanOut(fanOutId, { timeout: "5 minutes" })
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { Array as Arr, Clock, Duration, Effect, Schema } from "effect"
import type * as Action from "../domain/Action.ts"
import { InvalidInputs, type RedisError, type UnknownAction } from "../domain/Errors.ts"
import * as FanOut from "../domain/FanOut.ts"
import * as Payload from "../domain/Payload.ts"
import { ActionRegistry, type Entry } from "../layers/ActionRegistry.ts"
import * as Store from "../layers/FanOut.ts"
import { Redis } from "../layers/Redis.ts"

/** Why a whole fan-out was refused (nothing written). @category errors */
export type FanOutError = RedisError | UnknownAction | InvalidInputs | FanOut.FanOutInvalidOptions

/** Why a status could not be read. @category errors */
export type StatusError = RedisError | FanOut.FanOutNotFound | FanOut.FanOutResultInvalid

/** Why waiting for a fan-out ended without its final status. @category errors */
export type AwaitError = StatusError | FanOut.FanOutTimeout | FanOut.FanOutInvalidOptions

/** Options plus the payload limit the `Actions` service enforces. @category models */
export interface RunOptions extends FanOut.Options {
  readonly maxPayloadBytes?: number
}

const defaultTtl = Duration.toMillis("10 minutes")

/** A whole number >= 1, or the default when not given. */
const count = (option: string, value: number | undefined, fallback: number) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isInteger(value) && value >= 1
    ? Effect.succeed(value)
    : Effect.fail(new FanOut.FanOutInvalidOptions({ option, detail: `expected a whole number >= 1, got ${value}` }))

/** A positive finite duration in ms (at least 1), or the default when not given. */
export const millis = (option: string, value: Duration.Input | undefined, fallback: number) =>
  Effect.suspend(() => {
    if (value === undefined) return Effect.succeed(fallback)
    let ms: number
    try {
      ms = Duration.toMillis(value)
    } catch (error) {
      return Effect.fail(new FanOut.FanOutInvalidOptions({ option, detail: error instanceof Error ? error.message : String(error) }))
    }
    return Number.isFinite(ms) && ms > 0
      ? Effect.succeed(Math.max(1, Math.round(ms)))
      : Effect.fail(new FanOut.FanOutInvalidOptions({ option, detail: `expected a positive finite duration, got ${String(value)}` }))
  })
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const nameOf = (action: Action.Any | string): string => (typeof action === "string" ? action : action.name)
const distinct = (values: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(values)]

/** The `onComplete` job: checked against its action's Schema before anything is written. */
const prepareCompletion = (registry: ActionRegistry["Service"], option: FanOut.Options["onComplete"], fanOutId: string) =>
  Effect.gen(function*() {
    if (option === undefined) return undefined
    const spec = typeof option === "string" || !("action" in option)
      ? { action: option, inputs: {}, queue: undefined }
      : { action: option.action, inputs: option.inputs ?? {}, queue: option.queue }
    const entry = yield* registry.get(nameOf(spec.action))
    const normalized = yield* entry.normalize({ ...spec.inputs, fanOutId, total: 0, completed: 0, failed: 0 })
    if (!isRecord(normalized)) {
      return yield* new InvalidInputs({ action: entry.action.name, detail: "onComplete inputs must be an object" })
    }
    const queue = spec.queue ?? entry.action.task?.queue ?? "default"
    return { queue, prefix: FanOut.completionPrefix(queue, entry.action.name, normalized) }
  })

/**
 * Enqueues one child job per input, in batches of one round trip each, and returns the fan-out id. Every
 * input is checked against its action's Schema first: invalid ones are reported in `errors` and not counted;
 * an unknown action fails the whole call before anything is written.
 *
 * @category programs
 */
export const fanOut = Effect.fn("fanOut")(function*(jobs: ReadonlyArray<FanOut.Job>, options: RunOptions = {}) {
  const registry = yield* ActionRegistry
  const { client, keys } = yield* Redis
  const ttlMillis = yield* millis("resultTtl", options.resultTtl, defaultTtl)
  const batchSize = yield* count("batchSize", options.batchSize, 100)
  const concurrency = yield* count("concurrency", options.concurrency, 4)
  const entries = new Map<string, Entry>()
  for (const job of jobs) {
    const name = nameOf(job.action)
    if (!entries.has(name)) entries.set(name, yield* registry.get(name))
  }
  const fanOutId = options.id ?? randomUUID()
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(fanOutId)) {
    return yield* new FanOut.FanOutInvalidOptions({ option: "id", detail: "expected 1 to 200 letters, digits or _ . : -" })
  }
  const completion = yield* prepareCompletion(registry, options.onComplete, fanOutId)
  const limit = options.maxPayloadBytes ?? 512 * 1024

  const errors: Array<FanOut.EnqueueError> = []
  const children: Array<Store.Child> = []
  for (let index = 0; index < jobs.length; index++) {
    const job = jobs[index]!
    const entry = entries.get(nameOf(job.action))!
    const action = entry.action.name
    // the synchronous Schema path first (an Effect per child costs more than the child's whole encoding);
    // the Effect path only for the children it cannot settle, to report their exact error
    const fast = entry.normalizeSync(job.inputs)
    const normalized = fast === undefined ? yield* Effect.result(entry.normalize(job.inputs)) : undefined
    if (normalized?._tag === "Failure") {
      errors.push({ index, action, reason: "InvalidInputs", message: normalized.failure.message })
      continue
    }
    const inputs = fast !== undefined ? fast.value : normalized?.success
    if (!isRecord(inputs)) {
      // the fan-out id rides inside the inputs object: without one the child could never be recorded
      errors.push({ index, action, reason: "InvalidInputs", message: `invalid inputs for ${action}: a fan-out child's inputs must be an object` })
      continue
    }
    const queue = job.queue ?? entry.action.task?.queue ?? "default"
    const payload = Payload.encode(queue, action, inputs, { fanOut: fanOutId, index })
    const bytes = Buffer.byteLength(payload)
    if (bytes > limit) {
      errors.push({ index, action, reason: "PayloadTooLarge", message: `payload for ${action} is ${bytes} bytes, over the limit of ${limit}` })
      continue
    }
    children.push({ index, action, queue, inputs, payload })
  }

  const actionNames = distinct(jobs.map((job) => entries.get(nameOf(job.action))!.action.name))
  const queues = distinct(children.map((child) => child.queue))
  const now = yield* Clock.currentTimeMillis
  const meta: Record<string, string | number> = {
    total: children.length,
    completed: 0,
    failed: 0,
    ttl: ttlMillis,
    actions: JSON.stringify(actionNames),
    queues: JSON.stringify(queues),
    createdAt: now,
    ...(completion === undefined ? {} : { onComplete: completion.prefix, onCompleteQueue: completion.queue })
  }

  const conflict = (existing: number) =>
    new FanOut.FanOutInvalidOptions({ option: "id", detail: `fan-out ${fanOutId} exists with ${existing} children, not ${children.length}` })

  if (children.length === 0) {
    // an empty fan-out is done at once: its onComplete is pushed with the meta hash, only if it is created
    const outcome = yield* Store.writeBatch(client, keys, fanOutId, [], ttlMillis, {
      meta: { ...meta, done: now },
      total: 0,
      onCreate: completion && {
        queue: completion.queue,
        payload: FanOut.completionPayload(completion.prefix, { fanOutId, total: 0, completed: 0, failed: 0 })
      }
    })
    if (outcome.failed !== undefined) return yield* outcome.failed
    if (outcome.conflict !== undefined) return yield* conflict(outcome.conflict)
    return { fanOutId, actionNames, queues, total: 0, enqueued: 0, errors } satisfies FanOut.FanOutResult
  }

  // The meta hash rides in the first batch, and that batch lands before any other is sent: no child can
  // finish before its fan-out exists (it would be recorded as expired, and the fan-out would never finish).
  const [first, ...rest] = Arr.chunksOf(children, batchSize)
  const firstOutcome = yield* Store.writeBatch(client, keys, fanOutId, first!, ttlMillis, { meta, total: children.length })
  if (firstOutcome.conflict !== undefined) return yield* conflict(firstOutcome.conflict)
  // the first batch failed as a whole: go on only if its meta hash landed, else nothing is tracked
  if (firstOutcome.failed !== undefined && !(yield* Store.exists(client, keys, fanOutId))) return yield* firstOutcome.failed
  const restOutcomes = yield* Effect.forEach(rest, (batch) => Store.writeBatch(client, keys, fanOutId, batch, ttlMillis), {
    concurrency
  })
  const unwrittenFirst = firstOutcome.unwritten
  const unwrittenRest = restOutcomes.map((outcome) => outcome.unwritten)
  const unwritten = [...unwrittenFirst, ...unwrittenRest.flat()]
  if (unwritten.length > 0) {
    yield* Store.recordUnwritten(client, keys, fanOutId, unwritten, yield* Clock.currentTimeMillis)
    for (const { child, message } of unwritten) errors.push({ index: child.index, action: child.action, reason: "NotEnqueued", message })
    errors.sort((a, b) => a.index - b.index)
  }
  return {
    fanOutId,
    actionNames,
    queues,
    total: children.length,
    enqueued: children.length - unwritten.length,
    errors
  } satisfies FanOut.FanOutResult
})

const parseList = (raw: string | undefined): ReadonlyArray<string> => {
  try {
    const parsed: unknown = JSON.parse(raw ?? "[]")
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : []
  } catch {
    return []
  }
}

/**
 * Reads a fan-out's counts, results and errors in one atomic step. Results are decoded with each child
 * action's `output` Schema when it has one. Unknown or expired id: {@link FanOut.FanOutNotFound}.
 *
 * @category programs
 */
export const fanOutStatus = Effect.fn("fanOutStatus")(function*(fanOutId: string) {
  const registry = yield* ActionRegistry
  const { client, keys } = yield* Redis
  const stored = yield* Store.readStored(client, keys, fanOutId)
  if (stored === undefined) return yield* new FanOut.FanOutNotFound({ fanOutId })
  const { meta } = stored
  const results: Array<FanOut.ChildResult> = []
  const errors: Array<FanOut.ChildError> = []
  for (const [field, raw] of Object.entries(stored.outcomes)) {
    const index = Number(field)
    const outcome = FanOut.decodeOutcome(raw)
    if (outcome === undefined || !Number.isInteger(index)) continue
    if (!outcome.ok) {
      errors.push({ index, action: outcome.action, inputs: outcome.inputs, error: String(outcome.value) })
      continue
    }
    const output = registry.entries.get(outcome.action)?.action.output
    const result = output === undefined ? outcome.value : yield* Schema.decodeUnknownEffect(output)(outcome.value).pipe(
      Effect.mapError((error) => new FanOut.FanOutResultInvalid({ fanOutId, index, detail: error.message }))
    )
    results.push({ index, action: outcome.action, inputs: outcome.inputs, result })
  }
  results.sort((a, b) => a.index - b.index)
  errors.sort((a, b) => a.index - b.index)
  const total = Number(meta["total"] ?? 0)
  const completed = Number(meta["completed"] ?? 0)
  const failed = Number(meta["failed"] ?? 0)
  return {
    fanOutId,
    total,
    completed,
    failed,
    pending: Math.max(0, total - completed - failed),
    done: completed + failed >= total,
    actionNames: parseList(meta["actions"]),
    queues: parseList(meta["queues"]),
    createdAt: Number(meta["createdAt"] ?? 0),
    results,
    errors
  } satisfies FanOut.FanOutStatus
})

/**
 * Waits until every child has an outcome, then returns the final status. Polls the counts only (one HMGET),
 * backing off from 25 ms to `maxPollInterval`; the full status is read once, at the end. Fails with
 * {@link FanOut.FanOutTimeout} after `timeout`, {@link FanOut.FanOutNotFound} if the fan-out is unknown or
 * expires while waiting.
 *
 * @category programs
 */
export const awaitFanOut = Effect.fn("awaitFanOut")(function*(fanOutId: string, options: FanOut.AwaitOptions = {}) {
  const { client, keys } = yield* Redis
  const maxPoll = yield* millis("maxPollInterval", options.maxPollInterval, 1000)
  const timeout = options.timeout === undefined ? undefined : yield* millis("timeout", options.timeout, 0)
  let last = { total: 0, finished: 0 }
  const wait = Effect.gen(function*() {
    let pause = 25
    // ends when the fan-out is done or gone (its keys expire): bounded by its TTL, or by the timeout
    while (true) {
      const counts = yield* Store.readCounts(client, keys, fanOutId)
      if (counts === undefined) return yield* new FanOut.FanOutNotFound({ fanOutId })
      last = counts
      if (counts.finished >= counts.total) return
      yield* Effect.sleep(pause)
      pause = Math.min(maxPoll, Math.ceil(pause * 1.5))
    }
  })
  if (timeout === undefined) {
    yield* wait
  } else {
    yield* Effect.timeoutOrElse(wait, {
      duration: timeout,
      orElse: () => Effect.fail(new FanOut.FanOutTimeout({ fanOutId, millis: timeout, total: last.total, finished: last.finished }))
    })
  }
  return yield* fanOutStatus(fanOutId)
})

/** A typed child of a multi-action fan-out (same as `FanOut.job`). @category constructors */
export const job = FanOut.job
