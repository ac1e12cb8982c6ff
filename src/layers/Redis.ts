/**
 * The Redis service every other layer uses: the narrow seam of `internal/Connection.ts` (a command, a
 * transaction, a pipeline, a script), the key names under the runtime's namespace, and a way to open a
 * connection of one's own. This module holds the live backend, a real Redis server through ioredis; the
 * in-memory backend is `RedisMemory.ts`, chosen explicitly, never as a silent fallback. No ioredis type
 * leaves this file.
 *
 * The live layer connects when it is built (a typed {@link RedisError} when it cannot) and quits when its
 * scope closes, with a deadline, so shutdown ends even when the server is unreachable.
 *
 * Every request has a deadline (`requestTimeout`, 3 s by default): a command, transaction, pipeline or script
 * that gets no reply in time fails with a {@link RedisError}. While the connection is down a request fails at
 * once instead of waiting in a queue to be sent later, and a request in flight when the connection drops is
 * failed, never sent again on reconnect: a caller told "failed" is never written behind its back by a
 * reconnect. (A request that reached the server and got no reply may still have run: that is any network
 * request's unknown outcome, and every write of this runtime is one atomic step, so it ran whole or not at all.)
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Redis as IORedis, type RedisOptions } from "ioredis"
import { RedisError } from "../domain/Errors.ts"
import * as Keys from "../domain/Keys.ts"
import type { Arg, Command, Connection } from "../internal/Connection.ts"
import type { Script } from "../internal/Script.ts"

/**
 * The Redis service.
 *
 * @category services
 */
export class Redis extends Context.Service<Redis, Connection & {
  readonly keys: Keys.Keys
  /**
   * Opens a connection of its own, closed with the scope: for blocking commands, which would hold up every
   * command queued behind them on the shared connection.
   */
  readonly connect: Effect.Effect<Connection, RedisError, Scope.Scope>
}>()("effect-resque/Redis") {}

/**
 * Options of the live Redis layer.
 *
 * @category models
 */
export interface Options {
  /** `redis://[:password@]host:port/db` or `rediss://` for TLS. Default `redis://127.0.0.1:6379`. */
  readonly url?: string
  readonly password?: Redacted.Redacted | string
  readonly db?: number
  /** Use TLS even with a `redis://` URL. */
  readonly tls?: boolean
  /** Key namespace (prefix), default `resque`. */
  readonly namespace?: string
  /** How long to wait for the first connection. Default 5 seconds. */
  readonly connectTimeout?: Duration.Input
  /** How long `QUIT` may take on shutdown before the socket is dropped. Default 2 seconds. */
  readonly quitTimeout?: Duration.Input
  /**
   * How long a request (command, transaction, pipeline, script) may wait for its reply before it fails with
   * a `RedisError`. A blocking command (`BZPOPMIN`...) on a connection of its own gets its own timeout plus
   * this. Default 3 seconds.
   */
  readonly requestTimeout?: Duration.Input
}

/** The request deadline in ms (at least 1). */
const requestMillis = (options: Options): number => Math.max(1, Duration.toMillis(options.requestTimeout ?? "3 seconds"))

/**
 * The client options. The shared connection bounds every request by the request timeout; a connection of
 * one's own (`role: "own"`, opened for blocking commands) bounds a blocking command by its own timeout plus
 * the request timeout, which ioredis resolves as the command's own "nothing came" reply.
 */
const clientOptions = (options: Options, role: "shared" | "own"): RedisOptions => {
  const password = options.password === undefined
    ? undefined
    : Redacted.isRedacted(options.password)
    ? Redacted.value(options.password)
    : options.password
  return {
    lazyConnect: true,
    connectTimeout: Duration.toMillis(options.connectTimeout ?? "5 seconds"),
    // fail fast while disconnected, and never re-send a request whose caller was already told it failed
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    ...(role === "shared"
      ? { commandTimeout: requestMillis(options) }
      : { blockingTimeout: requestMillis(options), blockingTimeoutGrace: requestMillis(options) }),
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...(password === undefined ? {} : { password }),
    ...(options.db === undefined ? {} : { db: options.db }),
    ...(options.tls ? { tls: {} } : {})
  }
}

