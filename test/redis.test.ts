/**
 * The Redis layers: connection errors are typed and bounded (never a crash or a hang), the
 * live layer is configured from options or `effect` Config, connects on build and quits on scope close; the
 * in-memory layer is private to each layer and is chosen explicitly, never as a fallback.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as Redis from "../src/layers/Redis.ts"
import * as RedisMemory from "../src/layers/RedisMemory.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { add, core, redisCall, waitUntil } from "./support/app.ts"
import { redisUrl, uniqueNamespace } from "./support/backends.ts"
import { freePort, startRedisServer } from "./support/redisServer.ts"

/** Fails the test instead of hanging if `effect` does not settle in time. */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>, millis = 10_000) =>
  Effect.timeoutOrElse(effect, { duration: millis, orElse: () => Effect.die(new Error(`did not settle within ${millis} ms`)) })

describe("live Redis layer", () => {
  it.live("connection refused on an unused loopback port is a typed RedisError, quickly, not a crash or a hang", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const started = Date.now()
      const error = yield* within(Effect.flip(Effect.provide(Effect.void, Redis.layer({ url: `redis://127.0.0.1:${port}` }))))
      assert.strictEqual(error._tag, "RedisError")
      assert.strictEqual(error.op, `connect to redis://127.0.0.1:${port}`)
      assert.include(error.message, "ECONNREFUSED")
      assert.isBelow(Date.now() - started, 5000)
      // the same through the whole runtime: building it fails with the typed error
      const fromRuntime = yield* within(Effect.flip(Effect.provide(
        Effect.gen(function*() {
          return yield* Actions
        }),
        core(Redis.layer({ url: `redis://127.0.0.1:${port}` }))
      )))
      assert.strictEqual(fromRuntime instanceof Error ? fromRuntime.name : "", "RedisError")
    }))

  it.live("a password in the URL is never shown in errors", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const error = yield* within(Effect.flip(Effect.provide(Effect.void, Redis.layer({ url: `redis://:hunter2@127.0.0.1:${port}` }))))
      assert.notInclude(error.message, "hunter2")
      assert.include(error.message, "redis://***@127.0.0.1")
    }))

  it.live("reads REDIS_URL, RESQUE_NAMESPACE, REDIS_DB, REDIS_PASSWORD and REDIS_TLS from Config", () =>
    Effect.gen(function*() {
      const options = yield* Redis.config.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({
        REDIS_URL: "redis://example:6380",
        RESQUE_NAMESPACE: "ns",
        REDIS_DB: "3",
        REDIS_PASSWORD: "secret",
        REDIS_TLS: "true"
      }))))
      assert.strictEqual(options.url, "redis://example:6380")
      assert.strictEqual(options.namespace, "ns")
      assert.strictEqual(options.db, 3)
      assert.strictEqual(options.tls, true)
      assert.strictEqual(Redacted.isRedacted(options.password) ? Redacted.value(options.password) : options.password, "secret")
      const defaults = yield* Redis.config.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({}))))
      assert.deepStrictEqual(defaults, { url: "redis://127.0.0.1:6379", tls: false, namespace: "resque" })
      const invalid = yield* Effect.flip(Redis.config.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ REDIS_DB: "x" })))))
      assert.strictEqual(invalid._tag, "ConfigError")
    }))

  it.live("layerConfig connects to REDIS_URL under RESQUE_NAMESPACE and quits when its scope closes", () =>
    Effect.gen(function*() {
      const namespace = uniqueNamespace()
      const env = ConfigProvider.layer(ConfigProvider.fromEnvRecord({ REDIS_URL: redisUrl(), RESQUE_NAMESPACE: namespace }))
      const { redis, clientId, ping, stored } = yield* Effect.gen(function*() {
        const actions = yield* Actions
        const redis = yield* Redis.Redis
        yield* actions.enqueue(add, { a: 1 })
        const scheduler = yield* JobScheduler.JobScheduler
        assert.strictEqual(typeof scheduler.name, "string")
        const stored = yield* redisCall((client) => client.lrange(`${namespace}:queue:math`, 0, -1))
        const clientId = yield* redis.send<number>("client", "id")
        const ping = yield* redis.send<string>("ping")
        assert.include(yield* redis.send<string>("client", "list", "id", clientId), `id=${clientId} `)
        return { redis, clientId, ping, stored }
      }).pipe(
        Effect.provide(JobScheduler.layer({ pollInterval: "1 hour" }).pipe(Layer.provideMerge(core(Redis.layerConfig())), Layer.provide(env)))
      )
      // connected while the layer was up
      assert.strictEqual(ping, "PONG")
      assert.deepStrictEqual(stored, [JSON.stringify({ class: "add", queue: "math", args: [{ a: 1, b: 0 }] })])
      // quit when its scope closed: the connection refuses commands and the server drops it
      const closed = yield* within(Effect.flip(redis.send("ping")))
      assert.strictEqual(closed._tag, "RedisError")
      const observer = yield* Redis.makeConnection({ url: redisUrl() })
      yield* waitUntil("the server to drop the layer's connection", observer.send<string>("client", "list", "id", clientId), (list) => list === "")
    }).pipe(Effect.scoped))

  it.live("a server that dies under a running runtime gives typed errors on enqueue, in bounded time", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.gen(function*() {
        const actions = yield* Actions
        const redis = yield* Redis.Redis
        yield* actions.enqueue(add, { a: 1 })
        yield* Effect.promise(() => server.stop())
        const error = yield* within(Effect.flip(actions.enqueue(add, { a: 2 })))
        assert.strictEqual(error._tag, "RedisError")
        // a connection of one's own cannot be opened now: a typed error too, not a defect
        const connectError = yield* within(Effect.flip(Effect.scoped(redis.connect)))
        assert.strictEqual(connectError._tag, "RedisError")
        assert.include(connectError.message, "ECONNREFUSED")
        // a scheduler started now has no connection of its own to open: it starts, and stops when its scope
        // closes; neither a failure nor a defect nor a hang
        const scheduler = yield* within(Effect.exit(Effect.scoped(JobScheduler.make({ pollInterval: "1 hour" }))))
        assert.strictEqual(scheduler._tag, "Success")
      }).pipe(Effect.provide(Resque.layer({ actions: [add] }).pipe(Layer.provideMerge(Redis.layer({ url: server.url, quitTimeout: "200 millis" })))), within)
    }).pipe(Effect.scoped))
})

