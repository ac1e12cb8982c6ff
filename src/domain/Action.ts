/**
 * An action is the unit of work: a name, a description, an input Schema and an Effect. The same definition
 * runs as a background job, a recurring job, a direct call and a CLI command; its inputs are decoded by the
 * Schema everywhere (coercion, defaults, refinements), and only the Schema's encoded side travels in a job.
 *
 * @since 0.1.0
 */
import type * as Cron from "effect/Cron"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type { JobTimedOut } from "./Errors.ts"
import type { Track, Unique } from "./JobControl.ts"

/**
 * Where an action runs as a background job, and when it recurs: every `frequency`, or at the times of a
 * `cron` expression (omit both for one-off jobs). A recurring action is started by the job scheduler's
 * leader; it has one live copy at a time, and each run's successor is due at the schedule's next time (not
 * a period after the run ended: no drift). See docs/schedules-and-limits.md.
 *
 * @category models
 */
export interface Task {
  readonly queue: string
  /** A Duration, or milliseconds: the first run at once, then one every `frequency`. */
  readonly frequency?: Duration.Input
  /**
   * A cron expression (`"0 * * * *"`: 5 fields, minute first; or 6, second first), or a `Cron` from Effect's
   * `Cron.parse`: runs at its times only (the first at its next time after the scheduler starts the chain).
   */
  readonly cron?: string | Cron.Cron
  /** The IANA time zone of a `cron` string (`"Europe/Paris"`); default UTC. */
  readonly timeZone?: string
  /**
   * Keeps the job's `args` exactly the inputs: the runtime's metadata (`_job`: fan-out id and index, retry
   * attempt) rides beside `args` in the payload (`{"class","queue","args","_job"}`) instead of inside the
   * inputs object. For actions whose jobs another Resque client's worker may run: a Ruby job taking keyword
   * arguments rejects the unknown `_job` key. Ruby Resque and node-resque ignore the extra payload key, and
   * this runtime's workers read it in either place. What is lost: a worker of an earlier version of this
   * runtime does not see metadata there (a fan-out child it runs is not recorded, a retry restarts its
   * count), and a client that re-creates the job from `class` and `args` (Ruby's failed-job retry,
   * resque-web's "Retry") drops it. Recurring copies keep their token inside the inputs. Default false.
   */
  readonly plainArgs?: boolean
}

/**
 * How a failed job is retried: up to `attempts` runs in all, each retry enqueued with a delay taken from
 * `schedule` (the n-th delay of the schedule is the one before attempt n + 1; default: 1 second).
 *
 * The policy sees the error (`E`: what `run` fails with, or `JobTimedOut` past the action's `timeout`):
 * `while` decides per error whether to retry at all, and the schedule gets the error as its input (so
 * `Schedule.while`, or a schedule built from the input, can give a delay per error). An error marked with
 * {@link unrecoverable} (or whose class has {@link Unrecoverable}) is never retried, whatever the policy.
 * Invalid inputs and defects are never retried either.
 *
 * Delays are kept as well as Resque's whole-second delayed schedule allows: a retry never runs before its
 * delay, and at most about a second after it (the second it is filed under, plus the scheduler's poll); a
 * delay of 0 re-enqueues it at once.
 *
 * @category models
 */
export interface RetryPolicy<E = unknown> {
  readonly attempts: number
  readonly schedule?: Schedule.Schedule<Duration.Duration | number, E>
  /** Retries only the errors it answers `true` for (default: every typed error); the others fail for good now. */
  readonly while?: (error: E) => boolean
}

/**
 * How many runs may start, and run at once, across every worker of every process: at most `rate.limit` runs
 * start in any window of `rate.per` (a sliding window), and at most `concurrency` run at the same time. A job
 * over a limit is not failed: it waits in its queue until the limit allows it. Per action (`Action.limit`) or
 * per queue (`Worker.Options.queueLimits`).
 *
 * @category models
 */
export interface Limit {
  readonly rate?: { readonly limit: number; readonly per: Duration.Input }
  readonly concurrency?: number
}

/**
 * The key of the mark that makes an error unrecoverable: a job failing with it is never retried. Give it to
 * an error class (`readonly [Action.Unrecoverable] = true`) or to one error with {@link unrecoverable}.
 *
 * @category models
 */
export const Unrecoverable: unique symbol = Symbol.for("effect-resque/Unrecoverable") as never

