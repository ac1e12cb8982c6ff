/**
 * Resque's records other than jobs, as node-resque and Ruby Resque write and read them: the failed-job
 * record, a worker's "working on" record, its ping, the members of the workers set, counters. Each record the
 * runtime writes is built by one function here, whatever path writes it (a worker, the scheduler reclaiming
 * a dead worker, an operator cleaning a stuck one), and each record it reads is decoded by a Schema here.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Outcome from "./Outcome.ts"

// ---------------------------------------------------------------------------------------------------------
// records read
// ---------------------------------------------------------------------------------------------------------

const orDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * A failed-job record (node-resque's `Worker.complete`, Ruby's `Resque::Failure::Redis`). `error_data` is this
 * runtime's addition: the error encoded as data, which other clients ignore.
 *
 * @category wire
 */
export const FailedRecord = Schema.Struct({
  worker: orDefault(Schema.String, ""),
  queue: orDefault(Schema.String, ""),
  payload: Schema.Unknown,
  exception: orDefault(Schema.String, ""),
  error: orDefault(Schema.String, ""),
  error_data: Schema.optionalKey(Schema.Unknown),
  backtrace: orDefault(Schema.Array(Schema.String), []),
  failed_at: Schema.optionalKey(Schema.String)
})

/**
 * A worker's "working on" record (`worker:NAME:QUEUES`). node-resque and this runtime add the worker's name
 * (`worker`); Ruby Resque's record has only `queue`, `run_at` and `payload`.
 *
 * @category wire
 */
export const WorkingOnRecord = Schema.Struct({
  run_at: Schema.String,
  queue: Schema.String,
  payload: Schema.Unknown,
  worker: Schema.optionalKey(Schema.String)
})

/** A worker's ping record: `time` in seconds. @category wire */
export const PingRecord = Schema.Struct({ time: Schema.Finite })

/** A Redis counter: a number or a numeric string (absent counts as 0). @category wire */
export const Count = Schema.Union([Schema.Finite, Schema.FiniteFromString])

/** @category decoding */
export const decodeFailedRecord = Schema.decodeUnknownResult(Schema.fromJsonString(FailedRecord))
/** @category decoding */
export const decodeWorkingOnRecord = Schema.decodeUnknownResult(Schema.fromJsonString(WorkingOnRecord))
const decodePing = Schema.decodeUnknownOption(Schema.fromJsonString(PingRecord))
const decodeCount = Schema.decodeUnknownOption(Count)

/** A counter's value; 0 when absent or unreadable. @category decoding */
export const count = (value: unknown): number => Option.getOrElse(decodeCount(value), () => 0)

/** A date string (ISO or `Date.toString`) or seconds to epoch ms; null if unreadable. @category decoding */
export const millis = (value: string | null | undefined): number | null => {
  if (value === null || value === undefined || value === "") return null
  const asNumber = Number(value)
  if (Number.isFinite(asNumber)) return asNumber * 1000
  const parsed = Date.parse(value)
  return Number.isNaN(parsed) ? null : parsed
}

/** The time of a ping record in epoch seconds; undefined if unreadable. @category decoding */
export const pingSeconds = (raw: string | null | undefined): number | undefined =>
  raw ? Option.getOrUndefined(Option.map(decodePing(raw), (ping) => ping.time)) : undefined

/** The epoch ms of a ping record; null if unreadable. @category decoding */
export const pingMillis = (raw: string | null | undefined): number | null => {
  const seconds = pingSeconds(raw)
  return seconds === undefined ? null : seconds * 1000
}

/**
 * Splits a member of the workers set (`NAME:QUEUES`) the way node-resque does: names are `host:pid`, so with
 * more than one colon the first two parts are the name.
 *
 * @category decoding
 */
export const workerMember = (member: string): { readonly name: string; readonly queues: string } => {
  const parts = member.split(":")
  if (parts.length === 1) return { name: member, queues: "" }
  if (parts.length === 2) return { name: parts[0] ?? "", queues: parts[1] ?? "" }
  return { name: `${parts[0]}:${parts[1]}`, queues: parts.slice(2).join(":") }
}

/** The queue names of a worker's queue string. @category decoding */
export const queueList = (queues: string): ReadonlyArray<string> => queues.split(",").filter((q) => q.length > 0)

// ---------------------------------------------------------------------------------------------------------
// records written
// ---------------------------------------------------------------------------------------------------------

/** The member of the workers set for a worker: `NAME:QUEUES`. @category encoding */
export const member = (worker: string, queues: string): string => `${worker}:${queues}`

const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/** `YYYY-MM-DD HH:MM:SS` of an epoch-ms time, in UTC. */
const utcText = (ms: number): string => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/**
 * A worker's start time as Ruby Resque writes it (`Time.now.to_s`, e.g. `2026-12-01 05:21:09 +0000`), the
 * text resque-web shows and parses in the browser (`new Date(text)`); a number of seconds, node-resque's
 * form, reads there as `NaN days ago`. This runtime reads both.
 *
 * @category encoding
 */
export const startedTime = (ms: number): string => `${utcText(ms)} +0000`

/**
 * A worker's heartbeat as Ruby Resque writes it in the `workers:heartbeat` hash (`Time#iso8601` on a UTC
 * server, e.g. `2026-12-01T05:21:09+00:00`): resque-web shows it, and Ruby workers prune a worker whose
 * heartbeat is older than their prune interval (5 minutes by default).
 *
 * @category encoding
 */
export const heartbeatTime = (ms: number): string => `${utcText(ms).replace(" ", "T")}+00:00`

/** A ping record as node-resque writes it (`time` in seconds). @category encoding */
export const pingRecord = (worker: string, queues: string, seconds: number): string =>
  JSON.stringify({ time: seconds, name: worker, queues })

/** A stored payload inside a record: the JSON value when it is JSON, else the string as it was. */
const embedded = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/**
 * The failed-job record of a job that failed for good: node-resque's fields (`failed_at` as
 * `Date.toString()`, which node-resque, Ruby Resque and resque-web all read), plus `error_data` when the
 * error has data.
 *
 * @category encoding
 */
export const failedRecord = (options: {
  readonly worker: string
  readonly queue: string
  /** The job's payload as it was stored. */
  readonly payload: string | unknown
  readonly failure: Outcome.Failure
  readonly now: number
}): string =>
  JSON.stringify({
    worker: options.worker,
    queue: options.queue,
    payload: typeof options.payload === "string" ? embedded(options.payload) : options.payload,
    exception: options.failure.exception,
    error: options.failure.error,
    ...(options.failure.data === undefined ? {} : { error_data: options.failure.data }),
    backtrace: options.failure.backtrace,
    failed_at: new Date(options.now).toString()
  })