describe("in-memory Redis layer", () => {
  it.live("each layer has private data, even under the same namespace", () =>
    Effect.gen(function*() {
      const namespace = uniqueNamespace()
      const write = Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.enqueue(add, { a: 1 })
        return yield* redisCall((client, keys) => client.llen(keys.queue("math")))
      })
      const first = yield* write.pipe(Effect.provide(core(RedisMemory.layer({ namespace }))))
      const second = yield* write.pipe(Effect.provide(core(RedisMemory.layer({ namespace }))))
      assert.deepStrictEqual([first, second], [1, 1])
      // a new layer never sees an old one's data
      const reopened = yield* redisCall((client, keys) => client.keys(`${keys.namespace}:*`)).pipe(
        Effect.provide(RedisMemory.layer({ namespace }))
      )
      assert.deepStrictEqual(reopened, [])
      // one process, one keyspace: a connection of its own (for blocking commands) sees the layer's data
      const shared = yield* Effect.scoped(Effect.gen(function*() {
        const redis = yield* Redis.Redis
        const own = yield* redis.connect
        yield* own.send("set", redis.keys.key("probe"), "1")
        return yield* redis.send<string | null>("get", redis.keys.key("probe"))
      })).pipe(Effect.provide(RedisMemory.layer()))
      assert.strictEqual(shared, "1")
    }))
})
