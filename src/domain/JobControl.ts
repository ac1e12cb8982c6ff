/**
 * Job control, as data: a job's handle (its id), where a job stands (`jobStatus`), what waiting for one
 * ends with (`awaitJob`), uniqueness and tracking options, cancel's answer, and their errors.
 *
 * Every job enqueued through `Actions` gets an id, carried in its reserved `_job` metadata (the Resque wire
 * format is unchanged). Only a **tracked** job (the action or the enqueue asks `track`) has a record of its
 * own: its state, progress and result or error, kept for the TTL `track` gives. The record is written by the
 * enqueue (same round trip) and by the job's completion (same script), so a job nobody tracks costs nothing
 * more than its id.
 *
 * @since 0.3.0
 */
import type * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * What a job may be:
 * - `queued`, `delayed`: waiting (on its queue, or on Resque's delayed schedule: a retry waits there too);
 * - `running`: a worker holds it (`worker` says which);
 * - `succeeded`, `failed` (for good: no retry left), `cancelled`: ended;
 * - `unknown`: no record (never tracked, or its record expired) and no worker runs it.
 *
 * @category models
 */
export type JobState = "queued" | "delayed" | "running" | "succeeded" | "failed" | "cancelled" | "unknown"

/**
 * A failure as the job's record keeps it: the error's tag, its text and its data as stored.
 *
 * @category models
 */
export interface JobFailure {
  readonly exception: string
  readonly message: string
  readonly data?: unknown
}

/**
 * The latest progress a running job reported (`JobProgress.report`).
 *
 * @category models
 */
export interface Progress {
  readonly value?: number
  readonly data?: unknown
}

/**
 * Where a job stands.
 *
 * @category models
 */
export interface JobStatus<A = unknown, E = unknown> {
  readonly id: string
  readonly state: JobState
  readonly action?: string
  readonly queue?: string
  /** The worker running it (state `running`), or the one that ran it last. */
  readonly worker?: string
  /** The run it is at (1 for the first). */
  readonly attempt?: number
  readonly progress?: Progress
  /** The result, decoded by the action's `output` Schema (state `succeeded`, tracked jobs). */
  readonly result?: A
  /** The error it failed with (state `failed`), or the last failure of a job waiting for its retry. */
  readonly failure?: JobFailure
  /** That failure's data decoded by the action's `error` Schema, when it has one and the data fits it. */
  readonly error?: E
  readonly enqueuedAt?: number
  readonly finishedAt?: number
}

/**
 * A job just enqueued: its id, action, queue and payload. Typed by the action, so `awaitJob(handle)` gives
 * back its result and error types.
 *
 * @category models
 */
export interface JobHandle<A = unknown, E = unknown> {
  readonly id: string
  readonly action: string
  readonly queue: string
  readonly payload: string
  /**
   * False when a unique job's claim was held by another job: nothing was written, and `id` is that job's.
   * True otherwise.
   */
  readonly enqueued: boolean
  /**
   * Whether the job is tracked (its status, progress and result kept; it can be cancelled). An untracked
   * job's payload carries no id (it travels exactly as Resque writes it), so nothing can be asked about it
   * by its id.
   */
  readonly tracked: boolean
  /** Phantom: the action's success and error types. */
  readonly _types?: (_: never) => readonly [A, E]
}

/**
 * Keep the job's status, progress and result (or error) for `ttl` (default 1 hour) after its last change:
 * what `jobStatus` and `awaitJob` read. `true` means the default.
 *
 * @category models
 */
export type Track = boolean | Duration.Input | { readonly ttl: Duration.Input }

/**
 * While which states a uniqueness claim holds:
 * - `until-done` (default): while the job is queued, delayed or running; its end (or its cancel) releases it;
 * - `until-started`: while it is queued or delayed; once a worker runs it another may be enqueued;
 * - `window`: for the whole `window`, whatever became of the job (a throttle).
 *
 * @category models
 */
export type UniqueMode = "until-done" | "until-started" | "window"

/**
 * A uniqueness claim: at most one job of the action with this `key` (default: derived from the encoded
 * inputs) at a time, in the sense of `mode`. The claim lasts at most `window` (default 1 hour), so a job lost
 * by a crash never blocks its key for ever. A unique job is tracked (its record is how the claim's holder is
 * found).
 *
 * @category models
 */
export interface Unique {
  readonly key?: string
  readonly window?: Duration.Input
  readonly mode?: UniqueMode
}

/**
 * Options of `awaitJob`.
 *
 * @category models
 */
export interface AwaitOptions {
  /** Give up after this long with {@link JobAwaitTimeout}. Default: until the job ends or its record expires. */
  readonly timeout?: Duration.Input
  /** Longest pause between two reads of its record (backing off from 25 ms). Default 1 s. */
  readonly maxPollInterval?: Duration.Input
}

/**
 * What `cancel` did: `removed` (it was queued or delayed: taken off, its record says cancelled),
 * `interrupting` (a worker runs it: told to interrupt it; it ends as cancelled), `finished` (it had ended
 * already), `unknown` (no such tracked job).
 *
 * @category models
 */
export type CancelResult = "removed" | "interrupting" | "finished" | "unknown"

/** The default TTL of a tracked job's record: one hour. */
export const defaultTrackMillis = 3_600_000

/** The default uniqueness window: one hour. */
export const defaultUniqueWindowMillis = 3_600_000

/**
 * No tracked job of this id: never tracked, or its record expired.
 *
 * @category errors
 */
export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  id: Schema.String
}) {
  override get message(): string {
    return `job ${this.id} not found (not tracked, or its record expired)`
  }
}

/**
 * `awaitJob` gave up: the job had not ended after `millis`.
 *
 * @category errors
 */
export class JobAwaitTimeout extends Schema.TaggedError<JobAwaitTimeout>()("JobAwaitTimeout", {
  id: Schema.String,
  millis: Schema.Number,
  state: Schema.String
}) {
  override get message(): string {
    return `job ${this.id} still ${this.state} after ${this.millis} ms`
  }
}

/**
 * The job failed with an error its action's `error` Schema does not describe (a defect, a timeout, an
 * action without an `error` Schema): its tag, text and data as recorded.
 *
 * @category errors
 */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {
  id: Schema.String,
  exception: Schema.String,
  error: Schema.String,
  data: Schema.optional(Schema.Unknown)
}) {
  override get message(): string {
    return `job ${this.id} failed: ${this.exception}: ${this.error}`
  }
}

/**
 * The job was cancelled (`cancel`): while it waited, or interrupted while it ran. Its own outcome: never
 * retried; in a fan-out it counts as failed with this tag.
 *
 * @category errors
 */
export class JobCancelled extends Schema.TaggedError<JobCancelled>()("JobCancelled", {
  id: Schema.String
}) {
  override get message(): string {
    return `job ${this.id} was cancelled`
  }
}

/**
 * A progress report that cannot be kept: a value that is not a finite number, data that is not JSON, or a
 * report larger than 4 KiB.
 *
 * @category errors
 */
export class InvalidProgress extends Schema.TaggedError<InvalidProgress>()("InvalidProgress", {
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid progress: ${this.detail}`
  }
}

/** The largest progress report kept, in bytes of JSON. */
export const maxProgressBytes = 4096

/** Whether a state is an end (the job will not change any more). @category guards */
export const isFinal = (state: JobState): boolean => state === "succeeded" || state === "failed" || state === "cancelled"
