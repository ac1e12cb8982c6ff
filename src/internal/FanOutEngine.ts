/**
 * The fan-out engine: distribute work across child jobs (`fanOut`), read where they stand (`status`), and
 * wait for the last one (`await`). The `Actions` service exposes them with typed signatures; these work on
 * any action by name, over the Redis seam.
 *
 * Round trips: each enqueue batch is one script call (the meta hash rides in the first one); recording a
 * child is part of the worker's completion script (zero extra round trips); a status read is one MULTI.
 *
 * @since 0.2.0
 */
import { randomUUID } from "node:crypto"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { type EnqueueRefused, InvalidInputs, type RedisError, type UnknownAction } from "../domain/Errors.ts"
import * as FanOut from "../domain/FanOut.ts"
import type * as Hooks from "../domain/Hooks.ts"
import * as Job from "../domain/Job.ts"
import * as JobControlDomain from "../domain/JobControl.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Entry } from "./ActionEntry.ts"
import type { Connection } from "./Connection.ts"
import * as FanOutDeadline from "./FanOutDeadline.ts"
import * as FanOutScripts from "./FanOutScripts.ts"
import * as JobControl from "./JobControl.ts"

/** Why a whole fan-out was refused (nothing written); `EnqueueRefused`: a hook refused its `onComplete`. @category errors */
export type FanOutError = RedisError | UnknownAction | InvalidInputs | FanOut.FanOutInvalidOptions | EnqueueRefused

/** Why a status could not be read. @category errors */
export type StatusError = RedisError | FanOut.FanOutNotFound | FanOut.FanOutResultInvalid

/** Why waiting for a fan-out ended without its final status. @category errors */
export type AwaitError = StatusError | FanOut.FanOutTimeout | FanOut.FanOutInvalidOptions