/**
 * Marks an error unrecoverable (and answers it): the job fails for good at once, whatever its retry policy.
 * The mark is not enumerable, so the error's data (its Schema encoding, its fields) is unchanged.
 *
 * @example
 * run: ({ email }) => email.includes("@") ? send(email) : Effect.fail(Action.unrecoverable(new BadAddress({ email })))
 *
 * @category constructors
 */
export const unrecoverable = <E extends object>(error: E): E => {
  Object.defineProperty(error, Unrecoverable, { value: true, enumerable: false, configurable: true })
  return error
}

/**
 * Whether an error is marked {@link Unrecoverable}.
 *
 * @category guards
 */
export const isUnrecoverable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { readonly [Unrecoverable]?: unknown })[Unrecoverable] === true

/**
 * A typed action. `I` is the decoded input type that `run` receives, `IE` the encoded form that travels in
 * the job payload and that callers pass to `enqueue`.
 *
 * @category models
 */
export interface Action<I, IE, A, E = never, R = never> {
  readonly name: string
  readonly description: string
  readonly inputs: Schema.Codec<I, IE>
  readonly run: (inputs: I) => Effect.Effect<A, E, R>
  /** Encodes results for storage (fan-out results, CLI output); default is the value as JSON. */
  readonly output?: Schema.Codec<A, unknown>
  /**
   * Encodes the errors `run` fails with, so failed-job records and fan-out errors keep them as data (tag and
   * fields) and `fanOutStatus`/`awaitFanOut` give them back typed. Without it an error is still shown with its
   * tag and fields, and kept as plain JSON where it is plain data.
   */
  readonly error?: Schema.Codec<E, unknown>
  readonly task?: Task
  /** Per-run time limit; past it the job fails with "timed out" and the worker moves on. */
  readonly timeout?: Duration.Input
  readonly retry?: RetryPolicy<NoInfer<E> | JobTimedOut>
  /** Rate limit and global concurrency of its runs, across all workers: a job over it waits in its queue. */
  readonly limit?: Limit
  /** Keep every job's status, progress and result for a TTL (see `JobControl.Track`); an enqueue may ask too. */
  readonly track?: Track
  /** Make its jobs unique (see `JobControl.Unique`); an enqueue may ask too, or give its own key. */
  readonly unique?: Unique
}

/**
 * Any action, whatever its types. `run` takes `never` because a caller without the action's type can only
 * hand it inputs that went through the action's own Schema.
 *
 * @category models
 */
export interface Any<R = unknown> {
  readonly name: string
  readonly description: string
  readonly inputs: Schema.Codec<unknown, unknown>
  readonly run: (inputs: never) => Effect.Effect<unknown, unknown, R>
  readonly output?: Schema.Codec<unknown, unknown>
  readonly error?: Schema.Codec<unknown, unknown>
  readonly task?: Task
  readonly timeout?: Duration.Input
  /** Its policy sees errors it cannot name: `never`, as `run` takes `never`. */
  readonly retry?: RetryPolicy<never>
  readonly limit?: Limit
  readonly track?: Track
  readonly unique?: Unique
}

/** The decoded inputs of an action. @category models */
export type Inputs<T> = T extends Action<infer I, infer _IE, infer _A, infer _E, infer _R> ? I : never
/** The encoded inputs of an action: what `enqueue` accepts and what travels in the job. @category models */
export type InputsEncoded<T> = T extends Action<infer _I, infer IE, infer _A, infer _E, infer _R> ? IE : never
/** The success type of an action's `run`. @category models */
export type Success<T> = T extends Action<infer _I, infer _IE, infer A, infer _E, infer _R> ? A : never
/** The error type of an action's `run`. @category models */
export type Failure<T> = T extends Action<infer _I, infer _IE, infer _A, infer E, infer _R> ? E : never
/** The services an action's `run` needs. @category models */
export type Services<T> = T extends { readonly run: (inputs: never) => Effect.Effect<infer _A, infer _E, infer R> } ? R
  : never

/**
 * Defines an action; the type of `run`'s argument is inferred from `inputs`.
 *
 * @example
 * const greet = Action.make({
 *   name: "greet",
 *   description: "Says hello",
 *   inputs: Schema.Struct({ who: Schema.String }),
 *   run: ({ who }) => Effect.succeed(`hello ${who}`),
 *   task: { queue: "default" }
 * })
 *
 * @category constructors
 */
export const make = <I, IE, A, E = never, R = never>(definition: Action<I, IE, A, E, R>): Action<I, IE, A, E, R> =>
  definition