/** Hides the password of a Redis URL in messages. @category formatting */
export const redactUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, "//***@")

/**
 * Opens one ioredis client; the first connection attempt must succeed within the connect timeout. The client
 * quits when the scope closes: `QUIT` when it is connected and no request waits for a reply (its reply comes
 * once the server has closed its side), an immediate disconnect when it is not connected, when `QUIT` takes
 * longer than the quit timeout, or when a request still waits for its reply: a blocking command, or one the
 * server did not answer in time (`QUIT` would wait behind it).
 */
const openClient = (options: Options, role: "shared" | "own"): Effect.Effect<IORedis, RedisError, Scope.Scope> => {
  const url = options.url ?? "redis://127.0.0.1:6379"
  const quitMillis = Duration.toMillis(options.quitTimeout ?? "2 seconds")
  return Effect.acquireRelease(
    Effect.suspend(() => {
      const client = new IORedis(url, clientOptions(options, role))
      // errors are reported through the commands that fail; an unhandled "error" event would crash the process.
      // The first connect keeps the last one: a refused AUTH otherwise surfaces as "Connection is closed."
      let lastError: unknown
      client.on("error", (error) => {
        lastError = error
      })
      return Effect.tryPromise({
        try: () => client.connect(),
        catch: (cause) => new RedisError({ op: `connect to ${redactUrl(url)}`, cause: lastError ?? cause })
      }).pipe(
        Effect.as(client),
        Effect.onError(() => Effect.sync(() => client.disconnect()))
      )
    }),
    (client) =>
      client.status === "ready" && client.commandQueue.length === 0
        ? Effect.tryPromise(() => client.quit()).pipe(
          Effect.timeoutOption(quitMillis),
          Effect.flatMap((quit) => (quit._tag === "None" ? Effect.sync(() => client.disconnect()) : Effect.void)),
          // a socket that closed meanwhile refuses `QUIT` (no offline queue): it is closed either way
          Effect.catch(() => Effect.sync(() => client.disconnect()))
        )
        : Effect.sync(() => client.disconnect())
  )
}

/** ioredis's failure of a request that got no reply within `commandTimeout`. */
const isTimeout = (cause: unknown): boolean => cause instanceof Error && cause.message === "Command timed out"

/**
 * What ioredis's own failures mean here, said plainly (the original error stays the cause's `cause`): the
 * deadline passed, the connection is down, or it dropped before the reply.
 */
const plainCause = (cause: unknown, timeoutMillis: number): unknown => {
  if (!(cause instanceof Error)) return cause
  if (isTimeout(cause)) return new Error(`no reply within ${timeoutMillis} ms (requestTimeout)`, { cause })
  if (cause.message.startsWith("Stream isn't writeable")) return new Error("not connected (reconnecting)", { cause })
  if (cause.name === "MaxRetriesPerRequestError") return new Error("the connection was lost before the reply", { cause })
  return cause
}

/** The first error of a MULTI's or pipeline's replies, or their values. */
const replies = (op: string, results: Array<[error: Error | null, result: unknown]> | null) => {
  if (results === null) return Effect.fail(new RedisError({ op, cause: "transaction aborted" }))
  const values: Array<unknown> = []
  for (const [error, value] of results) {
    if (error !== null) return Effect.fail(new RedisError({ op, cause: error }))
    values.push(value)
  }
  return Effect.succeed(values)
}

const isNoScript = (cause: unknown): boolean => cause instanceof Error && cause.message.startsWith("NOSCRIPT")