/** What the engine works with. */
export interface Context {
  readonly redis: Connection
  readonly keys: Keys
  readonly entry: (name: string) => Effect.Effect<Entry, UnknownAction>
  /** An entry by name when it is registered (results of unknown actions are given as stored). */
  readonly entryIfKnown: (name: string) => Entry | undefined
  readonly maxPayloadBytes: number
  /** The enqueue hooks (none when absent): run on every child and on the `onComplete` job. */
  readonly hooks?: Hooks.Composed | undefined
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
const nameOf = (action: FanOut.Job["action"]): string => (typeof action === "string" ? action : action.name)
const distinct = (values: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(values)]

/** An error Redis replied with (WRONGTYPE, OOM, a script error...): deterministic, so never retried. */
const isReplyError = (error: RedisError): boolean => {
  const cause = error.cause
  const message = cause instanceof Error ? cause.message : String(cause)
  return (cause instanceof Error && cause.name === "ReplyError") ||
    /^(ERR|WRONGTYPE|EXECABORT|OOM|NOSCRIPT|READONLY|BUSY|NOPERM|MISCONF|LOADING)\b/.test(message)
}

/**
 * Retries transport failures (connection lost) a couple of times; never a Redis reply error, nor a request
 * that got no reply in time (another try would cost another request timeout: the caller's bound).
 */
const transportRetry = {
  schedule: Schedule.exponential("50 millis"),
  times: 2,
  while: (error: RedisError) => !isReplyError(error) && error.timedOut !== true
} as const

/** The `onComplete` job: checked against its action's Schema before anything is written. */
const prepareCompletion = (context: Context, option: FanOut.Options["onComplete"], fanOutId: string) =>
  Effect.gen(function*() {
    if (option === undefined) return undefined
    const spec = typeof option === "string" || !("action" in option)
      ? { action: option, inputs: {}, queue: undefined }
      : { action: option.action, inputs: option.inputs ?? {}, queue: option.queue }
    const entry = yield* context.entry(nameOf(spec.action))
    const normalized = yield* entry.normalize({ ...spec.inputs, fanOutId, total: 0, completed: 0, failed: 0 })
    if (!isRecord(normalized)) {
      return yield* new InvalidInputs({ action: entry.name, detail: "onComplete inputs must be an object" })
    }
    const queue = spec.queue ?? entry.queue
    const onEnqueue = context.hooks?.onEnqueue
    const headers = onEnqueue === undefined ? undefined : yield* onEnqueue({ action: entry.name, queue, inputs: normalized, completion: true })
    // the hooks' headers ride in the onComplete payload's `_job`, like any job's
    const inputs = headers === undefined ? normalized : { ...normalized, [Job.META_KEY]: { headers } }
    return { queue, prefix: FanOut.completionPrefix(queue, entry.name, inputs) }
  })

/** How the children of one action are unique: their key (default: a digest of the inputs), mode, window, record TTL. */
interface UniqueSpec {
  readonly key: ((inputs: unknown) => string) | undefined
  readonly mode: JobControlDomain.UniqueMode
  readonly windowMillis: number
  /** The record's TTL before the window is considered (the fan-out's `track`, else the action's, else 1 hour). */
  readonly trackMillis: number
}

/**
 * The uniqueness of each action's children: the fan-out's `unique` option (an object replaces the action's,
 * `false` none), else the action's own `unique` (its static key, if any, shared by all its children). Checked
 * once per action, before anything is written.
 */
const uniqueness = (options: FanOut.Options, entries: ReadonlyMap<string, Entry>) =>
  Effect.gen(function*() {
    const specs = new Map<string, UniqueSpec>()
    if (options.unique === false) return specs
    for (const entry of entries.values()) {
      const declared = entry.action.unique
      const asked = options.unique
      if (asked === undefined && declared === undefined) continue
      const window = asked === undefined ? declared!.window : asked.window
      const windowMillis = yield* millis("unique.window", window, JobControlDomain.defaultUniqueWindowMillis)
      const fixed = asked === undefined ? declared!.key : undefined
      const key = asked === undefined ? (fixed === undefined ? undefined : () => fixed) : asked.key
      const mode = (asked === undefined ? declared!.mode : asked.mode) ?? "until-done"
      if (mode !== "until-done" && mode !== "until-started" && mode !== "window") {
        return yield* new FanOut.FanOutInvalidOptions({ option: "unique.mode", detail: `expected until-done, until-started or window, got ${String(mode)}` })
      }
      const trackMillis = JobControl.trackMillis(options.track ?? entry.action.track) ?? JobControlDomain.defaultTrackMillis
      specs.set(entry.name, { key, mode, windowMillis, trackMillis })
    }
    return specs
  })

/** A child ready to be written. */
interface Child {
  readonly index: number
  readonly action: string
  readonly queue: string
  /** Inputs as encoded by the action's Schema (also stored with a "not enqueued" outcome). */
  readonly inputs: unknown
  readonly payload: string
  /** A unique child's claim and record (written by the batch script, which takes the claim). */
  readonly unique?: FanOutScripts.UniqueChild | undefined
}

/** A child whose batch could not be written. */
interface Unwritten {
  readonly child: Child
  readonly message: string
}

/**
 * What became of one batch. `unwritten` lists children known not to be in their queue, or possibly not
 * (`failed` is set: the call failed as a whole, and the children may or may not have landed). `conflict` is
 * the `total` of an existing fan-out of the same id that does not match.
 */
interface BatchOutcome {
  readonly unwritten: ReadonlyArray<Unwritten>
  readonly failed?: RedisError
  readonly conflict?: number
  /** Unique children not written because another job held their claim (recorded by the script). */
  readonly duplicates?: ReadonlyArray<FanOut.Duplicate>
}

const unwrittenAll = (children: ReadonlyArray<Child>, reason: string): ReadonlyArray<Unwritten> =>
  children.map((child) => ({ child, message: `not enqueued: ${reason}` }))

/** The payloads of the children that are not unique, by queue. */
const byQueue = (children: ReadonlyArray<Child>) => {
  const queues = new Map<string, Array<string>>()
  for (const child of children) {
    if (child.unique !== undefined) continue
    const list = queues.get(child.queue)
    if (list === undefined) queues.set(child.queue, [child.payload])
    else list.push(child.payload)
  }
  return [...queues]
}

/**
 * Writes one batch of children in one round trip. Its marker is its first child's index, so a re-run with
 * the same id, inputs and batch size writes only the batches an earlier run did not. A transport failure is
 * retried (a child written twice is still counted once: outcomes are keyed by index). Never fails: it
 * reports what was not written, and the unique children that were duplicates.
 */
const writeBatch = (
  context: Context,
  fanOutId: string,
  children: ReadonlyArray<Child>,
  ttlMillis: number,
  now: number,
  creation?: FanOutScripts.Creation
): Effect.Effect<BatchOutcome> => {
  const unique = children.flatMap((child) => (child.unique === undefined ? [] : [child.unique]))
  return context.redis.eval(FanOutScripts.writeBatch, {
    keys: context.keys,
    fanOutId,
    marker: `b${children[0]?.index ?? 0}`,
    ttlMillis,
    creation,
    queues: byQueue(children),
    unique,
    now
  }).pipe(
    Effect.retry(transportRetry),
    Effect.flatMap((reply): Effect.Effect<BatchOutcome> => {
      switch (reply.result) {
        case "conflict":
          return Effect.map(
            context.redis.send<string | null>("hget", context.keys.fanOut(fanOutId), "total").pipe(Effect.orElseSucceed(() => null)),
            (total) => ({ unwritten: [], conflict: Number(total) })
          )
        case "expired":
          return Effect.succeed({ unwritten: unwrittenAll(children, "the fan-out expired while it was being enqueued") })
        default: {
          if (reply.duplicates.length === 0) return Effect.succeed({ unwritten: [] })
          const actions = new Map(unique.map((child) => [child.index, child.action]))
          return Effect.succeed({
            unwritten: [],
            duplicates: reply.duplicates.map(({ index, jobId }) => ({ index, action: actions.get(index) ?? "", jobId }))
          })
        }
      }
    }),
    Effect.catch((error) => Effect.succeed({ unwritten: unwrittenAll(children, error.message), failed: error }))
  )
}

/**
 * Records children that were not enqueued as failed (so the fan-out finishes, and fires `onComplete` when
 * they were the last ones), in one round trip; a copy that did reach Redis keeps its own outcome.
 */
const recordUnwritten = (context: Context, fanOutId: string, unwritten: ReadonlyArray<Unwritten>, now: number) =>
  unwritten.length === 0 ? Effect.void : context.redis.eval(FanOutScripts.recordChildren, {
    keys: context.keys,
    children: unwritten.map(({ child, message }) => ({
      fanOutId,
      index: child.index,
      outcome: FanOut.encodeFailure(child.action, child.inputs, { error: message, exception: "NotEnqueued" }),
      now,
      onlyIfAbsent: true
    }))
  }).pipe(Effect.retry(transportRetry), Effect.asVoid)

/** Checks and encodes every child: the valid ones, and the errors of the others. */
const prepareChildren = (
  jobs: ReadonlyArray<FanOut.Job>,
  entries: ReadonlyMap<string, Entry>,
  fanOutId: string,
  limit: number,
  onEnqueue: Hooks.Composed["onEnqueue"],
  trackMillis: number | undefined,
  uniqueOf: (entry: Entry) => UniqueSpec | undefined,
  keys: Keys
) =>
  Effect.gen(function*() {
    const errors: Array<FanOut.EnqueueError> = []
    const children: Array<Child> = []
    for (let index = 0; index < jobs.length; index++) {
      const job = jobs[index]!
      const entry = entries.get(nameOf(job.action))!
      const action = entry.name
      // the synchronous Schema path first (an Effect per child costs more than the child's whole encoding);
      // the Effect path only for the children it cannot settle, to report their exact error
      const fast = entry.normalizeSync(job.inputs)
      const normalized = fast === undefined ? yield* Effect.result(entry.normalize(job.inputs)) : undefined
      if (normalized !== undefined && Result.isFailure(normalized)) {
        errors.push({ index, action, reason: "InvalidInputs", message: normalized.failure.message })
        continue
      }
      const inputs = fast !== undefined ? fast.value : normalized?.success
      if (!isRecord(inputs)) {
        // the fan-out id rides inside the inputs object: without one the child could never be recorded
        errors.push({ index, action, reason: "InvalidInputs", message: `invalid inputs for ${action}: a fan-out child's inputs must be an object` })
        continue
      }
      const queue = job.queue ?? entry.queue
      let headers: Readonly<Record<string, string>> | undefined
      if (onEnqueue !== undefined) {
        // a refused child is left out of its batch; the other children are written
        const hooked = yield* Effect.result(onEnqueue({ action, queue, inputs, fanOut: { id: fanOutId, index } }))
        if (Result.isFailure(hooked)) {
          errors.push({ index, action, reason: "Refused", message: hooked.failure.message })
          continue
        }
        headers = hooked.success
      }
      // a tracked child's id leads its metadata (`Job.idNeedle`); a unique child is tracked, its record lasting
      // at least its window, and an `until-done` one carries its claim, which its completion releases
      const spec = uniqueOf(entry)
      const id = `${fanOutId}:${index}`
      const claim = spec === undefined ? undefined : keys.unique(action, spec.key === undefined ? JobControl.inputsKey(inputs) : spec.key(inputs))
      const recordMillis = spec === undefined ? undefined : Math.max(spec.trackMillis, spec.windowMillis)
      const own: Job.JobMeta = recordMillis !== undefined
        ? (spec!.mode === "until-done"
          ? { id, track: recordMillis, unique: claim!, fanOut: fanOutId, index }
          : { id, track: recordMillis, fanOut: fanOutId, index })
        : trackMillis === undefined
        ? { fanOut: fanOutId, index }
        : { id, track: trackMillis, fanOut: fanOutId, index }
      const meta: Job.JobMeta = headers === undefined ? own : { ...own, headers }
      const payload = Job.encode(queue, action, inputs, meta, { besideArgs: entry.action.task?.plainArgs })
      const bytes = Buffer.byteLength(payload)
      if (bytes > limit) {
        errors.push({ index, action, reason: "PayloadTooLarge", message: `payload for ${action} is ${bytes} bytes, over the limit of ${limit}` })
        continue
      }
      const unique: FanOutScripts.UniqueChild | undefined = spec === undefined ? undefined : {
        index,
        action,
        queue,
        payload,
        claim: claim!,
        mode: spec.mode,
        windowMillis: spec.windowMillis,
        id,
        ttlMillis: recordMillis!,
        outcomeHead: FanOut.outcomeHead(action, inputs)
      }
      children.push({ index, action, queue, inputs, payload, unique })
    }
    return { children, errors }
  })

/**
 * Enqueues one child job per input, in batches of one round trip each, and returns the fan-out id. Every
 * input is checked against its action's Schema first: invalid ones are reported in `errors` and not counted;
 * an unknown action fails the whole call before anything is written.
 *
 * @category programs
 */
export const fanOut = (context: Context, jobs: ReadonlyArray<FanOut.Job>, options: FanOut.Options = {}) =>
  Effect.gen(function*() {
    const deadlineMillis = options.deadline === undefined ? undefined : yield* millis("deadline", options.deadline, 0)
    const ttlMillis = yield* millis("resultTtl", options.resultTtl, defaultTtl + (deadlineMillis ?? 0))
    if (deadlineMillis !== undefined && ttlMillis <= deadlineMillis) {
      return yield* new FanOut.FanOutInvalidOptions({ option: "resultTtl", detail: "must exceed the deadline, or the fan-out expires before it" })
    }
    const batchSize = yield* count("batchSize", options.batchSize, 100)
    const concurrency = yield* count("concurrency", options.concurrency, 4)
    const entries = new Map<string, Entry>()
    for (const job of jobs) {
      const name = nameOf(job.action)
      if (!entries.has(name)) entries.set(name, yield* context.entry(name))
    }
    const fanOutId = options.id ?? randomUUID()
    if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(fanOutId)) {
      return yield* new FanOut.FanOutInvalidOptions({ option: "id", detail: "expected 1 to 200 letters, digits or _ . : -" })
    }
    const around = context.hooks?.aroundEnqueue
    const first = jobs[0]
    const firstEntry = first && entries.get(nameOf(first.action))
    const write = send(context, jobs, entries, options, { fanOutId, ttlMillis, batchSize, concurrency, deadlineMillis })
    return yield* around === undefined || firstEntry === undefined
      ? write
      : around({ kind: "fanOut", action: firstEntry.name, queue: first!.queue ?? firstEntry.queue, count: jobs.length, fanOutId }, write)
  })

