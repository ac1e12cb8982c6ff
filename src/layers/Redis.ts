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
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
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
}

const clientOptions = (options: Options): RedisOptions => {
  const password = options.password === undefined
    ? undefined
    : Redacted.isRedacted(options.password)
    ? Redacted.value(options.password)
    : options.password
  return {
    lazyConnect: true,
    connectTimeout: Duration.toMillis(options.connectTimeout ?? "5 seconds"),
    // fail queued commands after a few reconnect attempts instead of hanging: callers get a typed error
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...(password === undefined ? {} : { password }),
    ...(options.db === undefined ? {} : { db: options.db }),
    ...(options.tls ? { tls: {} } : {})
  }
}

/** Hides the password of a Redis URL in messages. @category formatting */
export const redactUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, "//***@")

/** What a client is waiting for: a blocking command in flight makes its release drop the socket at once. */
interface InFlight {
  blocking: number
}

/** Commands that block on the server until their keys get data or their timeout passes. */
const blockingCommands: ReadonlySet<string> = new Set(["bzpopmin", "bzpopmax", "blpop", "brpop", "blmove", "brpoplpush"])

/**
 * Opens one ioredis client; the first connection attempt must succeed within the connect timeout. The client
 * quits when the scope closes: `QUIT` when it is connected (its reply comes once the server has closed its
 * side), an immediate disconnect when it is not, when `QUIT` takes longer than the quit timeout, or when a
 * blocking command is in flight (`QUIT` would wait behind it until its timeout).
 */
const openClient = (options: Options, inFlight: InFlight): Effect.Effect<IORedis, RedisError, Scope.Scope> => {
  const url = options.url ?? "redis://127.0.0.1:6379"
  const quitMillis = Duration.toMillis(options.quitTimeout ?? "2 seconds")
  return Effect.acquireRelease(
    Effect.suspend(() => {
      const client = new IORedis(url, clientOptions(options))
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
      client.status === "ready" && inFlight.blocking === 0
        ? Effect.promise(() => client.quit()).pipe(
          Effect.timeoutOption(quitMillis),
          Effect.flatMap((quit) => (quit._tag === "None" ? Effect.sync(() => client.disconnect()) : Effect.void)),
          Effect.ignore
        )
        : Effect.sync(() => client.disconnect())
  )
}

const failure = (op: string) => (cause: unknown) => new RedisError({ op, cause })

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
const fromClient = (client: IORedis, inFlight: InFlight): Connection => {
  const call = (command: string, args: ReadonlyArray<Arg>) => client.call(command, ...args)
  const callBlocking = async (command: string, args: ReadonlyArray<Arg>) => {
    inFlight.blocking++
    try {
      return await call(command, args)
    } finally {
      inFlight.blocking--
    }
  }
  const send = <A>(command: string, ...args: ReadonlyArray<Arg>): Effect.Effect<A, RedisError> =>
    Effect.tryPromise({
      try: () => (blockingCommands.has(command.toLowerCase()) ? callBlocking(command, args) : call(command, args)) as Promise<A>,
      catch: failure(command)
    })
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
      const op = `script ${script.name}`
      const { keys, args } = script.encode(input)
      const params = [keys.length, ...keys, ...args]
      return Effect.tryPromise({
        try: () =>
          call("evalsha", [script.sha1, ...params]).catch((error: unknown) =>
            // a server that does not know the script yet (or forgot it in a restart) gets its source once
            isNoScript(error) ? call("eval", [script.lua, ...params]) : Promise.reject(error)
          ),
        catch: failure(op)
      }).pipe(Effect.map(script.decode))
    }
  }
}

/**
 * Opens one connection to a live Redis, closed with the scope.
 *
 * @category constructors
 */
export const makeConnection = (options: Options): Effect.Effect<Connection, RedisError, Scope.Scope> =>
  Effect.suspend(() => {
    const inFlight: InFlight = { blocking: 0 }
    return Effect.map(openClient(options, inFlight), (client) => fromClient(client, inFlight))
  })

/**
 * The live layer: a real Redis server.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis, RedisError> =>
  Layer.effect(
    Redis,
    Effect.map(makeConnection(options), (connection) =>
      Redis.of({
        ...connection,
        keys: Keys.make(options.namespace ?? "resque"),
        connect: makeConnection(options)
      }))
  )

/**
 * Options read from the environment: `REDIS_URL`, `REDIS_PASSWORD`, `REDIS_DB`, `REDIS_TLS`, `RESQUE_NAMESPACE`.
 *
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.String("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
  password: Config.option(Config.Redacted("REDIS_PASSWORD")),
  db: Config.option(Config.Int("REDIS_DB")),
  tls: Config.Boolean("REDIS_TLS").pipe(Config.withDefault(false)),
  namespace: Config.String("RESQUE_NAMESPACE").pipe(Config.withDefault("resque"))
}).pipe(
  Config.map(({ db, password, ...rest }): Options => ({
    ...rest,
    ...(Option.isSome(password) ? { password: password.value } : {}),
    ...(Option.isSome(db) ? { db: db.value } : {})
  }))
)

/**
 * The live layer configured from the environment (see {@link config}); `overrides` win over it.
 *
 * @category layers
 */
export const layerConfig = (overrides: Partial<Options> = {}): Layer.Layer<Redis, RedisError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(config, (options) => layer({ ...options, ...overrides })))
