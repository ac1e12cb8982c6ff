/**
 * The dashboard's HTML routes: one `GET` per page (its query decoded with a Schema: a bad one is a 400 page,
 * never a crash), the login form, and the two assets. Each page loads the same data as its API endpoint and
 * renders it (`DashboardPages.ts`); a read that fails shows an error page with the API's status (404 for a
 * job or fan-out that is gone, 503 when Redis does not answer).
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as UrlParams from "effect/http/UrlParams"
import * as Ops from "../../domain/Operations.ts"
import * as DashboardAssets from "./DashboardAssets.ts"
import * as DashboardAuth from "./DashboardAuth.ts"
import type { Data, DataError } from "./DashboardData.ts"
import type { Frame, Html } from "./DashboardHtml.ts"
import * as DashboardPages from "./DashboardPages.ts"

/** What the routes are rendered with. @category models */
export interface Context {
  readonly data: Data
  readonly frame: Frame
  readonly guard: DashboardAuth.Guard
  readonly actionNames: ReadonlyArray<string>
}

const Int = (min: number, max: number) => Schema.FiniteFromString.check(Schema.isInt(), Schema.isBetween({ minimum: min, maximum: max }))
const Offset = Schema.optional(Int(0, Number.MAX_SAFE_INTEGER))
const Limit = Schema.optional(Int(1, 500))

const PageQuery = Schema.Struct({ offset: Offset, limit: Limit })
const QueueQuery = Schema.Struct({ queue: Schema.String, offset: Offset, limit: Limit })
const FailedQuery = Schema.Struct({
  offset: Offset,
  limit: Limit,
  order: Schema.optional(Ops.FailedOrder),
  action: Schema.optional(Schema.String),
  exception: Schema.optional(Schema.String)
})
const FanOutsQuery = Schema.Struct({ cursor: Schema.optional(Schema.String.check(Schema.isPattern(/^\d{1,20}$/))), limit: Limit })
const FanOutQuery = Schema.Struct({ id: Schema.String, status: Schema.optional(Ops.ChildStatus), offset: Offset, limit: Limit })
const WorkersQuery = Schema.Struct({
  state: Schema.optional(Ops.WorkerState),
  offset: Offset,
  limit: Limit,
  staleAfterMs: Schema.optional(Schema.FiniteFromString.check(Schema.isGreaterThanOrEqualTo(1000)))
})

const statusOf = (error: DataError): number => (error._tag === "NotFound" ? 404 : error._tag === "Unavailable" ? 503 : 400)

const htmlResponse = (body: Html, status = 200) => HttpServerResponse.text(body.text, { status, contentType: "text/html; charset=utf-8" })

/**
 * A page: decodes the route's path and query parameters with `query`, loads and renders; a bad query is a 400
 * page, a failed read the error page of its status.
 */
const pageRoute = <Q, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>>(
  context: Context,
  path: HttpRouter.PathInput,
  query: Schema.ConstraintCodec<Q, I, never, unknown>,
  load: (query: Q) => Effect.Effect<(view: DashboardPages.View) => Html, DataError>
) =>
  HttpRouter.route(
    "GET",
    path,
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const view: DashboardPages.View = { frame: context.frame, now }
      const decoded = yield* Effect.result(HttpRouter.schemaParams(query))
      if (decoded._tag === "Failure") return htmlResponse(DashboardPages.error(view, 400, `invalid request: ${decoded.failure.message}`), 400)
      const loaded = yield* Effect.result(load(decoded.success))
      if (loaded._tag === "Failure") return htmlResponse(DashboardPages.error(view, statusOf(loaded.failure), loaded.failure.message), statusOf(loaded.failure))
      return htmlResponse(loaded.success(view))
    })
  )

/** Only local paths are followed after logging in (no `//host`, no scheme). */
const safeNext = (next: string | undefined, prefix: string): string =>
  next !== undefined && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? `${prefix}${next}` : `${prefix}/`