/** The part of a fan-out inside its send (`aroundEnqueue`): children checked, hooked and written. */
const send = (
  context: Context,
  jobs: ReadonlyArray<FanOut.Job>,
  entries: ReadonlyMap<string, Entry>,
  options: FanOut.Options,
  { batchSize, concurrency, deadlineMillis, fanOutId, ttlMillis }: {
    readonly fanOutId: string
    readonly ttlMillis: number
    readonly batchSize: number
    readonly concurrency: number
    readonly deadlineMillis: number | undefined
  }
) =>
  Effect.gen(function*() {
    const completion = yield* prepareCompletion(context, options.onComplete, fanOutId)
    const specs = yield* uniqueness(options, entries)
    const { children, errors } = yield* prepareChildren(
      jobs,
      entries,
      fanOutId,
      context.maxPayloadBytes,
      context.hooks?.onEnqueue,
      JobControl.trackMillis(options.track),
      (entry) => (specs.size === 0 ? undefined : specs.get(entry.name)),
      context.keys
    )

    const actionNames = distinct(jobs.map((job) => entries.get(nameOf(job.action))!.name))
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
      ...(completion === undefined ? {} : { onComplete: completion.prefix, onCompleteQueue: completion.queue }),
      ...(deadlineMillis === undefined ? {} : {
        deadline: now + deadlineMillis,
        deadlineOutcome: FanOutDeadline.outcome(actionNames, Duration.format(Duration.millis(deadlineMillis)))
      })
    }
    const result = (enqueued: number, duplicates: ReadonlyArray<FanOut.Duplicate> = []): FanOut.FanOutResult => ({
      fanOutId,
      actionNames,
      queues,
      total: children.length,
      enqueued,
      errors,
      duplicates
    })
    const conflict = (existing: number) =>
      new FanOut.FanOutInvalidOptions({ option: "id", detail: `fan-out ${fanOutId} exists with ${existing} children, not ${children.length}` })

    if (children.length === 0) {
      // an empty fan-out is done at once: its onComplete is pushed with the meta hash, only if it is created
      const outcome = yield* writeBatch(context, fanOutId, [], ttlMillis, now, {
        meta: { ...meta, done: now },
        total: 0,
        onCreate: completion && {
          queue: completion.queue,
          payload: FanOut.completionPayload(completion.prefix, { fanOutId, total: 0, completed: 0, failed: 0 })
        }
      })
      if (outcome.failed !== undefined) return yield* outcome.failed
      if (outcome.conflict !== undefined) return yield* conflict(outcome.conflict)
      return result(0)
    }

    // The meta hash rides in the first batch, and that batch lands before any other is sent: no child can
    // finish before its fan-out exists (it would be recorded as expired, and the fan-out would never finish).
    // the deadline's entry goes first: a fan-out that exists has it (a late entry only makes the check later)
    if (deadlineMillis !== undefined) yield* context.redis.send("zadd", context.keys.fanOutDeadlines, now + deadlineMillis, fanOutId)
    const [first, ...rest] = Arr.chunksOf(children, batchSize)
    const firstOutcome = yield* writeBatch(context, fanOutId, first!, ttlMillis, now, { meta, total: children.length })
    if (firstOutcome.conflict !== undefined) return yield* conflict(firstOutcome.conflict)
    // the first batch failed as a whole: go on only if its meta hash landed, else nothing is tracked. A batch
    // that got no reply in time fails the call at once: Redis is not answering, and the caller's bound is one
    // request timeout (an `id` makes a retry write only what is missing)
    if (firstOutcome.failed !== undefined) {
      if (firstOutcome.failed.timedOut === true) return yield* firstOutcome.failed
      const exists = yield* context.redis.send<number>("hexists", context.keys.fanOut(fanOutId), "total")
      if (exists !== 1) return yield* firstOutcome.failed
    }
    // once a batch fails on the transport, the batches not sent yet are not sent: each would wait its own
    // request timeout. They are reported (and recorded) as not enqueued, like the failed one
    let broken: RedisError | undefined
    const restOutcomes = yield* Effect.forEach(rest, (batch) =>
      broken !== undefined
        ? Effect.succeed<BatchOutcome>({ unwritten: unwrittenAll(batch, broken.message), failed: broken })
        : Effect.map(writeBatch(context, fanOutId, batch, ttlMillis, now), (outcome) => {
          if (outcome.failed !== undefined) broken = outcome.failed
          return outcome
        }), { concurrency })
    const unwritten = [...firstOutcome.unwritten, ...restOutcomes.flatMap((outcome) => outcome.unwritten)]
    if (unwritten.length > 0) {
      yield* recordUnwritten(context, fanOutId, unwritten, yield* Clock.currentTimeMillis)
      for (const { child, message } of unwritten) errors.push({ index: child.index, action: child.action, reason: "NotEnqueued", message })
      errors.sort((a, b) => a.index - b.index)
    }
    const duplicates = [...(firstOutcome.duplicates ?? []), ...restOutcomes.flatMap((outcome) => outcome.duplicates ?? [])]
    duplicates.sort((a, b) => a.index - b.index)
    return result(children.length - unwritten.length - duplicates.length, duplicates)
  })

