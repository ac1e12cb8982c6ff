/**
 * Job control over the Redis seam: job ids, a tracked job's record (written by its enqueue in the same
 * round trip and by its completion in the same script), reading it back as a `JobStatus` decoded with the
 * action's Schemas, and waiting for a job to end.
 *
 * The record is the hash `job:ID`: `state` (`queued`, `delayed`, `succeeded`, `failed`, `cancelled`),
 * `action`, `queue`, `payload` (as it waits now: a retry's payload replaces the first), `attempt`,
 * `enqueuedAt`, `finishedAt`, `worker`, `result` (JSON), `exception`, `error`, `data` (JSON), `progress`
 * (JSON). Every write of it renews its TTL. A running job is not written to its record when it starts: the
 * reader finds it in the working-on records (see `JobControlScripts`).
 *
 * @since 0.3.0
 */
import { createHash, randomBytes } from "node:crypto"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { RedisError } from "../domain/Errors.ts"
import * as Job from "../domain/Job.ts"
import * as JobControl from "../domain/JobControl.ts"
import type { Keys } from "../domain/Keys.ts"
import type * as Outcome from "../domain/Outcome.ts"
import type { Entry } from "./ActionEntry.ts"
import type { Command, Connection } from "./Connection.ts"
import * as Enqueue from "./Enqueue.ts"
import * as JobControlScripts from "./JobControlScripts.ts"
import * as Retry from "./Retry.ts"
import type { Write } from "./Completion.ts"
import type { CompletedJob } from "./Completion.ts"

/** This process's id prefix: random, so ids of two processes never meet; a counter follows it. */
const idPrefix = randomBytes(9).toString("base64url")
let idCounter = 0

/** A new job id: unique across processes, short (about 14 characters), cheap to make. @category constructors */
export const newId = (): string => `${idPrefix}${(idCounter++).toString(36)}`

/** The TTL in ms a `track` option asks for, or undefined for none. @category constructors */
export const trackMillis = (track: JobControl.Track | undefined): number | undefined => {
  if (track === undefined || track === false) return undefined
  if (track === true) return JobControl.defaultTrackMillis
  if (typeof track === "object" && track !== null && "ttl" in track) return Math.max(1, Duration.toMillis(track.ttl))
  return Math.max(1, Duration.toMillis(track as Duration.Input))
}

/** A uniqueness claim as an enqueue takes it. */
export interface Claim {
  readonly key: string
  readonly mode: JobControl.UniqueMode
  readonly windowMillis: number
}

/** What job control adds to one enqueue: the job's id and metadata, its record's TTL, its claim. */
export interface Plan {
  readonly id: string
  /** Undefined for an untracked job: its payload carries no metadata, its id is known to nobody but the caller. */
  readonly meta: Job.JobMeta | undefined
  /** Undefined: an untracked job (no record, no claim). */
  readonly ttlMillis: number | undefined
  readonly claim: Claim | undefined
}

/** The default uniqueness key of a job: a digest of its encoded inputs. @category constructors */
export const inputsKey = (encoded: unknown): string => createHash("sha1").update(safeJson(encoded)).digest("base64url")

/**
 * What job control adds to an enqueue of `entry` with these (encoded) inputs: an id for every job (in its
 * payload only when tracked or unique); a record for a tracked or unique one (a unique job's record lasts at least its window); a claim for a
 * unique one.
 *
 * @category constructors
 */
export const plan = (
  keys: Keys,
  entry: Entry,
  encoded: unknown,
  options: { readonly track?: JobControl.Track; readonly unique?: JobControl.Unique | false } | undefined
): Plan => {
  const id = newId()
  const track = trackMillis(options?.track ?? entry.action.track)
  const unique = options?.unique === undefined ? entry.action.unique : options.unique === false ? undefined : options.unique
  // an untracked job travels exactly as before: node-resque's `del` and `scheduledAt` find it by its inputs
  if (unique === undefined) return { id, meta: track === undefined ? undefined : { id, track }, ttlMillis: track, claim: undefined }
  const windowMillis = unique.window === undefined ? JobControl.defaultUniqueWindowMillis : Math.max(1, Duration.toMillis(unique.window))
  const mode = unique.mode ?? "until-done"
  const key = keys.unique(entry.name, unique.key ?? inputsKey(encoded))
  const ttlMillis = Math.max(track ?? JobControl.defaultTrackMillis, windowMillis)
  const meta: Job.JobMeta = mode === "until-done" ? { id, track: ttlMillis, unique: key } : { id, track: ttlMillis }
  return { id, meta, ttlMillis, claim: { key, mode, windowMillis } }
}

