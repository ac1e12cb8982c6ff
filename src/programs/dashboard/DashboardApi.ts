/**
 * The dashboard's JSON API, declared once with Effect's `HttpApi`: every endpoint's path, query, payload,
 * success and error Schemas. The server decodes every request with them (a bad one is a 400 with the Schema's
 * message, never a crash), the pages call it for every change they make, scripts can call it (or build a
 * typed client with `HttpApiClient.make(Api)`), and `GET /api/openapi.json` documents it.
 *
 * Paths are relative to where the dashboard is mounted (`Dashboard.layer({ prefix })`). Models come from the
 * operations API (`domain/Operations.ts`), so the JSON here and the CLI's `--json` output are the same
 * records: `GET /api/status` is exactly what `status --json` prints, and every listed job is the CLI's record
 * with its `id` and `position` added.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import * as HttpApi from "effect/http-api/HttpApi"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Ops from "../../domain/Operations.ts"

// ---------------------------------------------------------------------------------------------------------
// errors: each with a readable message, as `{ "_tag": ..., "message": ... }`
// ---------------------------------------------------------------------------------------------------------

/** The request does not decode, or names something invalid (inputs that fail the action's Schema...). @category errors */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { message: Schema.String }, { httpApiStatus: 400 }) {}

/** No credentials, or wrong ones. @category errors */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", { message: Schema.String }, { httpApiStatus: 401 }) {}

/** A change refused: read-only mode, a missing or wrong CSRF token, a cross-site request, a host not allowed. @category errors */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", { message: Schema.String }, { httpApiStatus: 403 }) {}

/** The job, fan-out, action or worker is not there (any more). @category errors */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }, { httpApiStatus: 404 }) {}

/** Redis did not answer (or answered an error). @category errors */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", { message: Schema.String }, { httpApiStatus: 503 }) {}

/**
 * Turns request-decoding failures into {@link BadRequest} with the Schema's message, and documents the
 * errors every endpoint may answer (authentication, CSRF and read-only checks run before the API).
 *
 * @category middleware
 */
export class Errors extends HttpApiMiddleware.Service<Errors>()("effect-resque/dashboard/Errors", {
  error: [BadRequest, Unauthorized, Forbidden, NotFound, Unavailable]
}) {}

// ---------------------------------------------------------------------------------------------------------
// request parts
// ---------------------------------------------------------------------------------------------------------

const Offset = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Entries to skip (default 0)" })
const Limit = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 500 })).annotate({ description: "Entries per page (default 25, at most 500)" })
const Millis = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Name = Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(1000))

/** A listed job, named by the `id` and `position` it was listed with. @category models */
export const JobRef = Schema.Struct({
  id: Schema.String.check(Schema.isPattern(/^[0-9a-f]{16}$/)).annotate({ description: "The job's `id` from its listing" }),
  position: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "The job's `position` from its listing" })
})

/** A listed delayed job: its second (`at`, ms) and its `id` and `position` in that second's list. @category models */
export const DelayedRef = Schema.Struct({ at: Millis, ...JobRef.fields })

/** The filter of the failed list's bulk actions. @category models */
export const FailedFilterPayload = Schema.Struct({
  action: Schema.optionalKey(Schema.String),
  exception: Schema.optionalKey(Schema.String)
})

/** What to enqueue: the inputs (as the action's Schema encodes them), and optionally another queue or a delay. @category models */
export const EnqueuePayload = Schema.Struct({
  inputs: Schema.optionalKey(Schema.Unknown),
  queue: Schema.optionalKey(Name),
  delayMs: Schema.optionalKey(Millis)
})

// ---------------------------------------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------------------------------------

/** What the pages need to know about the dashboard itself. @category models */
export const Session = Schema.Struct({
  csrfToken: Schema.String,
  readOnly: Schema.Boolean,
  auth: Schema.Literals(["none", "token", "basic"]),
  refreshMs: Schema.Number,
  actions: Schema.Array(Schema.String)
})
export type Session = typeof Session.Type

/** One throughput sample: Resque's counters at a time. @category models */
export const Sample = Schema.Struct({ at: Schema.Number, processed: Schema.Number, failed: Schema.Number })
export type Sample = typeof Sample.Type

/** The overview page's data: the summary and the throughput samples kept by this dashboard. @category models */
export const Overview = Schema.Struct({
  ...Ops.Summary.fields,
  throughput: Schema.Array(Sample),
  sampleEveryMs: Schema.Number
})
export type Overview = typeof Overview.Type