/** A {@link Connection} on an ioredis client. */
const fromClient = (client: IORedis, timeoutMillis: number): Connection => {
  const failure = (op: string) => (cause: unknown) =>
    isTimeout(cause)
      ? new RedisError({ op, cause: plainCause(cause, timeoutMillis), timedOut: true })
      : new RedisError({ op, cause: plainCause(cause, timeoutMillis) })
  const call = (command: string, args: ReadonlyArray<Arg>) => client.call(command, args as Array<Arg>)
  const send = <A>(command: string, ...args: ReadonlyArray<Arg>): Effect.Effect<A, RedisError> =>
    Effect.tryPromise({ try: () => call(command, args) as Promise<A>, catch: failure(command) })
  const toArrays = (commands: ReadonlyArray<Command>) => commands.map(([command, ...args]) => [command, ...args])
  return {
    send,
    multi: (commands) =>
      Effect.tryPromise({ try: () => client.multi(toArrays(commands)).exec(), catch: failure("MULTI") }).pipe(
        Effect.flatMap((results) => replies("MULTI", results))
      ),
    pipeline: (commands) =>
      Effect.tryPromise({ try: () => client.pipeline(toArrays(commands)).exec(), catch: failure("pipeline") }).pipe(
        Effect.flatMap((results) => replies("pipeline", results))
      ),
    eval: <I, A>(script: Script<I, A>, input: I): Effect.Effect<A, RedisError> => {
      const { keys, args } = script.encode(input)
      // one array of the call's arguments, built once (a worker's calls carry hundreds): SHA1, KEYS, ARGV
      const params = new Array<Arg>(2 + keys.length + args.length)
      params[0] = script.sha1
      params[1] = keys.length
      for (let i = 0; i < keys.length; i++) params[2 + i] = keys[i]!
      for (let i = 0, at = 2 + keys.length; i < args.length; i++) params[at + i] = args[i]!
      return Effect.tryPromise({
        try: () =>
          client.call("evalsha", params).catch((error: unknown) => {
            // a server that does not know the script yet (or forgot it in a restart) gets its source once
            if (!isNoScript(error)) return Promise.reject(error)
            params[0] = script.lua
            return client.call("eval", params)
          }),
        catch: failure(`script ${script.name}`)
      }).pipe(Effect.map(script.decode))
    }
  }
}

/**
 * Opens one connection to a live Redis, closed with the scope.
 *
 * @category constructors
 */
export const makeConnection = (options: Options): Effect.Effect<Connection, RedisError, Scope.Scope> => open(options, "shared")

const open = (options: Options, role: "shared" | "own"): Effect.Effect<Connection, RedisError, Scope.Scope> =>
  Effect.map(openClient(options, role), (client) => fromClient(client, requestMillis(options)))

/**
 * The live layer: a real Redis server.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis, RedisError> =>
  Layer.effect(
    Redis,
    Effect.map(open(options, "shared"), (connection) =>
      Redis.of({
        ...connection,
        keys: Keys.make(options.namespace ?? "resque"),
        connect: open(options, "own")
      }))
  )

/**
 * Options read from the environment: `REDIS_URL`, `REDIS_PASSWORD`, `REDIS_DB`, `REDIS_TLS`, `RESQUE_NAMESPACE`,
 * `REDIS_REQUEST_TIMEOUT` (a duration such as `3 seconds` or `500 millis`).
 *
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.String("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
  password: Config.option(Config.Redacted("REDIS_PASSWORD")),
  db: Config.option(Config.Int("REDIS_DB")),
  tls: Config.Boolean("REDIS_TLS").pipe(Config.withDefault(false)),
  namespace: Config.String("RESQUE_NAMESPACE").pipe(Config.withDefault("resque")),
  requestTimeout: Config.option(Config.Duration("REDIS_REQUEST_TIMEOUT"))
}).pipe(
  Config.map(({ db, password, requestTimeout, ...rest }): Options => ({
    ...rest,
    ...(Option.isSome(password) ? { password: password.value } : {}),
    ...(Option.isSome(db) ? { db: db.value } : {}),
    ...(Option.isSome(requestTimeout) ? { requestTimeout: requestTimeout.value } : {})
  }))
)

/**
 * The live layer configured from the environment (see {@link config}); `overrides` win over it.
 *
 * @category layers
 */
export const layerConfig = (overrides: Partial<Options> = {}): Layer.Layer<Redis, RedisError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(config, (options) => layer({ ...options, ...overrides })))