/** The fields of a record at enqueue. */
const enqueuedFields = (plan: Plan, job: Written, state: "queued" | "delayed", now: number): ReadonlyArray<string> => {
  const fields = [
    "state", state, "action", job.action, "queue", job.queue, "payload", job.payload, "attempt", "1",
    "enqueuedAt", String(Math.round(now)), "ttl", String(plan.ttlMillis)
  ]
  if (plan.claim !== undefined && plan.claim.mode === "until-done") fields.push("unique", plan.claim.key)
  return fields
}

/** A job about to be written. */
interface Written {
  readonly action: string
  readonly queue: string
  readonly payload: string
}

/**
 * Writes a tracked job and its record in one MULTI, or a unique one in one script (its claim, record and
 * job, or nothing when another job holds the claim): now, or delayed to `at` (epoch ms). Answers the id of
 * the job that holds the place, and whether it is this one.
 *
 * @category programs
 */
export const write = (context: Context, plan: Plan, job: Written, at: number | undefined, now: number) => {
  const { keys, redis } = context
  const state = at === undefined ? "queued" : "delayed"
  const ttlMillis = plan.ttlMillis ?? JobControl.defaultTrackMillis
  const fields = enqueuedFields(plan, job, state, now)
  if (plan.claim === undefined) {
    const record: ReadonlyArray<Command> = [
      ["del", keys.job(plan.id)],
      ["hset", keys.job(plan.id), ...fields],
      ["pexpire", keys.job(plan.id), ttlMillis]
    ]
    const push = at === undefined ? Enqueue.push(keys, job.queue, [job.payload]) : Enqueue.pushAt(keys, at, job.payload)
    return Effect.as(redis.multi([...record, ...push]), { id: plan.id, enqueued: true })
  }
  return redis.eval(JobControlScripts.enqueueUnique, {
    keys,
    claim: plan.claim.key,
    mode: plan.claim.mode,
    windowMillis: plan.claim.windowMillis,
    id: plan.id,
    queue: job.queue,
    payload: job.payload,
    atSecond: at === undefined ? undefined : Enqueue.delayedSecond(at),
    fields,
    ttlMillis
  })
}

const failureFields = (failure: Outcome.Failure): ReadonlyArray<string> => [
  "exception", failure.exception, "error", failure.error, "data", failure.data === undefined ? "" : safeJson(failure.data)
]

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? ""
  } catch {
    return ""
  }
}

/** The tag of the cancelled outcome. */
export const cancelledTag = "JobCancelled"

/**
 * The completion writes of a tracked job (none for others): its end (result or error), or the payload its
 * retry waits with; the release of its `until-done` uniqueness claim when it ends.
 *
 * @category constructors
 */
export const completionWrites = ({ job, outcome, worker }: CompletedJob, keys: Keys, now: number): ReadonlyArray<Write> => {
  const { id, track, unique } = job.meta
  if (id === undefined || track === undefined) return none
  const key = keys.job(id)
  const attempt = String(job.meta.attempt ?? 1)
  const at = String(Math.round(now))
  let fields: ReadonlyArray<string>
  let final = true
  if (outcome._tag === "Success") {
    fields = ["state", "succeeded", "result", outcome.result, "finishedAt", at, "worker", worker, "attempt", attempt]
  } else if (outcome.final) {
    const state = outcome.exception === cancelledTag ? "cancelled" : "failed"
    fields = ["state", state, ...failureFields(outcome), "finishedAt", at, "worker", worker, "attempt", attempt]
  } else {
    // the retry waits with the next attempt's payload (as `Retry.nextAttempt` writes it): cancel finds it by that
    const next = (job.meta.attempt ?? 1) + 1
    const payload = Retry.attemptPayload(job, next)
    fields = ["state", "queued", "payload", payload, ...failureFields(outcome), "worker", worker, "attempt", String(next)]
    final = false
  }
  const writes: Array<Write> = [["hset", key, ...fields], ["pexpire", key, track]]
  if (final && unique !== undefined) writes.push(["del", unique])
  return writes
}

const none: ReadonlyArray<Write> = []

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined || text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** What job control needs of the runtime. */
export interface Context {
  readonly redis: Connection
  readonly keys: Keys
  /** The registered action of this name, if any (to decode results and errors). */
  readonly entry: (name: string) => Entry | undefined
}

/** The typed error of a failure, when the action's `error` Schema describes its data. */
const typedError = (entry: Entry | undefined, data: unknown): Result.Result<unknown, undefined> => {
  const schema = entry?.action.error
  if (schema === undefined || data === undefined) return Result.fail(undefined)
  return Result.mapError(Schema.decodeUnknownResult(schema)(data), () => undefined)
}

/** The worker name in a working-on record. */
const workerOf = (record: string): string | undefined => {
  try {
    const parsed = JSON.parse(record) as { readonly worker?: unknown }
    return typeof parsed.worker === "string" ? parsed.worker : undefined
  } catch {
    return undefined
  }
}