const parseList = (raw: string | undefined): ReadonlyArray<string> => {
  try {
    const parsed: unknown = JSON.parse(raw ?? "[]")
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : []
  } catch {
    return []
  }
}

const asRecord = (reply: unknown): Readonly<Record<string, string>> =>
  typeof reply === "object" && reply !== null && !Array.isArray(reply) ? (reply as Record<string, string>) : {}

/** A child's stored failure, with its error decoded by its action's `error` Schema when there is one. */
const childError = (context: Context, index: number, outcome: FanOut.StoredOutcome): FanOut.ChildError => {
  const base = {
    index,
    action: outcome.action,
    inputs: outcome.inputs,
    exception: outcome.exception ?? "Error",
    error: typeof outcome.value === "string" && outcome.value.length > 0 ? outcome.value : outcome.exception ?? "Error"
  }
  if (outcome.data === undefined) return base
  const entry = context.entryIfKnown(outcome.action)
  return { ...base, failure: entry === undefined ? outcome.data : entry.decodeError(outcome.data) }
}

/**
 * Reads a fan-out's counts, results and errors in one atomic step. Results are decoded with each child
 * action's `output` Schema when it has one, errors with its `error` Schema. Unknown or expired id:
 * {@link FanOut.FanOutNotFound}.
 *
 * @category programs
 */
