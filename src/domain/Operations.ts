/**
 * What an operator sees: queued, delayed, failed and running jobs, workers, locks, statistics and the
 * overview, as Schemas. Redis records (node-resque's wire format: failed-job records, "working on" records,
 * counters) are decoded here with Schemas into these models; a record that cannot be read never fails a
 * listing, it shows up with `action: null` and its raw string, so it can still be removed.
 *
 * Times are epoch **milliseconds** everywhere (Resque stores seconds or date strings; they are converted).
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import * as Job from "./Job.ts"
import * as Resque from "./Resque.ts"

// ---------------------------------------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------------------------------------

/**
 * A job as stored in a queue or a delayed list. `inputs` are the travelled (encoded) inputs without the
 * `_job` metadata, which is exposed as separate fields. `action` is null when the payload is unreadable.
 *
 * @category models
 */
export const QueuedJob = Schema.Struct({
  action: Schema.NullOr(Schema.String),
  queue: Schema.String,
  inputs: Schema.Unknown,
  fanOut: Schema.optionalKey(Schema.String),
  index: Schema.optionalKey(Schema.Number),
  attempt: Schema.optionalKey(Schema.Number),
  recurrence: Schema.optionalKey(Schema.String),
  /** Why the payload could not be read (only when `action` is null). */
  corrupt: Schema.optionalKey(Schema.String),
  /** The payload exactly as stored. */
  raw: Schema.String
})
/** @category models */
export type QueuedJob = typeof QueuedJob.Type

/**
 * A record of the failed list. `raw` is the record exactly as stored: removal and retry match on it.
 *
 * @category models
 */
export const FailedJob = Schema.Struct({
  ...QueuedJob.fields,
  worker: Schema.String,
  exception: Schema.String,
  error: Schema.String,
  backtrace: Schema.Array(Schema.String),
  /** Epoch ms (Resque stores a date string, to the second); null if unreadable. */
  failedAt: Schema.NullOr(Schema.Number),
  /** The job's payload as it was stored in the record: what a retry re-enqueues, `_job` metadata included. */
  payload: Schema.Unknown,
  /** The error as data (`error_data`: encoded by the action's `error` Schema, or its plain fields), if kept. */
  data: Schema.optionalKey(Schema.Unknown)
})
/** @category models */
export type FailedJob = typeof FailedJob.Type

/** A queue and its length. @category models */
export const QueueInfo = Schema.Struct({ name: Schema.String, length: Schema.Number })
/** @category models */
export type QueueInfo = typeof QueueInfo.Type

/** Delayed jobs due at one timestamp (ms, whole seconds as Resque rounds). @category models */
export const DelayedJobs = Schema.Struct({ at: Schema.Number, jobs: Schema.Array(QueuedJob) })
/** @category models */
export type DelayedJobs = typeof DelayedJobs.Type

/** A registered worker. @category models */
export const WorkerInfo = Schema.Struct({
  name: Schema.String,
  queues: Schema.Array(Schema.String),
  /** Epoch ms; null when the worker wrote no start record. */
  startedAt: Schema.NullOr(Schema.Number),
  /** Epoch ms of the last ping; null when none. */
  lastPingAt: Schema.NullOr(Schema.Number)
})
/** @category models */
export type WorkerInfo = typeof WorkerInfo.Type

/** What a worker is running now. @category models */
export const WorkingOn = Schema.Struct({
  worker: Schema.String,
  queue: Schema.String,
  /** Epoch ms the job was picked up; null if the record's date is unreadable. */
  runAt: Schema.NullOr(Schema.Number),
  job: QueuedJob,
  /** The job's payload as stored in the record. */
  payload: Schema.Unknown,
  /** The record exactly as stored. */
  raw: Schema.String
})
/** @category models */
export type WorkingOn = typeof WorkingOn.Type

/** Processed and failed counters. @category models */
export const Counters = Schema.Struct({ processed: Schema.Number, failed: Schema.Number })
/** @category models */
export type Counters = typeof Counters.Type

/** Per-action statistics, written by the worker's `actionStats` middleware. @category models */
export const ActionStats = Schema.Struct({
  action: Schema.String,
  runs: Schema.Number,
  failures: Schema.Number,
  /** Total run time of all runs, in ms. */
  durationMs: Schema.Number
})
/** @category models */
export type ActionStats = typeof ActionStats.Type

/** All counters: global, per registered worker, per registered action. @category models */
export const Stats = Schema.Struct({
  ...Counters.fields,
  workers: Schema.Array(Schema.Struct({ name: Schema.String, ...Counters.fields })),
  actions: Schema.Array(ActionStats)
})
/** @category models */
export type Stats = typeof Stats.Type

/** One worker in the overview. @category models */
export const WorkerStatus = Schema.Struct({
  name: Schema.String,
  queues: Schema.Array(Schema.String),
  ...Counters.fields,
  workingOn: Schema.NullOr(WorkingOn)
})
/** @category models */
export type WorkerStatus = typeof WorkerStatus.Type

/** The overview: queues with lengths, workers, global counters and the scheduler leader. @category models */
export const TaskDetails = Schema.Struct({
  queues: Schema.Record(Schema.String, Schema.Struct({ length: Schema.Number })),
  workers: Schema.Array(WorkerStatus),
  stats: Counters,
  /** Name of the scheduler holding the leader lock; null when there is none. */
  leader: Schema.NullOr(Schema.String)
})
/** @category models */
export type TaskDetails = typeof TaskDetails.Type

