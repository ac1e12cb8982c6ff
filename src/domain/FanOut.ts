/**
 * Fan-out: a parent distributes work across many child jobs and can always tell, exactly, where they stand.
 * This module holds the data: options, the result of an enqueue, the status of a fan-out, the inputs an
 * `onComplete` action receives, the errors, and the compact encoding of one child's outcome in Redis.
 *
 * A child is an ordinary job whose payload carries the fan-out id and its index (see `Job.JobMeta`), so
 * any action works as a child unchanged. Each child is counted exactly once, by index: a retried child that
 * finally succeeds moves from `failed` to `completed`, and `completed + failed + duplicate === total` once
 * every child has an outcome (`duplicate`: unique children whose claim another job held, see
 * {@link ChildUnique}).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import type * as Action from "./Action.ts"
import type { Track, UniqueMode } from "./JobControl.ts"

/**
 * The inputs an `onComplete` action receives when the last child of its fan-out has finished. Use this Schema
 * (or one that accepts these fields; the counts travel as JSON numbers) as the `onComplete` action's inputs:
 * it decides what failed children mean. `duplicate` (unique children not written because another job held
 * their claim) travels only when it is not 0, so the payload (and the decoded inputs) of a fan-out without
 * duplicates is as it was: read it as `duplicate ?? 0`.
 *
 * @category models
 */
export const Completion = Schema.Struct({
  fanOutId: Schema.String,
  total: Schema.Finite,
  completed: Schema.Finite,
  failed: Schema.Finite,
  duplicate: Schema.optionalKey(Schema.Finite)
})

/** @category models */
export type Completion = typeof Completion.Type

/**
 * Unique children (see `JobControl.Unique` and docs/job-control.md "Unique jobs"): each child claims
 * `<ns>:unique:<action>:<key>` in the same script that writes its batch, so of overlapping fan-outs (and single
 * enqueues) in any number of processes, one job per key is written. A child whose claim another job holds is
 * not written: it is recorded at once with the outcome `duplicate`, naming the holder's id
 * ({@link ChildDuplicate}), so the fan-out never waits for it and `completed + failed + duplicate === total`.
 * A written unique child is tracked (id `FANOUTID:i`, a record from its enqueue on), and its claim is released
 * as a single unique job's is (its end in `until-done`, its start in `until-started`, the window in `window`;
 * a cancel while it waits releases it too, and records the child as failed with `JobCancelled`).
 *
 * @category models
 */
export interface ChildUnique<IE = unknown> {
  /** The child's key, from its encoded inputs (after the Schema: defaults applied). Default: a SHA-1 of them. */
  readonly key?: (inputs: IE) => string
  /** Default `until-done`. */
  readonly mode?: UniqueMode
  /** The claim's longest life. Default 1 hour. */
  readonly window?: Duration.Input
}

/**
 * Fan-out options.
 *
 * @category models
 */
export interface Options {
  /**
   * A fan-out id of your own (1 to 200 letters, digits, `_ . : -`; default a random UUID), for a parent that
   * may run again (a retried parent job, a re-run after a deploy): a run with the id of an existing fan-out
   * writes only the batches earlier runs did not (same inputs in the same order and the same `batchSize`
   * give the same batches), so children are not enqueued twice and `onComplete` fires once. An existing
   * fan-out with another number of children is a {@link FanOutInvalidOptions} error. Once a fan-out has
   * expired (`resultTtl` after its last activity), its id starts a new one.
   */
  readonly id?: string
  /**
   * Track every child (see `JobControl.Track`): child `i` has the id `FANOUTID:i`, `jobStatus` finds it
   * running and keeps its end, and `cancel` interrupts it while it runs (it counts as failed with the tag
   * `JobCancelled`). Default: not tracked.
   */
  readonly track?: Track
  /**
   * Make the children unique jobs ({@link ChildUnique}). Default: each child as its action declares (its
   * `unique`, a static `key` included: then every child of that action shares one key); an object here
   * replaces the action's; `false`: no child is unique.
   */
  readonly unique?: ChildUnique | false
  /** How many child jobs go to Redis in one round trip. Default 100. */
  readonly batchSize?: number
  /** How many batches are in flight at once. Default 4. */
  readonly concurrency?: number
  /**
   * How long the status is kept after the last activity. Every child completion pushes the expiry of all the
   * fan-out's keys out to this from now (a sliding TTL). Default 10 minutes. Must exceed the longest gap
   * between two child completions (queue wait included), or the fan-out expires and is `FanOutNotFound`.
   */
  readonly resultTtl?: Duration.Input
  /**
   * A bounded end: once this long has passed since the fan-out started, every child without an outcome
   * counts as failed (exception `FanOutDeadline`, with the reason; `inputs: null`, since they travelled only
   * in the job) and `onComplete` fires, whoever drained the children's queue. A child taken by another
   * Resque client's worker, or removed with resque-web's "Remove Queue", is never recorded otherwise. The
   * scheduler holding the duties lock does it, within a poll of the deadline (a `JobScheduler` must run); a
   * child that finishes later still moves to `completed`, but `onComplete` has fired. Default: none.
   * `resultTtl` then defaults to the deadline plus 10 minutes, and must exceed it.
   */
  readonly deadline?: Duration.Input
  /**
   * An action enqueued exactly once, when the last child has an outcome (failed ones included). It receives
   * {@link Completion} (`fanOutId`, `total`, `completed`, `failed`) merged over `inputs`.
   */
  readonly onComplete?: Action.Any | string | {
    readonly action: Action.Any | string
    readonly inputs?: Readonly<Record<string, unknown>>
    readonly queue?: string
  }
}