/** A record as a {@link JobControl.JobStatus}, its result and error decoded by the action's Schemas. */
export const toStatus = (context: Context, id: string, reply: JobControlScripts.ReadReply): JobControl.JobStatus => {
  const { record, running } = reply
  const stored = record["state"]
  const state: JobControl.JobState = running !== undefined
    ? "running"
    : stored === undefined
    ? "unknown"
    : stored === "queued" || stored === "delayed"
    ? (reply.delayed ? "delayed" : "queued")
    : (stored as JobControl.JobState)
  const action = record["action"]
  const entry = action === undefined ? undefined : context.entry(action)
  const status: {
    -readonly [K in keyof JobControl.JobStatus]: JobControl.JobStatus[K]
  } = { id, state }
  if (action !== undefined) status.action = action
  if (record["queue"] !== undefined) status.queue = record["queue"]
  const worker = running === undefined ? record["worker"] : workerOf(running)
  if (worker !== undefined) status.worker = worker
  if (record["attempt"] !== undefined) status.attempt = Number(record["attempt"])
  if (record["enqueuedAt"] !== undefined) status.enqueuedAt = Number(record["enqueuedAt"])
  if (record["finishedAt"] !== undefined && JobControl.isFinal(state)) status.finishedAt = Number(record["finishedAt"])
  const progress = parseJson(record["progress"])
  if (progress !== undefined) status.progress = progress as JobControl.Progress
  if (state === "succeeded") {
    const result = parseJson(record["result"])
    const decoded = entry === undefined ? Result.succeed(result) : entry.decodeResult(result)
    status.result = Result.isSuccess(decoded) ? decoded.success : result
  }
  if (record["exception"] !== undefined) {
    const data = parseJson(record["data"])
    status.failure = data === undefined
      ? { exception: record["exception"], message: record["error"] ?? "" }
      : { exception: record["exception"], message: record["error"] ?? "", data }
    const error = typedError(entry, data)
    if (Result.isSuccess(error)) status.error = error.success
  }
  return status
}

/** Reads where a job stands: one script call. @category programs */
export const status = (context: Context, id: string) =>
  Effect.map(
    context.redis.eval(JobControlScripts.readJob, { keys: context.keys, id, needle: Job.idNeedle(id) }),
    (reply) => toStatus(context, id, reply)
  )

const millis = (input: Duration.Input | undefined, fallback: number) => (input === undefined ? fallback : Duration.toMillis(input))

/**
 * Waits until a tracked job ends, polling its record's state (one `HGET`), backing off from 25 ms to
 * `maxPollInterval`, then reads it whole. Succeeds with the result; fails with the action's typed error when
 * its `error` Schema describes the failure, else {@link JobControl.JobFailed}; {@link JobControl.JobCancelled}
 * for a cancelled job; {@link JobControl.JobNotFound} when it has no record (never tracked, or expired);
 * {@link JobControl.JobAwaitTimeout} after `timeout`.
 *
 * @category programs
 */
export const await_ = (context: Context, id: string, options: JobControl.AwaitOptions = {}) =>
  Effect.gen(function*() {
    const maxPoll = millis(options.maxPollInterval, 1000)
    const timeout = options.timeout === undefined ? undefined : millis(options.timeout, 0)
    const key = context.keys.job(id)
    let last = "unknown"
    const wait = Effect.gen(function*() {
      let pause = 25
      while (true) {
        const state = yield* context.redis.send<string | null>("hget", key, "state")
        if (state === null) return yield* new JobControl.JobNotFound({ id })
        last = state
        if (JobControl.isFinal(state as JobControl.JobState)) return
        yield* Effect.sleep(pause)
        pause = Math.min(maxPoll, Math.ceil(pause * 1.5))
      }
    })
    yield* timeout === undefined ? wait : Effect.timeoutOrElse(wait, {
      duration: timeout,
      orElse: () => Effect.fail(new JobControl.JobAwaitTimeout({ id, millis: timeout, state: last }))
    })
    const ended = yield* status(context, id)
    if (ended.state === "succeeded") return ended.result
    if (ended.state === "cancelled") return yield* new JobControl.JobCancelled({ id })
    if (ended.error !== undefined) return yield* Effect.fail(ended.error)
    const failure = ended.failure ?? { exception: "Unknown", message: "no failure recorded" }
    return yield* new JobControl.JobFailed({
      id,
      exception: failure.exception,
      error: failure.message,
      ...(failure.data === undefined ? {} : { data: failure.data })
    })
  })

/**
 * Cancels a tracked job (see `JobControlScripts.cancel`): one script call; a running job is interrupted by
 * the worker running it, shortly after.
 *
 * @category programs
 */
export const cancel = (context: Context, id: string): Effect.Effect<JobControl.CancelResult, RedisError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    context.redis.eval(JobControlScripts.cancel, { keys: context.keys, id, needle: Job.idNeedle(id), now }))