/** A lock held by a plugin (`lock:*`, `workerslock:*`); `key` is without the namespace. @category models */
export const LockInfo = Schema.Struct({ key: Schema.String, value: Schema.String })
/** @category models */
export type LockInfo = typeof LockInfo.Type

/** The state of a recurring action. @category models */
export const RecurringStatus = Schema.Struct({
  action: Schema.String,
  queue: Schema.String,
  frequencyMs: Schema.Number,
  /** Stopped by `stopRecurrentAction`: the leader does not start it. */
  stopped: Schema.Boolean,
  /** A copy is waiting or running (the chain's marker exists). */
  live: Schema.Boolean
})
/** @category models */
export type RecurringStatus = typeof RecurringStatus.Type

/** What `stopRecurrentAction` removed. @category models */
export const RecurringStopped = Schema.Struct({
  action: Schema.String,
  /** Queued copies removed. */
  queued: Schema.Number,
  /** Delayed copies removed. */
  delayed: Schema.Number,
  /** Whether a chain was live (its marker existed) when stopped. */
  wasLive: Schema.Boolean
})
/** @category models */
export type RecurringStopped = typeof RecurringStopped.Type

// ---------------------------------------------------------------------------------------------------------
// decoding Resque's records into the models
// ---------------------------------------------------------------------------------------------------------

const fromParsed = (job: Job.ParsedJob, raw: string): QueuedJob => ({
  action: job.action,
  queue: job.queue,
  inputs: job.inputs,
  ...(job.meta.fanOut === undefined ? {} : { fanOut: job.meta.fanOut }),
  ...(job.meta.index === undefined ? {} : { index: job.meta.index }),
  ...(job.meta.attempt === undefined ? {} : { attempt: job.meta.attempt }),
  ...(job.meta.recurrence === undefined ? {} : { recurrence: job.meta.recurrence }),
  raw
})

const corruptJob = (raw: string, queue: string, detail: string): QueuedJob =>
  ({ action: null, queue, inputs: null, corrupt: detail, raw })

/** Decodes a stored payload string. @category decoding */
export const queuedJob = (raw: string, queue: string): QueuedJob => {
  const parsed = Job.parse(raw, queue)
  return Result.isSuccess(parsed) ? fromParsed(parsed.success, raw) : corruptJob(raw, queue, parsed.failure.detail)
}

/** Decodes a payload that is already an object (inside a failed or working-on record). @category decoding */
export const embeddedJob = (payload: unknown, queue: string): QueuedJob => {
  const raw = typeof payload === "string" ? payload : JSON.stringify(payload) ?? ""
  const parsed = Job.fromObject(payload, queue)
  return Result.isSuccess(parsed) ? fromParsed(parsed.success, raw) : corruptJob(raw, queue, parsed.failure.detail)
}

/** Decodes a failed-list record; an unreadable record keeps its raw string and says why. @category decoding */
export const failedJob = (raw: string): FailedJob => {
  const record = Resque.decodeFailedRecord(raw)
  if (Result.isFailure(record)) {
    return {
      ...corruptJob(raw, "", `unreadable failed record: ${record.failure.message}`),
      worker: "",
      exception: "",
      error: "",
      backtrace: [],
      failedAt: null,
      payload: null
    }
  }
  const r = record.success
  const job = embeddedJob(r.payload, r.queue)
  return {
    ...job,
    queue: r.queue || job.queue,
    raw,
    worker: r.worker,
    exception: r.exception,
    error: r.error,
    backtrace: r.backtrace,
    failedAt: Resque.millis(r.failed_at),
    payload: r.payload,
    ...(r.error_data === undefined ? {} : { data: r.error_data })
  }
}

/** Decodes a "working on" record; null when absent or unreadable. @category decoding */
export const workingOn = (raw: string | null | undefined, worker: string): WorkingOn | null => {
  if (!raw) return null
  const record = Resque.decodeWorkingOnRecord(raw)
  if (Result.isFailure(record)) return null
  const r = record.success
  return { worker, queue: r.queue, runAt: Resque.millis(r.run_at), job: embeddedJob(r.payload, r.queue), payload: r.payload, raw }
}

/**
 * Decodes the reply of the overview script: `{leader, processed, failed, #queues, (queue, length)...,
 * #workers, (member, working-on, processed, failed)...}`.
 *
 * @category decoding
 */
export const overview = (reply: ReadonlyArray<unknown>): TaskDetails => {
  let i = 0
  const next = (): unknown => reply[i++]
  const text = (): string => {
    const value = next()
    return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value)
  }
  const leader = text()
  const stats = { processed: Resque.count(next()), failed: Resque.count(next()) }
  const queues: Record<string, { readonly length: number }> = {}
  const queueCount = Resque.count(next())
  for (let q = 0; q < queueCount; q++) {
    const name = text()
    queues[name] = { length: Resque.count(next()) }
  }
  const workers: Array<WorkerStatus> = []
  const workerCount = Resque.count(next())
  for (let w = 0; w < workerCount; w++) {
    const { name, queues: queueString } = Resque.workerMember(text())
    const working = text()
    workers.push({
      name,
      queues: Resque.queueList(queueString),
      processed: Resque.count(next()),
      failed: Resque.count(next()),
      workingOn: workingOn(working, name)
    })
  }
  workers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { queues, workers, stats, leader: leader === "" ? null : leader }
}
