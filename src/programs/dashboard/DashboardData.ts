/**
 * What the dashboard reads and changes, once for both faces: the API handlers return these values as JSON and
 * the pages render the same values as HTML, so a page and its endpoint always agree. Everything goes through
 * the public services (`Operations`, `Actions`, the action registry); the runtime's typed errors become the
 * API's: a missing job, fan-out, action or worker is {@link NotFound} (404), inputs the action's Schema
 * refuses and other bad requests are {@link BadRequest} (400), Redis failing is {@link Unavailable} (503).
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Action from "../../domain/Action.ts"
import type * as Ops from "../../domain/Operations.ts"
import type { ActionRegistry } from "../../layers/ActionRegistry.ts"
import type { Actions } from "../../layers/Actions.ts"
import type { Operations } from "../../layers/Operations.ts"
import {
  type ActionView,
  BadRequest,
  type CheckedJob,
  type Enqueued,
  type InputCheck,
  NotFound,
  type Overview,
  type QueueView,
  type Session,
  type Status,
  Unavailable
} from "./DashboardApi.ts"
import * as DashboardForms from "./DashboardForms.ts"
import type { Throughput } from "./DashboardThroughput.ts"

/** The errors of the dashboard's reads and changes. @category errors */
export type DataError = BadRequest | NotFound | Unavailable

/** Turns the runtime's errors into the API's. */
const toApiError = (error: { readonly _tag: string; readonly message: string }): DataError => {
  switch (error._tag) {
    case "RedisError":
      return new Unavailable({ message: error.message })
    case "JobNotFound":
    case "FailedJobNotFound":
    case "FanOutNotFound":
    case "UnknownAction":
    case "UnknownWorker":
      return new NotFound({ message: error.message })
    default:
      return new BadRequest({ message: error.message })
  }
}

const api = <A, E extends { readonly _tag: string; readonly message: string }>(effect: Effect.Effect<A, E>): Effect.Effect<A, DataError> =>
  Effect.mapError(effect, toApiError)

/** What the data works with. @category models */
export interface Services {
  readonly operations: Operations["Service"]
  readonly actions: Actions["Service"]
  readonly registry: ActionRegistry["Service"]
  readonly throughput: Throughput
  readonly session: Session
  /** Actions whose enqueue form the dashboard shows: the registered ones. */
  readonly definitions: ReadonlyArray<Action.Any>
}

/**
 * The dashboard's reads and changes.
 *
 * @category constructors
 */