/** Exactly what `status --json` prints: the operations' `taskDetails` and the failed list's length. @category models */
export const Status = Schema.Struct({ ...Ops.TaskDetails.fields, failedJobs: Schema.Number })
export type Status = typeof Status.Type

/** A queued job's inputs checked with its action's Schema: the decoded value, or the Schema's message. @category models */
export const InputCheck = Schema.Struct({
  valid: Schema.Boolean,
  value: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.String)
})
export type InputCheck = typeof InputCheck.Type

/** A listed queued job with its inputs checked (`check` null: the action is not registered here). @category models */
export const CheckedJob = Schema.Struct({ ...Ops.ListedJob.fields, check: Schema.NullOr(InputCheck) })
export type CheckedJob = typeof CheckedJob.Type

/** A page of a queue with its jobs' inputs checked. @category models */
export const QueueView = Schema.Struct({ ...Ops.QueuePage.fields, jobs: Schema.Array(CheckedJob) })
export type QueueView = typeof QueueView.Type

/** One field of an enqueue form, from the action's input Schema (its encoded side). @category models */
export const FormField = Schema.Struct({
  name: Schema.String,
  kind: Schema.Literals(["string", "number", "boolean", "choice", "json"]),
  required: Schema.Boolean,
  description: Schema.NullOr(Schema.String),
  choices: Schema.Array(Schema.Struct({ label: Schema.String, value: Schema.Unknown }))
})
export type FormField = typeof FormField.Type

/** An action's activity and, where the dashboard knows the action, its enqueue form. @category models */
export const ActionView = Schema.Struct({ ...Ops.ActionActivity.fields, fields: Schema.Array(FormField) })
export type ActionView = typeof ActionView.Type

/** A job just enqueued. @category models */
export const Enqueued = Schema.Struct({
  action: Schema.String,
  queue: Schema.String,
  /** Epoch ms it is due at; null: now. */
  at: Schema.NullOr(Schema.Number),
  payload: Schema.Unknown
})
export type Enqueued = typeof Enqueued.Type

const Removed = Schema.Struct({ removed: Schema.Number })

// ---------------------------------------------------------------------------------------------------------
// the API
// ---------------------------------------------------------------------------------------------------------

/** Overview, status and session. @category groups */
export class OverviewGroup extends HttpApiGroup.make("overview").add(
  HttpApiEndpoint.get("overview", "/api/overview", { success: Overview }),
  HttpApiEndpoint.get("status", "/api/status", { success: Status }),
  HttpApiEndpoint.get("session", "/api/session", { success: Session })
) {}

/** Queues and their jobs. @category groups */
export class QueuesGroup extends HttpApiGroup.make("queues").add(
  HttpApiEndpoint.get("list", "/api/queues", { success: Schema.Array(Ops.QueueInfo) }),
  HttpApiEndpoint.get("page", "/api/queues/:queue", {
    params: { queue: Name },
    query: { offset: Schema.optional(Offset), limit: Schema.optional(Limit) },
    success: QueueView
  }),
  HttpApiEndpoint.post("remove", "/api/queues/:queue/remove", {
    params: { queue: Name },
    payload: JobRef,
    success: Schema.Struct({ removed: Ops.QueuedJob }),
    error: NotFound
  }),
  HttpApiEndpoint.post("clear", "/api/queues/:queue/clear", { params: { queue: Name }, success: Removed })
) {}

/** The delayed schedule. @category groups */
export class DelayedGroup extends HttpApiGroup.make("delayed").add(
  HttpApiEndpoint.get("page", "/api/delayed", {
    query: { offset: Schema.optional(Offset), limit: Schema.optional(Limit) },
    success: Ops.DelayedPage
  }),
  HttpApiEndpoint.post("run", "/api/delayed/run", { payload: DelayedRef, success: Schema.Struct({ moved: Ops.QueuedJob }), error: NotFound }),
  HttpApiEndpoint.post("remove", "/api/delayed/remove", { payload: DelayedRef, success: Schema.Struct({ removed: Ops.QueuedJob }), error: NotFound })
) {}