/**
 * Options of a single-action fan-out: the fan-out options and the queue every child goes to; a `unique` key
 * function is typed by the action's encoded inputs.
 *
 * @category models
 */
export interface SingleOptions<IE = unknown> extends Omit<Options, "unique"> {
  /** Default: the action's `task.queue`, else `default`. */
  readonly queue?: string
  /** See {@link Options.unique}. */
  readonly unique?: ChildUnique<IE> | false
}

/**
 * One child of a multi-action fan-out. Build typed ones with {@link job}.
 *
 * @category models
 */
export interface Job {
  readonly action: Action.Any | string
  readonly inputs: unknown
  /** Default: the action's `task.queue`, else `default`. */
  readonly queue?: string
}

/**
 * A typed child of a multi-action fan-out: `inputs` are checked against the action's Schema at compile time.
 *
 * @example
 * actions.fanOut([FanOut.job(resize, { url, width: 320 }), FanOut.job(notify, { to: "ops" }, { queue: "urgent" })])
 *
 * @category constructors
 */
export const job = <I, IE, A, E, R>(
  action: Action.Action<I, IE, A, E, R>,
  inputs: IE,
  options: { readonly queue?: string } = {}
): Job => {
  // the typed definition's inputs were checked above; the child list holds actions of any type
  const untyped = action as unknown as Action.Any
  return options.queue === undefined ? { action: untyped, inputs } : { action: untyped, inputs, queue: options.queue }
}

/**
 * A child refused at enqueue. `InvalidInputs` and `PayloadTooLarge` children were never part of the fan-out
 * (not counted in `total`); `NotEnqueued` children (their batch could not be written) are counted as failed
 * children with this message, so the fan-out still finishes, and a copy that did reach Redis after all
 * overwrites that outcome when it runs.
 *
 * @category models
 */
export interface EnqueueError {
  readonly index: number
  readonly action: string
  /** `Refused`: an enqueue hook refused the child (`Hooks.onEnqueue` failed with `EnqueueRefused`). */
  readonly reason: "InvalidInputs" | "PayloadTooLarge" | "NotEnqueued" | "Refused"
  readonly message: string
}

/** Carries the children's types on a {@link FanOutResult}; never present at run time. */
declare const Children: unique symbol

/**
 * What `fanOut` did. Plain data (a parent action may return it as its result); its type remembers the
 * children's result, input and error types, so `fanOutStatus(result)` and `awaitFanOut(result)` are typed.
 *
 * @category models
 */
export interface FanOutResult<A = unknown, IE = unknown, E = unknown> {
  readonly [Children]?: (_: never) => readonly [A, IE, E]
  readonly fanOutId: string
  /** Distinct action names of the children, in first-seen order. */
  readonly actionNames: ReadonlyArray<string>
  /** Distinct queues the children went to, in first-seen order. */
  readonly queues: ReadonlyArray<string>
  /** Children in the fan-out: every input that passed its Schema. */
  readonly total: number
  /** Children written to their queue (duplicates are not). */
  readonly enqueued: number
  readonly errors: ReadonlyArray<EnqueueError>
  /**
   * Unique children not written because another job held their claim, sorted by index; they count in
   * `total` and are recorded at once as `duplicate` (see {@link FanOutStatus}).
   */
  readonly duplicates: ReadonlyArray<Duplicate>
}

