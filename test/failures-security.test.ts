/**
 * Failure suite, security: Redis AUTH against a server with `requirepass`, TLS from a `rediss://` URL or the
 * `tls` option (the test server has no TLS: a TLS handshake against it must fail with a typed error, not
 * hang), and key-prefix isolation between two runtimes on one Redis. That a payload can only name a
 * registered action is in `failures-input.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, PubSub, Redacted } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as Redis from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { core } from "./reliability/fixtures/actions.ts"
import { queueLength, takeEvents } from "./support/app.ts"
import { redisUrl, uniqueNamespace } from "./support/backends.ts"
import { startRedisServer } from "./support/redisServer.ts"

const PASSWORD = "s3cret-test-pass"

const authServer = Effect.acquireRelease(
  Effect.promise(() => startRedisServer({ password: PASSWORD })),
  (server) => Effect.promise(() => server.stop())
)

/** Builds a Redis layer and runs one job through it, or fails with the layer's error. */
const roundTrip = (options: Redis.Options) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
    const sub = yield* PubSub.subscribe(worker.events)
    yield* actions.enqueue("add", { a: 20, b: 22 })
    const [event] = yield* takeEvents(sub, 1)
    return event?.outcome._tag === "Success" ? event.outcome.result : "failed"
  }).pipe(Effect.scoped, Effect.provide(core(Redis.layer({ namespace: uniqueNamespace(), connectTimeout: "2 seconds", ...options }))))

describe("failures: security", () => {
  it.live("AUTH: the right password (in the URL or as an option) works; a wrong or missing one is a typed RedisError", () =>
    Effect.gen(function*() {
      const server = yield* authServer
      const plain = `redis://127.0.0.1:${server.port}`
      assert.strictEqual(yield* roundTrip({ url: server.url }), "42")
      assert.strictEqual(yield* roundTrip({ url: plain, password: Redacted.make(PASSWORD) }), "42")
      const wrong = yield* Effect.flip(roundTrip({ url: plain, password: "wrong" }))
      assert.strictEqual(wrong._tag, "RedisError")
      assert.match(wrong.message, /WRONGPASS|invalid username-password/i)
      const missing = yield* Effect.flip(roundTrip({ url: plain }))
      assert.strictEqual(missing._tag, "RedisError")
      assert.match(missing.message, /NOAUTH|Authentication required/i)
      // the password never shows in the error
      assert.notInclude(wrong.message, "wrong@")
    }).pipe(Effect.scoped), 20_000)

  it.live("TLS: a rediss:// URL or the tls option makes the layer speak TLS (a plain server gives a typed error, no hang)", () =>
    Effect.gen(function*() {
      const port = new URL(redisUrl()).port
      for (const options of [{ url: `rediss://127.0.0.1:${port}` }, { url: `redis://127.0.0.1:${port}`, tls: true }]) {
        const error = yield* Effect.flip(
          Layer.build(Redis.layer({ ...options, connectTimeout: "1 second" })).pipe(Effect.scoped, Effect.timeout("10 seconds"))
        )
        assert.strictEqual(error._tag, "RedisError", JSON.stringify(options))
        assert.include(error.message, "Redis connect to")
      }
      // the same layer without TLS connects to that server
      yield* Layer.build(Redis.layer({ url: `redis://127.0.0.1:${port}` })).pipe(Effect.scoped)
    }).pipe(Effect.scoped), 30_000)

  it.live("prefix isolation: two runtimes with different namespaces on one Redis never see each other's jobs", () =>
    Effect.gen(function*() {
      const a = core(Redis.layer({ url: redisUrl(), namespace: uniqueNamespace() }))
      const b = core(Redis.layer({ url: redisUrl(), namespace: uniqueNamespace() }))
      const enqueue = (inputs: { readonly a: number }) => Effect.gen(function*() {
        return yield* (yield* Actions).enqueue("add", inputs)
      })
      const length = queueLength("math")
      yield* enqueue({ a: 1 }).pipe(Effect.provide(a))
      const eventsB = yield* Effect.gen(function*() {
        const worker = yield* Worker.make({ queues: ["*"], concurrency: 2 })
        const sub = yield* PubSub.subscribe(worker.events)
        yield* enqueue({ a: 2 })
        return yield* takeEvents(sub, 1)
      }).pipe(Effect.scoped, Effect.provide(b))
      assert.deepStrictEqual(eventsB.map((e) => e.job?.inputs), [{ a: 2, b: 0 }])
      // A's job is still waiting on A's queue, untouched by B's worker
      assert.strictEqual(yield* length.pipe(Effect.provide(a)), 1)
      assert.strictEqual(yield* length.pipe(Effect.provide(b)), 0)
    }), 20_000)
})