/** The failed list. @category groups */
export class FailedGroup extends HttpApiGroup.make("failed").add(
  HttpApiEndpoint.get("page", "/api/failed", {
    query: {
      offset: Schema.optional(Offset),
      limit: Schema.optional(Limit),
      order: Schema.optional(Ops.FailedOrder),
      action: Schema.optional(Schema.String),
      exception: Schema.optional(Schema.String)
    },
    success: Ops.FailedPage
  }),
  HttpApiEndpoint.post("retry", "/api/failed/retry", { payload: JobRef, success: Schema.Struct({ retried: Ops.FailedJob }), error: NotFound }),
  HttpApiEndpoint.post("remove", "/api/failed/remove", { payload: JobRef, success: Schema.Struct({ removed: Ops.FailedJob }), error: NotFound }),
  HttpApiEndpoint.post("retryAll", "/api/failed/retry-all", { payload: FailedFilterPayload, success: Ops.FailedBulk }),
  HttpApiEndpoint.post("removeAll", "/api/failed/remove-all", { payload: FailedFilterPayload, success: Ops.FailedBulk })
) {}

/** Fan-outs. @category groups */
export class FanOutsGroup extends HttpApiGroup.make("fanOuts").add(
  HttpApiEndpoint.get("list", "/api/fan-outs", {
    query: { cursor: Schema.optional(Schema.String.check(Schema.isPattern(/^\d{1,20}$/))), limit: Schema.optional(Limit) },
    success: Ops.FanOutList
  }),
  HttpApiEndpoint.get("summary", "/api/fan-outs/:id", { params: { id: Name }, success: Ops.FanOutSummary, error: NotFound }),
  HttpApiEndpoint.get("children", "/api/fan-outs/:id/children", {
    params: { id: Name },
    query: { status: Schema.optional(Ops.ChildStatus), offset: Schema.optional(Offset), limit: Schema.optional(Limit) },
    success: Ops.FanOutChildren,
    error: NotFound
  })
) {}

/** Workers. @category groups */
export class WorkersGroup extends HttpApiGroup.make("workers").add(
  HttpApiEndpoint.get("page", "/api/workers", {
    query: {
      state: Schema.optional(Ops.WorkerState),
      offset: Schema.optional(Offset),
      limit: Schema.optional(Limit),
      staleAfterMs: Schema.optional(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1000)))
    },
    success: Ops.WorkerPage
  }),
  HttpApiEndpoint.post("cleanStuck", "/api/workers/clean-stuck", {
    payload: Schema.Struct({ olderThanMs: Millis.check(Schema.isGreaterThanOrEqualTo(1000)) }),
    success: Schema.Struct({ cleaned: Schema.Array(Ops.WorkingOn) })
  }),
  HttpApiEndpoint.post("reclaimStale", "/api/workers/reclaim-stale", {
    payload: Schema.Struct({ staleAfterMs: Millis.check(Schema.isGreaterThanOrEqualTo(1000)) }),
    success: Schema.Struct({ reclaimed: Schema.Array(Ops.ReclaimedWorker) })
  })
) {}

/** Recurring actions. @category groups */
export class RecurringGroup extends HttpApiGroup.make("recurring").add(
  HttpApiEndpoint.get("list", "/api/recurring", { success: Schema.Array(Ops.RecurringDetails) }),
  HttpApiEndpoint.post("stop", "/api/recurring/:action/stop", {
    params: { action: Name },
    success: Ops.RecurringStopped,
    error: [NotFound, BadRequest]
  }),
  HttpApiEndpoint.post("start", "/api/recurring/:action/start", {
    params: { action: Name },
    success: Schema.Struct({ action: Schema.String, started: Schema.Boolean }),
    error: [NotFound, BadRequest]
  })
) {}

/** Actions: activity and enqueueing. @category groups */
export class ActionsGroup extends HttpApiGroup.make("actions").add(
  HttpApiEndpoint.get("list", "/api/actions", { success: Schema.Array(ActionView) }),
  HttpApiEndpoint.post("enqueue", "/api/actions/:action/enqueue", {
    params: { action: Name },
    payload: EnqueuePayload,
    success: Enqueued,
    error: [NotFound, BadRequest]
  })
) {}

/**
 * The dashboard's API.
 *
 * @category api
 */
export class Api extends HttpApi.make("effect-resque-dashboard")
  .add(OverviewGroup, QueuesGroup, DelayedGroup, FailedGroup, FanOutsGroup, WorkersGroup, RecurringGroup, ActionsGroup)
  .middleware(Errors)
  .annotateMerge(OpenApi.annotations({
    title: "effect-resque dashboard",
    description: "Queues, delayed, failed and running jobs, fan-outs, workers, recurring actions and actions of a Resque Redis. " +
      "Changes are POST with an `x-csrf-token` header (from `GET /api/session`), unless authenticated with `Authorization: Bearer`."
  }))
{}
