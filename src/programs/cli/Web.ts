/**
 * `web`: the dashboard (`effect-resque/dashboard`) on Node's HTTP server, on the shared Redis, until Ctrl-C.
 * In an application's CLI it knows the application's actions (their enqueue forms, recurring actions); in the
 * package's bin it has none.
 *
 * Safe by default: it listens on 127.0.0.1, and refuses an address other machines can reach unless given
 * `--token` or `--basic-auth` (or their environment variables, so the secret stays out of the process list).
 * Without auth on loopback it accepts only loopback `Host` names (no DNS rebinding).
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as NetAddress from "effect/net/NetAddress"
import type * as Dashboard from "../dashboard/Dashboard.ts"
import { type App, BadArgument, handler, sharedRedis } from "./Shared.ts"

/** Whether a host to listen on can only be reached from this machine. */
const isLoopbackHost = (host: string): boolean => {
  if (host === "localhost") return true
  const ip = NetAddress.ipFromString(host.replace(/^\[(.*)\]$/, "$1"))
  return Result.isSuccess(ip) && NetAddress.isLoopback(ip.success)
}

/** The `auth` option from `--token` / `--basic-auth user:password`. */
const authOf = (token: Option.Option<string>, basic: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(token) && Option.isSome(basic)) return yield* new BadArgument({ detail: "give either --token or --basic-auth, not both" })
    if (Option.isSome(token)) {
      if (token.value.length < 16) return yield* new BadArgument({ detail: "--token must be at least 16 characters" })
      return { token: token.value } satisfies Dashboard.Auth
    }
    if (Option.isSome(basic)) {
      const colon = basic.value.indexOf(":")
      if (colon <= 0 || colon === basic.value.length - 1) return yield* new BadArgument({ detail: "--basic-auth must be user:password" })
      return { basic: { username: basic.value.slice(0, colon), password: basic.value.slice(colon + 1) } } satisfies Dashboard.Auth
    }
    return undefined
  })

/**
 * The `web` command.
 *
 * @category commands
 */
export const command = (app: App) =>
  Command.make("web", {
    port: Flag.Int("port").pipe(Flag.withDefault(8080), Flag.withDescription("Port to listen on (default 8080; 0: any free port)")),
    host: Flag.String("host").pipe(
      Flag.withDefault("127.0.0.1"),
      Flag.withDescription("Address to listen on (default 127.0.0.1); any other than loopback needs --token or --basic-auth")
    ),
    token: Flag.String("token").pipe(
      Flag.withFallbackConfig(Config.String("RESQUE_DASHBOARD_TOKEN")),
      Flag.optional,
      Flag.withDescription("Require this bearer token (at least 16 characters; default $RESQUE_DASHBOARD_TOKEN)")
    ),
    basicAuth: Flag.String("basic-auth").pipe(
      Flag.withMetavar("user:password"),
      Flag.withFallbackConfig(Config.String("RESQUE_DASHBOARD_BASIC_AUTH")),
      Flag.optional,
      Flag.withDescription("Require HTTP basic auth (default $RESQUE_DASHBOARD_BASIC_AUTH)")
    ),
    readOnly: Flag.Boolean("read-only").pipe(Flag.withDefault(false), Flag.withDescription("Show everything, change nothing")),
    prefix: Flag.String("prefix").pipe(Flag.withDefault(""), Flag.withDescription("Serve under this path, e.g. /jobs (default: the root)"))
  }, (flags) =>
    handler(Effect.gen(function*() {
      if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) {
        return yield* new BadArgument({ detail: "--port must be between 0 and 65535" })
      }
      const auth = yield* authOf(flags.token, flags.basicAuth)
      const loopback = isLoopbackHost(flags.host)
      if (!loopback && auth === undefined) {
        return yield* new BadArgument({
          detail: `refusing to listen on ${flags.host} without authentication: pass --token (or $RESQUE_DASHBOARD_TOKEN) or --basic-auth, or listen on 127.0.0.1`
        })
      }
      const redis = yield* sharedRedis("web")
      const options: Dashboard.Options = {
        ...(auth === undefined ? {} : { auth }),
        readOnly: flags.readOnly,
        prefix: flags.prefix,
        // without credentials, only this machine's names for itself: a page elsewhere cannot rebind a name to it
        ...(loopback && auth === undefined ? { allowedHosts: "loopback" as const } : {})
      }
      // the HTTP server and the dashboard load only for this command: every other command starts faster
      const { serve } = yield* Effect.promise(() => import("./WebServer.ts"))
      return yield* serve({ app, redis, dashboard: options, port: flags.port, host: flags.host })
    }))
  ).pipe(Command.withDescription("Serve the web dashboard (queues, failed jobs, fan-outs, workers, recurring actions, actions) until Ctrl-C"))
