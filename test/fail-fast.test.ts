/**
 * Operations that fail fast and end on time, on a real `redis-server` the test starts and then stops by pid
 * (SIGKILL: the server is gone, connections are refused; SIGSTOP: the server keeps its sockets and never
 * answers). A request gets a typed `RedisError` within the request timeout, a request whose caller was told
 * it failed is never written later by a reconnect, and an application with workers and a scheduler stops
 * within the worker's grace period.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Exit, Layer, Schedule, Scope } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as Redis from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, core, waitUntil } from "./support/app.ts"
import { uniqueNamespace } from "./support/backends.ts"
import { type RedisServer, startRedisServer } from "./support/redisServer.ts"

/** A server of the test's own, killed when the test ends (continued first if it was stopped). */
const ownServer = (port?: number) =>
  Effect.acquireRelease(Effect.promise(() => startRedisServer(port === undefined ? {} : { port })), (server) =>
    Effect.promise(() => {
      resume(server)
      return server.stop()
    }))

const resume = (server: RedisServer) => {
  try {
    process.kill(server.pid, "SIGCONT")
  } catch {
    // already gone
  }
}

/** Runs `effect` and answers its exit and how long it took (ms). */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const started = Date.now()
    const exit = yield* Effect.exit(effect)
    return { exit, millis: Date.now() - started }
  })

const redisErrorOf = <A, E>(exit: Exit.Exit<A, E>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  const failure = error?._tag === "Fail" ? (error.error as { readonly _tag?: string; readonly timedOut?: boolean }) : undefined
  assert.strictEqual(failure?._tag, "RedisError")
  return failure!
}

describe("requests fail fast when Redis is down (redis)", () => {
  it.live("a server that does not answer: enqueue, fanOut and fanOutStatus fail with a RedisError within the request timeout", () =>
    Effect.gen(function*() {
      const server = yield* ownServer()
      const namespace = uniqueNamespace()
      yield* Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.enqueue(add, { a: 1 })
        process.kill(server.pid, "SIGSTOP")
        for (const request of <ReadonlyArray<Effect.Effect<void, unknown>>> [
          Effect.asVoid(actions.enqueue(add, { a: 2 })),
          Effect.asVoid(actions.fanOut(add, Array.from({ length: 250 }, (_, a) => ({ a })))),
          Effect.asVoid(actions.fanOutStatus("some-fan-out"))
        ]) {
          const { exit, millis } = yield* timed(request)
          const error = redisErrorOf(exit)
          assert.strictEqual(error.timedOut, true)
          // one request timeout (500 ms), not one per retry or per batch; margin for a loaded machine
          assert.isBelow(millis, 1400)
          assert.isAtLeast(millis, 450)
        }
        resume(server)
      }).pipe(Effect.provide(core(Redis.layer({ url: server.url, namespace, requestTimeout: "500 millis" }))))
    }).pipe(Effect.scoped), 30_000)

  it.live("a server that is gone: requests fail at once, and none is written when it comes back", () =>
    Effect.gen(function*() {
      const first = yield* ownServer()
      const namespace = uniqueNamespace()
      yield* Effect.gen(function*() {
        const actions = yield* Actions
        const redis = yield* Redis.Redis
        yield* actions.enqueue(add, { a: 1 })
        yield* Effect.promise(() => first.stop())
        for (
          const request of <ReadonlyArray<Effect.Effect<void, unknown>>> [
            Effect.asVoid(actions.enqueue(add, { a: 2 })),
            Effect.asVoid(actions.fanOut(add, [{ a: 3 }, { a: 4 }])),
            Effect.asVoid(actions.fanOutStatus("x"))
          ]
        ) {
          const { exit, millis } = yield* timed(request)
          redisErrorOf(exit)
          assert.isBelow(millis, 1000)
        }
        // the server comes back on the same port: the client reconnects and re-sends nothing it was given
        yield* ownServer(first.port)
        const queued = yield* redis.send<number>("llen", redis.keys.queue("math")).pipe(
          Effect.retry({ times: 100, schedule: Schedule.spaced("50 millis") })
        )
        // the first job only: the one enqueued before the server went away (it died with the server's memory)
        assert.strictEqual(queued, 0)
        assert.deepStrictEqual(yield* redis.send<ReadonlyArray<string>>("keys", `${namespace}:fanout:*`), [])
      }).pipe(Effect.provide(core(Redis.layer({ url: first.url, namespace, requestTimeout: "1 second" }))))
    }).pipe(Effect.scoped), 30_000)

  it.effect("REDIS_REQUEST_TIMEOUT sets the request timeout of layerConfig", () =>
    Effect.gen(function*() {
      const options = yield* Redis.config.pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ REDIS_REQUEST_TIMEOUT: "750 millis" })))
      )
      assert.strictEqual(options.requestTimeout === undefined ? undefined : Duration.toMillis(options.requestTimeout), 750)
    }))
})

describe("an application stops within its grace period when Redis is down (redis)", () => {
  for (const how of ["gone", "not answering"] as const) {
    it.live(`workers and a scheduler, 1 s grace, server ${how}: stopped in about 1 s`, () =>
      Effect.gen(function*() {
        const server = yield* ownServer()
        const scope = yield* Scope.make()
        const app = Layer.mergeAll(Worker.layer({ gracePeriod: "1 second", concurrency: 4 }), JobScheduler.layer({ pollInterval: "100 millis" })).pipe(
          Layer.provideMerge(core(Redis.layer({ url: server.url, namespace: uniqueNamespace() })))
        )
        const context = yield* Layer.buildWithScope(app, scope)
        yield* Context.get(context, Actions).enqueue(add, { a: 1 })
        // the scheduler has taken the lock and polls; the pool has run the job and waits for work
        yield* waitUntil("the scheduler to lead", Context.get(context, JobScheduler.JobScheduler).isLeader, (leader) => leader)
        yield* waitUntil("the job to run", Context.get(context, Operations).stats, (stats) => stats.processed === 1)
        if (how === "gone") yield* Effect.promise(() => server.stop())
        else process.kill(server.pid, "SIGSTOP")
        const { millis } = yield* timed(Scope.close(scope, Exit.void))
        console.log(`app with workers and a scheduler, 1 s grace, server ${how}: stopped in ${millis} ms`)
        assert.isBelow(millis, 1600)
      }).pipe(Effect.scoped), 30_000)
  }
})
