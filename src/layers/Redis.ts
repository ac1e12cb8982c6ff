/**
 * The Redis connection every other layer uses. Scoped: it connects when the layer is built and quits when
 * the scope closes (with a deadline, so shutdown ends even when the server is unreachable). Connection
 * failures surface as a typed {@link RedisError}. The in-memory sibling is in `RedisMemory.ts`: it is chosen
 * explicitly, never as a silent fallback.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import { Redis as IORedis, type RedisOptions } from "ioredis"
import { RedisError } from "../domain/Errors.ts"
import * as Keys from "../domain/Keys.ts"

/**
 * The Redis service: a connected client, the key names under the namespace, and a way to open more
 * connections (the scheduler needs its own, for `WATCH`).
 *
 * @category services
 */
export class Redis extends Context.Service<Redis, {
  readonly client: IORedis
  readonly keys: Keys.Keys
  /** The node-resque `pkg` to declare: `"ioredis-mock"` makes node-resque skip its cjson Lua. */
  readonly pkg: "ioredis" | "ioredis-mock"
  /** Opens another connection to the same server, closed with the given scope. */
  readonly connect: Effect.Effect<IORedis, RedisError, Scope.Scope>
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
  /** How long `quit` may take on shutdown before the socket is dropped. Default 2 seconds. */
  readonly quitTimeout?: Duration.Input
  /** Extra ioredis options. */
  readonly redisOptions?: RedisOptions
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
    ...(options.tls ? { tls: {} } : {}),
    ...options.redisOptions
  }
}

/**
 * Opens one scoped ioredis connection; the first connection attempt must succeed within the connect timeout.
 *
 * @category constructors
 */
export const makeClient = (options: Options): Effect.Effect<IORedis, RedisError, Scope.Scope> => {
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
      // a client that is not connected (server down, reconnecting) would wait out the whole quit timeout
      // QUIT's reply comes before the socket closes: wait for "end", so a closed scope means a closed client
      (client.status === "ready" ? Effect.promise(() => Promise.all([ended(client), client.quit()])) : Effect.void).pipe(
        Effect.timeoutOption(quitMillis),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => client.disconnect()))
      )
  )
}

const ended = (client: IORedis): Promise<void> =>
  client.status === "end" ? Promise.resolve() : new Promise((resolve) => client.once("end", () => resolve()))

/** Hides the password of a Redis URL in messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, "//***@")

/**
 * The live layer: a real Redis server.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis, RedisError> =>
  Layer.effect(
    Redis,
    Effect.gen(function*() {
      const client = yield* makeClient(options)
      return Redis.of({
        client,
        keys: Keys.make(options.namespace ?? "resque"),
        pkg: "ioredis",
        connect: makeClient(options)
      })
    })
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
 * The live layer configured from the environment (see {@link config}).
 *
 * @category layers
 */
export const layerConfig = (overrides: Partial<Options> = {}): Layer.Layer<Redis, RedisError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(config, (options) => layer({ ...options, ...overrides })))