const asset = (body: string, contentType: string) =>
  HttpServerResponse.text(body, { contentType, headers: { "cache-control": "public, max-age=3600" } })

const firstParam = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

/**
 * Every HTML route of the dashboard.
 *
 * @category routes
 */
export const routes = (context: Context) => {
  const { data, frame, guard } = context
  const base = frame.base
  const load = <A>(effect: Effect.Effect<A, DataError>, render: (view: DashboardPages.View, a: A) => Html) =>
    Effect.map(effect, (a) => (view: DashboardPages.View) => render(view, a))

  const loginPage = (next: string, failed: boolean, status = 200) => htmlResponse(DashboardPages.login(base, frame.title, { next, failed }), status)

  return [
    pageRoute(context, "/", Schema.Struct({}), () => load(data.overview, DashboardPages.overview)),
    pageRoute(context, "/queues", Schema.Struct({}), () => load(data.queues, DashboardPages.queues)),
    pageRoute(context, "/queues/:queue", QueueQuery, (q) => load(data.queueView(q.queue, q.offset, q.limit), DashboardPages.queue)),
    pageRoute(context, "/delayed", PageQuery, (q) => load(data.delayedPage(q.offset, q.limit), DashboardPages.delayed)),
    pageRoute(context, "/failed", FailedQuery, (q) =>
      load(data.failedPage(q), (view, page) => DashboardPages.failed(view, page, context.actionNames))),
    pageRoute(context, "/fan-outs", FanOutsQuery, (q) => load(data.fanOuts(q.cursor, q.limit), DashboardPages.fanOuts)),
    pageRoute(context, "/fan-outs/:id", FanOutQuery, (q) =>
      load(
        Effect.all([data.fanOutSummary(q.id), data.fanOutChildren(q.id, q)]),
        (view, [summary, children]) => DashboardPages.fanOut(view, summary, children)
      )),
    pageRoute(context, "/workers", WorkersQuery, (q) => load(data.workerPage(q), DashboardPages.workers)),
    pageRoute(context, "/recurring", Schema.Struct({}), () => load(data.recurring, DashboardPages.recurring)),
    pageRoute(context, "/actions", Schema.Struct({}), () => load(data.actionViews, DashboardPages.actions)),
    HttpRouter.route("GET", "/assets/dashboard.css", Effect.succeed(asset(DashboardAssets.css, "text/css; charset=utf-8"))),
    HttpRouter.route("GET", "/assets/dashboard.js", Effect.succeed(asset(DashboardAssets.js, "text/javascript; charset=utf-8"))),
    HttpRouter.route(
      "GET",
      "/login",
      Effect.map(HttpServerRequest.ParsedSearchParams, (params) => loginPage(firstParam(params["next"]) ?? "/", false))
    ),
    HttpRouter.route(
      "POST",
      "/login",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const form = yield* Effect.orElseSucceed(request.urlParamsBody, () => UrlParams.empty)
        const field = (name: string) => Option.getOrUndefined(UrlParams.getFirst(form, name))
        const next = field("next") ?? "/"
        const session = guard.sessionFor(field("token") ?? "")
        if (session === undefined) return loginPage(next, true, 401)
        return HttpServerResponse.redirect(safeNext(next, base), { status: 303, headers: { "set-cookie": DashboardAuth.sessionCookie(base, session) } })
      })
    ),
    HttpRouter.route("*", "/api/*", Effect.succeed(HttpServerResponse.jsonUnsafe({ _tag: "NotFound", message: "no such endpoint (see /api/openapi.json)" }, { status: 404 }))),
    HttpRouter.route(
      "POST",
      "/logout",
      Effect.succeed(HttpServerResponse.redirect(`${base}/login`, {
        status: 303,
        headers: { "set-cookie": `${DashboardAuth.sessionCookie(base, "")}; Max-Age=0` }
      }))
    )
  ] as const
}