export const make = (services: Services) => {
  const { operations, actions, registry } = services
  const forms = new Map(services.definitions.map((action) => [action.name, DashboardForms.fieldsOf(action)]))

  const overview: Effect.Effect<Overview, DataError> = Effect.gen(function*() {
    const summary = yield* api(operations.summary)
    return { ...summary, throughput: yield* services.throughput.samples, sampleEveryMs: services.throughput.everyMs }
  })

  const status: Effect.Effect<Status, DataError> = Effect.gen(function*() {
    const details = yield* api(operations.taskDetails)
    return { ...details, failedJobs: yield* api(operations.failedCount) }
  })

  /** A queued job's inputs through its action's Schema (null when the action is not registered here). */
  const check = (job: Ops.ListedJob): Effect.Effect<InputCheck | null> => {
    const entry = job.action === null ? undefined : registry.entries.get(job.action)
    if (entry === undefined) return Effect.succeed(null)
    return Effect.map(Effect.result(entry.decode(job.inputs)), (decoded) =>
      Result.isSuccess(decoded)
        ? { valid: true, value: DashboardForms.toJsonValue(decoded.success) }
        : { valid: false, error: decoded.failure.detail })
  }

  const queueView = (queue: string, offset?: number, limit?: number): Effect.Effect<QueueView, DataError> =>
    Effect.gen(function*() {
      const found = yield* api(operations.queuedPage(queue, { offset, limit }))
      const jobs = yield* Effect.forEach(found.jobs, (job) => Effect.map(check(job), (checked): CheckedJob => ({ ...job, check: checked })))
      return { ...found, jobs }
    })

  const actionViews: Effect.Effect<ReadonlyArray<ActionView>, DataError> = Effect.map(
    api(operations.actionActivity),
    (all) => all.map((activity) => ({ ...activity, fields: forms.get(activity.action) ?? [] }))
  )

  const enqueue = (name: string, payload: { readonly inputs?: unknown; readonly queue?: string; readonly delayMs?: number }) =>
    Effect.gen(function*() {
      if (!registry.entries.has(name)) return yield* new NotFound({ message: `unknown action ${name}` })
      const options = payload.queue === undefined ? {} : { queue: payload.queue }
      const inputs = payload.inputs ?? {}
      const at = payload.delayMs === undefined || payload.delayMs === 0 ? null : (yield* Clock.currentTimeMillis) + payload.delayMs
      const job = yield* api(at === null ? actions.enqueue(name, inputs, options) : actions.enqueueAt(at, name, inputs, options))
      return { action: job.action, queue: job.queue, at, payload: JSON.parse(job.payload) as unknown } satisfies Enqueued
    })

  const retryFailed = (at: Ops.ListedAt) =>
    Effect.gen(function*() {
      const job = yield* api(operations.findFailed(at))
      yield* api(operations.retryAndRemoveFailed(job))
      return { retried: job }
    })

  const removeFailed = (at: Ops.ListedAt) =>
    Effect.gen(function*() {
      const job = yield* api(operations.findFailed(at))
      yield* api(operations.removeFailed(job))
      return { removed: job }
    })

  return {
    session: services.session,
    overview,
    status,
    queues: api(operations.queues),
    queueView,
    removeQueued: (queue: string, at: Ops.ListedAt) => Effect.map(api(operations.removeQueued(queue, at)), (removed) => ({ removed })),
    clearQueue: (queue: string) => Effect.map(api(operations.delQueue(queue)), (removed) => ({ removed })),
    delayedPage: (offset?: number, limit?: number) => api(operations.delayedPage({ offset, limit })),
    runDelayed: (ref: Ops.ListedAt & { readonly at: number }) => Effect.map(api(operations.runDelayedNow(ref.at, ref)), (moved) => ({ moved })),
    removeDelayed: (ref: Ops.ListedAt & { readonly at: number }) =>
      Effect.map(api(operations.removeDelayedJob(ref.at, ref)), (removed) => ({ removed })),
    failedPage: (query: Parameters<Operations["Service"]["failedPage"]>[0]) => api(operations.failedPage(query)),
    retryFailed,
    removeFailed,
    retryAllFailed: (filter: Ops.FailedFilter) => api(operations.retryFailedWhere(filter)),
    removeAllFailed: (filter: Ops.FailedFilter) => api(operations.removeFailedWhere(filter)),
    fanOuts: (cursor?: string, limit?: number) => api(operations.fanOuts({ cursor, limit })),
    fanOutSummary: (id: string) => api(operations.fanOutSummary(id)),
    fanOutChildren: (id: string, options: { readonly status?: Ops.ChildStatus | undefined; readonly offset?: number | undefined; readonly limit?: number | undefined }) =>
      api(operations.fanOutChildren(id, options)),
    workerPage: (options: { readonly state?: Ops.WorkerState | undefined; readonly offset?: number | undefined; readonly limit?: number | undefined; readonly staleAfterMs?: number | undefined }) =>
      api(operations.workerPage({ ...options, staleAfter: options.staleAfterMs })),
    cleanStuck: (olderThanMs: number) => Effect.map(api(operations.cleanOldWorkers(olderThanMs)), (cleaned) => ({ cleaned })),
    reclaimStale: (staleAfterMs: number) => Effect.map(api(operations.reclaimStaleWorkers(staleAfterMs)), (reclaimed) => ({ reclaimed })),
    recurring: api(operations.recurringDetails),
    stopRecurring: (action: string) => api(operations.stopRecurrentAction(action)),
    startRecurring: (action: string) => Effect.map(api(operations.startRecurrentAction(action)), (started) => ({ action, started })),
    actionViews,
    enqueue
  }
}

/** The dashboard's reads and changes. @category models */
export type Data = ReturnType<typeof make>