export const status = (context: Context, fanOutId: string) =>
  Effect.gen(function*() {
    const [metaReply, outcomesReply] = yield* context.redis.multi([
      ["hgetall", context.keys.fanOut(fanOutId)],
      ["hgetall", context.keys.fanOutOutcomes(fanOutId)]
    ])
    const meta = asRecord(metaReply)
    if (meta["total"] === undefined) return yield* new FanOut.FanOutNotFound({ fanOutId })
    const results: Array<FanOut.ChildResult> = []
    const errors: Array<FanOut.ChildError> = []
    const duplicates: Array<FanOut.ChildDuplicate> = []
    for (const [field, raw] of Object.entries(asRecord(outcomesReply))) {
      const index = Number(field)
      const outcome = FanOut.decodeOutcome(raw)
      if (outcome === undefined || !Number.isInteger(index)) continue
      if (outcome.duplicateOf !== undefined) {
        duplicates.push({ index, action: outcome.action, inputs: outcome.inputs, jobId: outcome.duplicateOf })
        continue
      }
      if (!outcome.ok) {
        errors.push(childError(context, index, outcome))
        continue
      }
      const entry = context.entryIfKnown(outcome.action)
      const decoded = entry === undefined ? Result.succeed(outcome.value) : entry.decodeResult(outcome.value)
      if (Result.isFailure(decoded)) return yield* new FanOut.FanOutResultInvalid({ fanOutId, index, detail: decoded.failure })
      results.push({ index, action: outcome.action, inputs: outcome.inputs, result: decoded.success })
    }
    results.sort((a, b) => a.index - b.index)
    errors.sort((a, b) => a.index - b.index)
    duplicates.sort((a, b) => a.index - b.index)
    const total = Number(meta["total"] ?? 0)
    const completed = Number(meta["completed"] ?? 0)
    const failed = Number(meta["failed"] ?? 0)
    const duplicate = Number(meta["duplicate"] ?? 0)
    return {
      fanOutId,
      total,
      completed,
      failed,
      duplicate,
      pending: Math.max(0, total - completed - failed - duplicate),
      done: completed + failed + duplicate >= total,
      actionNames: parseList(meta["actions"]),
      queues: parseList(meta["queues"]),
      createdAt: Number(meta["createdAt"] ?? 0),
      results,
      errors,
      duplicates
    } satisfies FanOut.FanOutStatus
  })