/**
 * A unique child that was not written because another job held its claim: the holder's id (`jobStatus` and
 * `awaitJob` follow it; a child of another fan-out is `FANOUTID:i`).
 *
 * @category models
 */
export interface Duplicate {
  readonly index: number
  readonly action: string
  readonly jobId: string
}

/** A {@link Duplicate} in a fan-out's status, with its (encoded) inputs. @category models */
export interface ChildDuplicate<IE = unknown> extends Duplicate {
  readonly inputs: IE
}

/** A child that succeeded: its index in the input array, its (encoded) inputs and its result. @category models */
export interface ChildResult<A = unknown, IE = unknown> {
  readonly index: number
  readonly action: string
  readonly inputs: IE
  readonly result: A
}

/**
 * A child that failed for good (no retry left): its index, inputs, the error's tag (`exception`) and text
 * (`error`, never empty), and the error itself as data (`failure`): decoded by the action's `error` Schema
 * when it has one, else its plain fields; absent for a failure without data (a defect, a dead worker).
 *
 * @category models
 */
export interface ChildError<IE = unknown, E = unknown> {
  readonly index: number
  readonly action: string
  readonly inputs: IE
  readonly exception: string
  readonly error: string
  readonly failure?: E
}

/**
 * Where a fan-out stands, read in one atomic step: counts, results and errors always agree.
 *
 * @category models
 */
export interface FanOutStatus<A = unknown, IE = unknown, E = unknown> {
  readonly fanOutId: string
  readonly total: number
  readonly completed: number
  readonly failed: number
  /** Unique children not written because another job held their claim (an outcome of their own). */
  readonly duplicate: number
  /** Children without an outcome yet (queued, running, or waiting for a retry). */
  readonly pending: number
  /** Every child has an outcome. */
  readonly done: boolean
  readonly actionNames: ReadonlyArray<string>
  readonly queues: ReadonlyArray<string>
  /** Epoch ms. */
  readonly createdAt: number
  /** Sorted by index. */
  readonly results: ReadonlyArray<ChildResult<A, IE>>
  /** Sorted by index. */
  readonly errors: ReadonlyArray<ChildError<IE, E>>
  /** Sorted by index. */
  readonly duplicates: ReadonlyArray<ChildDuplicate<IE>>
}

/**
 * `awaitFanOut` options.
 *
 * @category models
 */
export interface AwaitOptions {
  /** Give up after this long with {@link FanOutTimeout}. Default: wait until done or expired. */
  readonly timeout?: Duration.Input
  /** Longest pause between two polls of the counts (the poll backs off from 25 ms up to this). Default 1 s. */
  readonly maxPollInterval?: Duration.Input
}

/**
 * No fan-out of this id: it never existed or its results expired.
 *
 * @category errors
 */
export class FanOutNotFound extends Schema.TaggedError<FanOutNotFound>()("FanOutNotFound", {
  fanOutId: Schema.String
}) {
  override get message(): string {
    return `fan-out ${this.fanOutId} not found (unknown id, or its results expired)`
  }
}

/**
 * `awaitFanOut` gave up before every child had an outcome.
 *
 * @category errors
 */
export class FanOutTimeout extends Schema.TaggedError<FanOutTimeout>()("FanOutTimeout", {
  fanOutId: Schema.String,
  millis: Schema.Number,
  total: Schema.Number,
  finished: Schema.Number
}) {
  override get message(): string {
    return `fan-out ${this.fanOutId} not done after ${this.millis} ms (${this.finished} of ${this.total} children finished)`
  }
}

/**
 * A fan-out option is out of range (`batchSize` or `concurrency` not a whole number >= 1, `resultTtl` or
 * `timeout` not a positive finite duration). Nothing was written.
 *
 * @category errors
 */
