/**
 * Hooks: code of the application (or of this runtime: tracing, metrics, logs) that runs when a job is
 * enqueued and around each run of a job. A hook is a plain record of optional functions:
 *
 * - `onEnqueue` sees every job about to be written (enqueue, delayed enqueue, each fan-out child and a
 *   fan-out's `onComplete`) and may add **headers** (strings kept in the job's reserved `_job` metadata, never
 *   in the action's inputs) or refuse the job with {@link EnqueueRefused}. It runs before the write, so a
 *   refused fan-out child is left out of its batch and lands in the fan-out's `errors`.
 * - `aroundEnqueue` wraps one send: a single enqueue, or a whole fan-out (its `onEnqueue` calls run inside).
 * - `aroundJob` wraps each run of a job in the worker (per-job context, a tenant, a lock, a span).
 * - `afterJob` is told what each run came to, once its completion is written (counters, logs).
 *
 * What a completion writes to Redis with the job's own bookkeeping is a worker middleware
 * (`WorkerMiddleware`), the after-completion hook that works in data.
 *
 * Several hooks compose in list order: the first one's `aroundJob` is the outermost, `onEnqueue` runs first to
 * last and their headers are merged (a later hook wins a name).
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import type { EnqueueRefused } from "./Errors.ts"
import type * as Job from "./Job.ts"
import type * as Outcome from "./Outcome.ts"

/**
 * A job about to be written.
 *
 * @category models
 */
export interface Enqueueing {
  readonly action: string
  readonly queue: string
  /** The inputs as they will travel (encoded by the action's Schema), without `_job`. */
  readonly inputs: unknown
  /** When it is due (epoch ms) for a delayed enqueue; `undefined` for now. */
  readonly at?: number | undefined
  /** The fan-out and index of a fan-out child. */
  readonly fanOut?: { readonly id: string; readonly index: number } | undefined
  /** True for a fan-out's `onComplete` job. */
  readonly completion?: boolean | undefined
}

/**
 * One send: a single job, or a fan-out with all its children.
 *
 * @category models
 */
export interface Send {
  readonly kind: "enqueue" | "fanOut"
  /** The action of a single job; the first child's action of a fan-out. */
  readonly action: string
  /** The queue of a single job; the first child's queue of a fan-out. */
  readonly queue: string
  /** Jobs in this send: 1, or the fan-out's children. */
  readonly count: number
  readonly fanOutId?: string | undefined
  /** When a delayed job is due (epoch ms). */
  readonly at?: number | undefined
}

/**
 * A job as the worker runs it.
 *
 * @category models
 */
export interface Running {
  readonly job: Job.ParsedJob
  readonly queue: string
  readonly worker: string
  /** The job's id when it has one (`JobControl`), else `fanOutId:index` for a fan-out child, else `worker#n`. */
  readonly jobId: string
  /** 1 for the first run. */
  readonly attempt: number
  /** When the worker started it (epoch ms). */
  readonly startedAt: number
  /**
   * Headers for the job's successor, the next copy of a recurring action (tracing sets a link to this run).
   * A hook may set it while the job runs.
   */
  successorHeaders?: Readonly<Record<string, string>> | undefined
}

/**
 * What one run of a job came to, after its completion was written.
 *
 * @category models
 */
export interface Finished {
  /** `undefined` for a payload that could not be read. */
  readonly job: Job.ParsedJob | undefined
  readonly queue: string
  readonly worker: string
  readonly outcome: Outcome.Outcome
  /** True when the failure is retried (a later attempt decides the job's outcome). */
  readonly retried: boolean
  /** When the worker started it (epoch ms). */
  readonly startedAt: number
}

/**
 * A hook: a name (used in errors and logs) and any of the four functions.
 *
 * @category models
 */
export interface Hook {
  readonly name: string
  readonly onEnqueue?: ((job: Enqueueing) => Effect.Effect<Readonly<Record<string, string>> | undefined, EnqueueRefused>) | undefined
  readonly aroundEnqueue?: (<A, E, R>(send: Send, enqueue: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
  readonly aroundJob?: (<A, E, R>(job: Running, run: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
  readonly afterJob?: ((finished: Finished) => void) | undefined
}

/**
 * A list of hooks composed once: each function `undefined` when no hook has it, so the callers skip it (a job
 * pays nothing for hooks nobody installed).
 *
 * @category models
 */
export interface Composed {
  readonly onEnqueue: ((job: Enqueueing) => Effect.Effect<Readonly<Record<string, string>> | undefined, EnqueueRefused>) | undefined
  readonly aroundEnqueue: (<A, E, R>(send: Send, enqueue: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
  readonly aroundJob: (<A, E, R>(job: Running, run: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) | undefined
  readonly afterJob: ((finished: Finished) => void) | undefined
}

/** No hook at all. @category constructors */
export const none: Composed = { onEnqueue: undefined, aroundEnqueue: undefined, aroundJob: undefined, afterJob: undefined }

/**
 * Composes hooks in order: `onEnqueue` first to last (headers merged), `aroundEnqueue` and `aroundJob` with
 * the first outermost, `afterJob` first to last.
 *
 * @category constructors
 */
export const compose = (hooks: ReadonlyArray<Hook>): Composed => {
  const onEnqueues = hooks.flatMap((hook) => (hook.onEnqueue ? [hook.onEnqueue] : []))
  const aroundEnqueues = hooks.flatMap((hook) => (hook.aroundEnqueue ? [hook.aroundEnqueue] : []))
  const aroundJobs = hooks.flatMap((hook) => (hook.aroundJob ? [hook.aroundJob] : []))
  const afterJobs = hooks.flatMap((hook) => (hook.afterJob ? [hook.afterJob] : []))
  // headers merged in order, a later hook winning a name; one step per hook (it runs for every fan-out child)
  const merge = (headers: Readonly<Record<string, string>> | undefined, added: Readonly<Record<string, string>> | undefined) =>
    added === undefined ? headers : headers === undefined ? added : { ...headers, ...added }
  const onEnqueue = onEnqueues.length === 0 ? undefined : onEnqueues.length === 1 ? onEnqueues[0] : (job: Enqueueing) =>
    onEnqueues.slice(1).reduce(
      (headers, hook) => Effect.flatMap(headers, (so) => Effect.map(hook(job), (added) => merge(so, added))),
      onEnqueues[0]!(job)
    )
  return {
    onEnqueue,
    aroundEnqueue: aroundEnqueues.length === 0 ? undefined : aroundEnqueues.length === 1 ? aroundEnqueues[0] : (send, enqueue) => aroundEnqueues.reduceRight((inner, hook) => hook(send, inner), enqueue),
    aroundJob: aroundJobs.length === 0 ? undefined : aroundJobs.length === 1 ? aroundJobs[0] : (job, run) => aroundJobs.reduceRight((inner, hook) => hook(job, inner), run),
    // every hook is told, though one before it throws; the first throw goes on to the caller (the worker logs it)
    afterJob: afterJobs.length === 0 ? undefined : afterJobs.length === 1 ? afterJobs[0] : (finished) => {
      let thrown: { readonly error: unknown } | undefined
      for (const hook of afterJobs) {
        try {
          hook(finished)
        } catch (error) {
          thrown ??= { error }
        }
      }
      if (thrown !== undefined) throw thrown.error
    }
  }
}