/** Counts only (one HMGET), for polling; `undefined` when the fan-out does not exist. */
export const counts = (context: Context, fanOutId: string) =>
  Effect.map(
    context.redis.send<ReadonlyArray<string | null>>("hmget", context.keys.fanOut(fanOutId), "total", "completed", "failed", "duplicate"),
    ([total, completed, failed, duplicate]) =>
      total === null || total === undefined
        ? undefined
        : { total: Number(total), completed: Number(completed ?? 0), failed: Number(failed ?? 0), duplicate: Number(duplicate ?? 0) }
  )

/**
 * Waits until every child has an outcome, then returns the final status. Polls the counts only (one HMGET),
 * backing off from 25 ms to `maxPollInterval`; the full status is read once, at the end. Fails with
 * {@link FanOut.FanOutTimeout} after `timeout`, {@link FanOut.FanOutNotFound} if the fan-out is unknown or
 * expires while waiting.
 *
 * @category programs
 */
export const await_ = (context: Context, fanOutId: string, options: FanOut.AwaitOptions = {}) =>
  Effect.gen(function*() {
    const maxPoll = yield* millis("maxPollInterval", options.maxPollInterval, 1000)
    const timeout = options.timeout === undefined ? undefined : yield* millis("timeout", options.timeout, 0)
    let last = { total: 0, finished: 0 }
    const wait = Effect.gen(function*() {
      let pause = 25
      // ends when the fan-out is done or gone (its keys expire): bounded by its TTL, or by the timeout
      while (true) {
        const current = yield* counts(context, fanOutId)
        if (current === undefined) return yield* new FanOut.FanOutNotFound({ fanOutId })
        last = { total: current.total, finished: current.completed + current.failed + current.duplicate }
        if (last.finished >= last.total) return
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
    return yield* status(context, fanOutId)
  })

/**
 * Records the fan-out children among jobs removed from a queue (by an operator) as failed with `reason`, in
 * one round trip, so their parent never waits for a child that will not run. Only children without an
 * outcome are recorded; other payloads are ignored (no round trip when there is no fan-out child among them).
 *
 * @category programs
 */
export const recordRemoved = (
  context: { readonly redis: Connection; readonly keys: Keys },
  payloads: ReadonlyArray<string>,
  reason: string,
  now: number
) =>
  Effect.suspend(() => {
    const children = payloads.flatMap((raw) => {
      const parsed = Job.parse(raw)
      if (Result.isFailure(parsed)) return []
      const { action, inputs, meta } = parsed.success
      return meta.fanOut === undefined || meta.index === undefined
        ? []
        : [{
          fanOutId: meta.fanOut,
          index: meta.index,
          outcome: FanOut.encodeFailure(action, inputs, { error: reason, exception: "Removed" }),
          now,
          onlyIfAbsent: true
        }]
    })
    if (children.length === 0) return Effect.succeed(0)
    return Effect.as(context.redis.eval(FanOutScripts.recordChildren, { keys: context.keys, children }), children.length)
  })