export class FanOutInvalidOptions extends Schema.TaggedError<FanOutInvalidOptions>()("FanOutInvalidOptions", {
  option: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid fan-out option ${this.option}: ${this.detail}`
  }
}

/**
 * A stored child result does not decode with the action's `output` Schema.
 *
 * @category errors
 */
export class FanOutResultInvalid extends Schema.TaggedError<FanOutResultInvalid>()("FanOutResultInvalid", {
  fanOutId: Schema.String,
  index: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `result of child ${this.index} of fan-out ${this.fanOutId} does not decode: ${this.detail}`
  }
}

// ---------------------------------------------------------------------------------------------------------
// Stored outcome of one child: one hash field per child index, so a re-run overwrites instead of appending.
// `o`, `e` or `d`, then a JSON array: [action, inputs, result], [action, inputs, error text, tag, data?] or
// [action, inputs, holder's id] (a duplicate). The recording script only reads the first character; the rest
// is opaque to it. The batch script builds a duplicate's and the cancel script a cancelled child's outcome
// from the child's `outcomeHead`.
// ---------------------------------------------------------------------------------------------------------

/** Longest error message stored per child: keeps memory per child bounded. */
export const maxStoredError = 1024

/** Encodes a success; `resultJson` is the action's encoded result as JSON. @category encoding */
export const encodeSuccess = (action: string, inputs: unknown, resultJson: string): string =>
  `o[${JSON.stringify(action)},${JSON.stringify(inputs) ?? "null"},${resultJson}]`

/**
 * Encodes a final failure: the error's text, tag and data (`undefined` data is left out).
 *
 * @category encoding
 */
export const encodeFailure = (
  action: string,
  inputs: unknown,
  failure: { readonly error: string; readonly exception: string; readonly data?: unknown }
): string => {
  const text = failure.error.length > maxStoredError ? `${failure.error.slice(0, maxStoredError)}…` : failure.error
  const fields = failure.data === undefined ? [text, failure.exception] : [text, failure.exception, failure.data]
  return `e${JSON.stringify([action, inputs ?? null, ...fields])}`
}

/** The start of a child's stored outcome after its status character: `[action,inputs,`. @category encoding */
export const outcomeHead = (action: string, inputs: unknown): string => `[${JSON.stringify(action)},${JSON.stringify(inputs) ?? "null"},`

/** Encodes a duplicate: the id of the job that holds the child's claim. @category encoding */
export const encodeDuplicate = (action: string, inputs: unknown, jobId: string): string =>
  `d${outcomeHead(action, inputs)}${JSON.stringify(jobId)}]`

/**
 * A stored outcome, decoded; `value` is the result (JSON) or the error's text, `exception` and `data` are the
 * error's tag and data (records written before they were kept have neither).
 *
 * @category encoding
 */
export interface StoredOutcome {
  readonly ok: boolean
  readonly action: string
  readonly inputs: unknown
  readonly value: unknown
  readonly exception?: string
  readonly data?: unknown
  /** A duplicate (`ok` false): the id of the job that held the child's claim. */
  readonly duplicateOf?: string
}

/** Decodes a stored outcome; undefined if it is not one. @category encoding */
export const decodeOutcome = (raw: string): StoredOutcome | undefined => {
  const status = raw[0]
  if (status !== "o" && status !== "e" && status !== "d") return undefined
  try {
    const parsed: unknown = JSON.parse(raw.slice(1))
    if (!Array.isArray(parsed) || parsed.length < 3 || typeof parsed[0] !== "string") return undefined
    const [action, inputs, value, exception, data] = parsed as [string, unknown, unknown, unknown, unknown]
    if (status === "d") return typeof value === "string" ? { ok: false, action, inputs, value, duplicateOf: value } : undefined
    return {
      ok: status === "o",
      action,
      inputs,
      value,
      ...(typeof exception === "string" ? { exception } : {}),
      ...(parsed.length > 4 ? { data } : {})
    }
  } catch {
    return undefined
  }
}

/**
 * The start of the `onComplete` payload: the recording script appends the counts and closes it, so the
 * payload is a plain Resque job `{"class","queue","args":[{...inputs,"fanOutId","total","completed","failed"}]}`
 * (and `"duplicate"` when some children were duplicates).
 *
 * @category encoding
 */
export const completionPrefix = (queue: string, action: string, inputs: Readonly<Record<string, unknown>>): string => {
  const { fanOutId: _a, total: _b, completed: _c, failed: _d, duplicate: _e, ...rest } = inputs
  const body = JSON.stringify(rest)
  return `${JSON.stringify({ class: action, queue }).slice(0, -1)},"args":[${body.length > 2 ? `${body.slice(0, -1)},` : "{"}`
}

/** Completes a {@link completionPrefix} (what the script does in Lua, for the zero-children case). @category encoding */
export const completionPayload = (prefix: string, completion: Completion): string =>
  `${prefix}"fanOutId":${JSON.stringify(completion.fanOutId)},"total":${completion.total},"completed":${completion.completed},"failed":${completion.failed}${
    (completion.duplicate ?? 0) > 0 ? `,"duplicate":${completion.duplicate}` : ""
  }}]}`
