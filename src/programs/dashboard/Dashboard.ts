/**
 * The web dashboard (`effect-resque/dashboard`): queues, delayed, failed and running jobs, fan-outs, workers,
 * recurring actions and actions, live, with the JSON API behind it. Mount it in an Effect HTTP server with
 * {@link layer}, or run it from an application's CLI with `jobs web`.
 *
 * @example
 * import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
 * import { HttpRouter } from "effect/http"
 * import * as Dashboard from "effect-resque/dashboard"
 *
 * const Server = HttpRouter.serve(Dashboard.layer({ prefix: "/jobs" })).pipe(
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 8080, host: "127.0.0.1" })),
 *   Layer.provide(App) // Resque.layer(...) on a Redis layer: Operations, Actions, the registry
 * )
 *
 * **Safe by default**: on an address other machines can reach it refuses to start without `auth` (a token or
 * basic auth, compared in constant time); changes are POSTs with a CSRF token; `readOnly` refuses them all.
 * Every page and endpoint is a bounded number of Redis round trips whatever the size of the data, stated in
 * each page's footer and in docs/dashboard.md.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Path from "effect/Path"
import * as Schema from "effect/Schema"
import type * as Etag from "effect/http/Etag"
import type * as HttpPlatform from "effect/http/HttpPlatform"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as NetAddress from "effect/net/NetAddress"
import { ActionRegistry } from "../../layers/ActionRegistry.ts"
import { Actions } from "../../layers/Actions.ts"
import { Operations } from "../../layers/Operations.ts"
import { Redis } from "../../layers/Redis.ts"
import * as DashboardAuth from "./DashboardAuth.ts"
import * as DashboardData from "./DashboardData.ts"
import * as DashboardHandlers from "./DashboardHandlers.ts"
import * as DashboardRoutes from "./DashboardRoutes.ts"
import * as DashboardThroughput from "./DashboardThroughput.ts"

export { Api, BadRequest, Forbidden, NotFound, Unauthorized, Unavailable } from "./DashboardApi.ts"
export type { Auth } from "./DashboardAuth.ts"
export { constantTimeEqual, isLocal, loopbackHosts } from "./DashboardAuth.ts"

/**
 * Dashboard options.
 *
 * @category models
 */
export interface Options {
  /** Where the dashboard is mounted in the server, e.g. `/jobs`. Default: the root. */
  readonly prefix?: string
  /**
   * Who may use it: `{ token }` (a bearer token; browsers log in once and get a cookie) or
   * `{ basic: { username, password } }`. Required on an address other machines can reach.
   */
  readonly auth?: DashboardAuth.Auth
  /** Refuse every change (retry, remove, enqueue, stop...): a dashboard to look only. Default false. */
  readonly readOnly?: boolean
  /**
   * `Host` header values accepted, e.g. `["127.0.0.1:8080", "localhost:8080"]`, or `"loopback"` for this
   * machine's names at the server's port: a guard against DNS rebinding for a dashboard without auth on
   * loopback (`web` sets it). Default: any.
   */
  readonly allowedHosts?: ReadonlyArray<string> | "loopback"
  /** How often pages refresh their live parts. Default 2 seconds. */
  readonly refresh?: Duration.Input
  /** The throughput sparkline's sampling: every (default 5 s) and how many samples are kept (default 120). */
  readonly throughput?: DashboardThroughput.Options
  /** The name in the navigation bar. Default `effect-resque`. */
  readonly title?: string
  /**
   * Serve without auth on an address other machines can reach (behind your own authenticating proxy, say).
   * Default false: such a dashboard refuses to start.
   */
  readonly allowUnauthenticated?: boolean
}

/**
 * The dashboard would be reachable by other machines without authentication: give it `auth` (or bind the
 * server to loopback).
 *
 * @category errors
 */
export class DashboardUnsafe extends Schema.TaggedError<DashboardUnsafe>()("DashboardUnsafe", { address: Schema.String }) {
  override get message(): string {
    return `refusing to serve the dashboard on ${this.address} without authentication: ` +
      `give it a token or basic auth (--token / --basic-auth), or bind it to 127.0.0.1`
  }
}

/** `/jobs/` → `/jobs`, `jobs` → `/jobs`, `/` → `` (the root). */
const normalizePrefix = (prefix: string | undefined): string => {
  const trimmed = (prefix ?? "").trim().replace(/\/+$/, "")
  return trimmed === "" ? "" : trimmed.startsWith("/") ? trimmed : `/${trimmed}`
}

/** The router, with every route added under `prefix`. */
const prefixedRouter = (prefix: string) =>
  prefix === "" ? Layer.empty : Layer.effect(HttpRouter.HttpRouter, Effect.map(HttpRouter.HttpRouter, (router) => router.prefixed(prefix)))

/**
 * What the dashboard needs: the application's router, the runtime's services (`Resque.layer` on a Redis
 * layer), and the HTTP platform services a server layer provides (`NodeHttpServer.layer` provides them all).
 *
 * @category models
 */
export type Requirements =
  | HttpRouter.HttpRouter
  | Operations
  | Actions
  | ActionRegistry
  | Redis
  | Etag.Generator
  | HttpPlatform.HttpPlatform
  | FileSystem.FileSystem
  | Path.Path

/**
 * The dashboard's routes (pages, JSON API, assets) on the application's `HttpRouter`, under `prefix`. Needs
 * the runtime's services (`Resque.layer` on a Redis layer). Fails with {@link DashboardUnsafe} when the server
 * it is served by listens on an address other machines can reach and there is no `auth`.
 *
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, DashboardUnsafe, Requirements> =>
  Layer.unwrap(Effect.gen(function*() {
    const server = yield* Effect.serviceOption(HttpServer.HttpServer)
    if (Option.isSome(server) && options.auth === undefined && options.allowUnauthenticated !== true && !DashboardAuth.isLocal(server.value.address)) {
      return yield* new DashboardUnsafe({ address: HttpServer.formatAddress(server.value.address) })
    }
    const prefix = normalizePrefix(options.prefix)
    const operations = yield* Operations
    const actions = yield* Actions
    const registry = yield* ActionRegistry
    const redis = yield* Redis
    const readOnly = options.readOnly === true
    const port = Option.isSome(server) && NetAddress.isInetAddress(server.value.address) ? server.value.address.port : undefined
    const allowedHosts = options.allowedHosts === "loopback"
      ? (port === undefined ? undefined : DashboardAuth.loopbackHosts(port))
      : options.allowedHosts
    const guard = DashboardAuth.make({ auth: options.auth, readOnly, allowedHosts, prefix })
    const refreshMs = Math.max(200, Duration.toMillis(options.refresh ?? "2 seconds"))
    const throughput = yield* DashboardThroughput.make(operations, options.throughput)
    const definitions = [...registry.entries.values()].map((entry) => entry.action)
    const actionNames = definitions.map((a) => a.name).sort()
    const data = DashboardData.make({
      operations,
      actions,
      registry,
      throughput,
      definitions,
      session: { csrfToken: guard.csrfToken, readOnly, auth: guard.kind, refreshMs, actions: actionNames }
    })
    const frame = {
      base: prefix,
      title: options.title ?? "effect-resque",
      csrfToken: guard.csrfToken,
      readOnly,
      refreshMs,
      auth: guard.kind,
      namespace: redis.keys.namespace
    }
    const pages = HttpRouter.addAll(DashboardRoutes.routes({ data, frame, guard, actionNames }))
    return Layer.mergeAll(DashboardHandlers.routes(data), pages).pipe(
      Layer.provide(guard.middleware.layer),
      Layer.provide(prefixedRouter(prefix))
    )
  }))
