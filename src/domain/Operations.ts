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
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
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

/** A queue, its length, and whether it is paused (workers take none of its jobs). @category models */
export const QueueInfo = Schema.Struct({ name: Schema.String, length: Schema.Number, paused: Schema.Boolean })
/** @category models */
export type QueueInfo = typeof QueueInfo.Type

/** A paused queue and when it was paused (epoch ms). @category models */
export const PausedQueue = Schema.Struct({ queue: Schema.String, pausedAt: Schema.Number })
/** @category models */
export type PausedQueue = typeof PausedQueue.Type

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
  /** Jobs handed back by workers that did not know their action (`Worker` `handBackFor`), in all. */
  handedBack: Schema.Number,
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
  queues: Schema.Record(Schema.String, Schema.Struct({ length: Schema.Number, paused: Schema.Boolean })),
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
  /** The period of an action that recurs every `frequency`; 0 for a cron schedule. */
  frequencyMs: Schema.Number,
  /** The schedule as text: `every 5s`, or `cron 0 9 * * * (Europe/Paris)`. */
  schedule: Schema.String,
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
 * Decodes the reply of the overview script: `{leader, processed, failed, #queues, (queue, length, paused)...,
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
  const queues: Record<string, { readonly length: number; readonly paused: boolean }> = {}
  const queueCount = Resque.count(next())
  for (let q = 0; q < queueCount; q++) {
    const name = text()
    queues[name] = { length: Resque.count(next()), paused: Resque.count(next()) === 1 }
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

// ---------------------------------------------------------------------------------------------------------
// pages: bounded reads for dashboards and scripts (each a fixed number of round trips whatever the list's size)
// ---------------------------------------------------------------------------------------------------------

/**
 * Where a listed job is and how to name it again: `id` is a short hash of its stored string, `position` its
 * index in its list (from the head, oldest first) when it was read. A removal or retry names a job by both:
 * the position finds it in one read, the id makes sure it is the same job.
 *
 * @category models
 */
export const ListedAt = Schema.Struct({ id: Schema.String, position: Schema.Number })
/** @category models */
export type ListedAt = typeof ListedAt.Type

/** A queued or delayed job as listed: the {@link QueuedJob} fields with its id and position. @category models */
export const ListedJob = Schema.Struct({ ...QueuedJob.fields, ...ListedAt.fields })
/** @category models */
export type ListedJob = typeof ListedJob.Type

/** A failed job as listed: the {@link FailedJob} fields with its id and position. @category models */
export const ListedFailedJob = Schema.Struct({ ...FailedJob.fields, ...ListedAt.fields })
/** @category models */
export type ListedFailedJob = typeof ListedFailedJob.Type

/** A page of a queue: its length and the jobs from `offset` (head first). @category models */
export const QueuePage = Schema.Struct({
  queue: Schema.String,
  length: Schema.Number,
  offset: Schema.Number,
  limit: Schema.Number,
  jobs: Schema.Array(ListedJob)
})
/** @category models */
export type QueuePage = typeof QueuePage.Type

/** Which failed jobs: by action name and by error tag (`exception`), exactly; absent = any. @category models */
export const FailedFilter = Schema.Struct({
  action: Schema.optionalKey(Schema.String),
  exception: Schema.optionalKey(Schema.String)
})
/** @category models */
export type FailedFilter = typeof FailedFilter.Type

/** The order of a failed-jobs page. @category models */
export const FailedOrder = Schema.Literals(["newest", "oldest"])
/** @category models */
export type FailedOrder = typeof FailedOrder.Type

/**
 * A page of the failed list. `offset` and `next` count **records** in the page's order (newest first by
 * default), not matches: without a filter they are the same; with one, a page examines at most `scanned`
 * records from `offset` and `next` is where the following page starts (null at the end of the list).
 *
 * @category models
 */
export const FailedPage = Schema.Struct({
  total: Schema.Number,
  order: FailedOrder,
  offset: Schema.Number,
  limit: Schema.Number,
  filter: FailedFilter,
  scanned: Schema.Number,
  next: Schema.NullOr(Schema.Number),
  jobs: Schema.Array(ListedFailedJob)
})
/** @category models */
export type FailedPage = typeof FailedPage.Type

/** What a bulk retry or removal of failed jobs did. @category models */
export const FailedBulk = Schema.Struct({
  /** Records the filter matched. */
  matched: Schema.Number,
  /** Records retried or removed. */
  done: Schema.Number,
  /** Matched records that another client removed or moved first (left alone). */
  skipped: Schema.Number,
  /** Matched records that could not be retried (no queue or payload); left in the list. */
  notRetryable: Schema.Number
})
/** @category models */
export type FailedBulk = typeof FailedBulk.Type

/** The delayed jobs due at one second (ms), with how many there are and the first ones. @category models */
export const DelayedEntry = Schema.Struct({ at: Schema.Number, count: Schema.Number, jobs: Schema.Array(ListedJob) })
/** @category models */
export type DelayedEntry = typeof DelayedEntry.Type

/** A page of the delayed schedule, by due time: `times` seconds with jobs in all. @category models */
export const DelayedPage = Schema.Struct({
  times: Schema.Number,
  offset: Schema.Number,
  limit: Schema.Number,
  entries: Schema.Array(DelayedEntry)
})
/** @category models */
export type DelayedPage = typeof DelayedPage.Type

/** A fan-out's `onComplete` job: its action and queue, and whether it has been enqueued. @category models */
export const FanOutCompletion = Schema.Struct({
  action: Schema.NullOr(Schema.String),
  queue: Schema.String,
  enqueued: Schema.Boolean
})
/** @category models */
export type FanOutCompletion = typeof FanOutCompletion.Type

/** A fan-out's counts and state, without its children. @category models */
export const FanOutSummary = Schema.Struct({
  fanOutId: Schema.String,
  total: Schema.Number,
  completed: Schema.Number,
  failed: Schema.Number,
  /** Unique children not written because another job held their claim. */
  duplicate: Schema.Number,
  pending: Schema.Number,
  done: Schema.Boolean,
  actionNames: Schema.Array(Schema.String),
  queues: Schema.Array(Schema.String),
  /** Epoch ms. */
  createdAt: Schema.Number,
  /** Epoch ms the last child got its outcome; null while running. */
  doneAt: Schema.NullOr(Schema.Number),
  /** Time left before its results expire (the TTL slides with every child completion); null without expiry. */
  expiresInMs: Schema.NullOr(Schema.Number),
  onComplete: Schema.NullOr(FanOutCompletion)
})
/** @category models */
export type FanOutSummary = typeof FanOutSummary.Type

/** Fan-outs found by one bounded scan of the keyspace; `cursor` continues it (null: the scan is complete). @category models */
export const FanOutList = Schema.Struct({
  fanOuts: Schema.Array(FanOutSummary),
  cursor: Schema.NullOr(Schema.String),
  scannedKeys: Schema.Number
})
/** @category models */
export type FanOutList = typeof FanOutList.Type

/** Which children of a fan-out a page lists. @category models */
export const ChildStatus = Schema.Literals(["all", "completed", "failed", "duplicate", "pending"])
/** @category models */
export type ChildStatus = typeof ChildStatus.Type

/**
 * One child of a fan-out: its outcome when it has one (result, error with its tag and data, or `duplicate`
 * with the id of the job that held its claim), `pending` otherwise (a pending child's inputs are in its
 * queue, not in the fan-out: `action` and `inputs` are null).
 *
 * @category models
 */
export const FanOutChild = Schema.Struct({
  index: Schema.Number,
  status: Schema.Literals(["completed", "failed", "duplicate", "pending"]),
  duplicateOf: Schema.optionalKey(Schema.String),
  action: Schema.NullOr(Schema.String),
  inputs: Schema.Unknown,
  result: Schema.optionalKey(Schema.Unknown),
  exception: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.String),
  data: Schema.optionalKey(Schema.Unknown)
})
/** @category models */
export type FanOutChild = typeof FanOutChild.Type

/** A page of a fan-out's children, by index; `matched` children have the status asked for. @category models */
export const FanOutChildren = Schema.Struct({
  fanOutId: Schema.String,
  status: ChildStatus,
  matched: Schema.Number,
  offset: Schema.Number,
  limit: Schema.Number,
  children: Schema.Array(FanOutChild)
})
/** @category models */
export type FanOutChildren = typeof FanOutChildren.Type

/** Which workers a page lists. @category models */
export const WorkerState = Schema.Literals(["all", "busy", "idle", "stale"])
/** @category models */
export type WorkerState = typeof WorkerState.Type

/** A worker with its counters, what it runs and whether its ping is stale. @category models */
export const WorkerDetails = Schema.Struct({
  ...WorkerInfo.fields,
  ...Counters.fields,
  /** No ping for longer than the page's `staleAfterMs` (a worker without a ping is not stale). */
  stale: Schema.Boolean,
  workingOn: Schema.NullOr(WorkingOn)
})
/** @category models */
export type WorkerDetails = typeof WorkerDetails.Type

/** A page of the registered workers, by name, with counts over all of them. @category models */
export const WorkerPage = Schema.Struct({
  total: Schema.Number,
  busy: Schema.Number,
  idle: Schema.Number,
  stale: Schema.Number,
  state: WorkerState,
  staleAfterMs: Schema.Number,
  /** Workers in the chosen state (what `offset` pages through). */
  matched: Schema.Number,
  offset: Schema.Number,
  limit: Schema.Number,
  workers: Schema.Array(WorkerDetails)
})
/** @category models */
export type WorkerPage = typeof WorkerPage.Type

/** A worker unregistered for a stale ping, and what became of its job. @category models */
export const ReclaimedWorker = Schema.Struct({
  worker: Schema.String,
  action: Schema.NullOr(Schema.String),
  retried: Schema.Boolean
})
/** @category models */
export type ReclaimedWorker = typeof ReclaimedWorker.Type

/** The last completed run of an action (written by the `actionStats` middleware). @category models */
export const LastRun = Schema.Struct({
  /** Epoch ms the run ended. */
  at: Schema.Number,
  ok: Schema.Boolean
})
/** @category models */
export type LastRun = typeof LastRun.Type

/** A registered action's activity: its counters, mean duration and last run. @category models */
export const ActionActivity = Schema.Struct({
  ...ActionStats.fields,
  queue: Schema.String,
  description: Schema.String,
  frequencyMs: Schema.NullOr(Schema.Number),
  /** Mean run time in ms; null before the first run. */
  meanDurationMs: Schema.NullOr(Schema.Number),
  lastRun: Schema.NullOr(LastRun)
})
/** @category models */
export type ActionActivity = typeof ActionActivity.Type

/**
 * A recurring action in detail: its state, when its waiting copy is due, and its last run. `nextRunAt` is the
 * due time of the delayed copy; `queued` says the copy is waiting in its queue (due now); a live chain with
 * neither is running.
 *
 * @category models
 */
export const RecurringDetails = Schema.Struct({
  ...RecurringStatus.fields,
  nextRunAt: Schema.NullOr(Schema.Number),
  queued: Schema.Boolean,
  lastRun: Schema.NullOr(LastRun)
})
/** @category models */
export type RecurringDetails = typeof RecurringDetails.Type

/** The dashboard's overview: queues, counters, workers busy and idle, the leader, the newest failures. @category models */
export const Summary = Schema.Struct({
  queues: Schema.Array(QueueInfo),
  stats: Counters,
  failedCount: Schema.Number,
  workers: Schema.Struct({ total: Schema.Number, busy: Schema.Number, idle: Schema.Number }),
  leader: Schema.NullOr(Schema.String),
  delayedTimes: Schema.Number,
  recentFailures: Schema.Array(ListedFailedJob)
})
/** @category models */
export type Summary = typeof Summary.Type
