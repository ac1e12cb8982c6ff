/**
 * What `web` runs: the dashboard on Node's HTTP server, on the application's runtime, until interrupted. Its
 * own module, loaded by `web` alone, so the HTTP server, the `HttpApi` machinery and the dashboard cost
 * nothing to the start-up of every other command.
 *
 * @since 0.2.0
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import type { Redis } from "../../layers/Redis.ts"
import * as Dashboard from "../dashboard/Dashboard.ts"
import type { App } from "./Shared.ts"

/**
 * Serves the dashboard and prints its address (`dashboard on http://127.0.0.1:8080/`) once it listens.
 *
 * @category running
 */
export const serve = (options: {
  readonly app: App
  readonly redis: Layer.Layer<Redis, unknown>
  readonly dashboard: Dashboard.Options
  readonly port: number
  readonly host: string
}) =>
  Effect.scoped(Effect.gen(function*() {
    const server = HttpRouter.serve(Dashboard.layer(options.dashboard), { disableListenLog: true, disableLogger: true }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host })),
      Layer.provide(options.app.runtime(options.redis))
    )
    const context = yield* Layer.build(server)
    const address = Context.get(context, HttpServer.HttpServer).address
    const { auth, readOnly, prefix } = options.dashboard
    const notes = [readOnly === true ? "read-only" : undefined, auth === undefined ? undefined : `${"token" in auth ? "token" : "basic"} auth`]
      .filter((note) => note !== undefined)
    yield* Console.log(`dashboard on ${HttpServer.formatAddress(address)}${prefix ?? ""}/${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`)
    yield* Effect.logInfo(`${options.app.actions.length} actions; Ctrl-C to stop`)
    return yield* Effect.never
  }))
