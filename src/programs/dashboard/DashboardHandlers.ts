/**
 * The JSON API's handlers: each endpoint of `DashboardApi.ts` answered from the dashboard's data
 * (`DashboardData.ts`), and the middleware that turns a request that does not decode into a 400 with the
 * Schema's message (`{"_tag":"BadRequest","message":"Expected a value between 1 and 500\n  at [\"limit\"]"}`).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import { Api, BadRequest, Errors } from "./DashboardApi.ts"
import type { Data } from "./DashboardData.ts"

/** Request-decoding failures as {@link BadRequest}. @category layers */
export const errorsLayer = HttpApiMiddleware.layerSchemaErrorTransform(Errors, (error) =>
  Effect.fail(new BadRequest({ message: `invalid ${error.kind.toLowerCase()}: ${error.cause.message}` })))

/**
 * Every group of the API, answered from `data`.
 *
 * @category layers
 */
export const layer = (data: Data) =>
  Layer.mergeAll(
    HttpApiBuilder.group(Api, "overview", (h) =>
      h.handle("overview", () => data.overview)
        .handle("status", () => data.status)
        .handle("session", () => Effect.succeed(data.session))),
    HttpApiBuilder.group(Api, "queues", (h) =>
      h.handle("list", () => data.queues)
        .handle("page", ({ params, query }) => data.queueView(params.queue, query.offset, query.limit))
        .handle("remove", ({ params, payload }) => data.removeQueued(params.queue, payload))
        .handle("clear", ({ params }) => data.clearQueue(params.queue))),
    HttpApiBuilder.group(Api, "delayed", (h) =>
      h.handle("page", ({ query }) => data.delayedPage(query.offset, query.limit))
        .handle("run", ({ payload }) => data.runDelayed(payload))
        .handle("remove", ({ payload }) => data.removeDelayed(payload))),
    HttpApiBuilder.group(Api, "failed", (h) =>
      h.handle("page", ({ query }) => data.failedPage(query))
        .handle("retry", ({ payload }) => data.retryFailed(payload))
        .handle("remove", ({ payload }) => data.removeFailed(payload))
        .handle("retryAll", ({ payload }) => data.retryAllFailed(payload))
        .handle("removeAll", ({ payload }) => data.removeAllFailed(payload))),
    HttpApiBuilder.group(Api, "fanOuts", (h) =>
      h.handle("list", ({ query }) => data.fanOuts(query.cursor, query.limit))
        .handle("summary", ({ params }) => data.fanOutSummary(params.id))
        .handle("children", ({ params, query }) => data.fanOutChildren(params.id, query))),
    HttpApiBuilder.group(Api, "workers", (h) =>
      h.handle("page", ({ query }) => data.workerPage(query))
        .handle("cleanStuck", ({ payload }) => data.cleanStuck(payload.olderThanMs))
        .handle("reclaimStale", ({ payload }) => data.reclaimStale(payload.staleAfterMs))),
    HttpApiBuilder.group(Api, "recurring", (h) =>
      h.handle("list", () => data.recurring)
        .handle("stop", ({ params }) => data.stopRecurring(params.action))
        .handle("start", ({ params }) => data.startRecurring(params.action))),
    HttpApiBuilder.group(Api, "actions", (h) =>
      h.handle("list", () => data.actionViews)
        .handle("enqueue", ({ params, payload }) => data.enqueue(params.action, payload)))
  )

/**
 * The API's routes (with its OpenAPI document at `/api/openapi.json`), answered from `data`.
 *
 * @category layers
 */
export const routes = (data: Data) =>
  HttpApiBuilder.layer(Api, { openapiPath: "/api/openapi.json" }).pipe(Layer.provide(layer(data)), Layer.provide(errorsLayer))
