/**
 * The scheduler: one leader among several schedulers on one namespace (node-resque's leader-lock key, taken
 * with `SET NX EX`, renewed and released by its holder), failover when the leader stops, delayed promotion
 * done once with several schedulers, stuck-worker cleanup by the leader, and recurring actions: started once
 * by the leader, continued on their own queue after success and failure, never two copies waiting, across
 * restarts. Every test runs on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, PubSub, Schema, Scope } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, coreWith, failedJobs, note, notes, queueLength, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** Recurs every second on `ticks`; records each run. */
const tick = Action.make({
  name: "tick",
  description: "Recurring, succeeds",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const redis = yield* Redis
      return yield* redis.send<number>("rpush", redis.keys.key("ticks"), String(Date.now()))
    }),
  task: { queue: "ticks", frequency: "1 second" }
})

/** Recurs every second (given in ms) on `tocks`; records each run, then fails. */
const tock = Action.make({
  name: "tock",
  description: "Recurring, fails",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const redis = yield* Redis
      yield* redis.send("rpush", redis.keys.key("tocks"), "tock")
      return yield* Effect.fail(new Error("tock always fails"))
    }),
  task: { queue: "tocks", frequency: 1000 }
})

const schedulerActions = [add, note, tick, tock] as const

/** Builds a scheduler in a scope of its own, so a test can stop it alone. */
const startScheduler = (options: JobScheduler.Options) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const scheduler = yield* JobScheduler.make(options).pipe(Scope.provide(scope))
    return { scheduler, stop: Scope.close(scope, Exit.void) }
  })

const leaders = (schedulers: ReadonlyArray<JobScheduler.JobScheduler["Service"]>) =>
  Effect.forEach(schedulers, (s) => s.isLeader).pipe(Effect.map((flags) => flags.filter(Boolean).length))

/** Every payload of `action` waiting: on any queue or in any delayed list. */
const waitingCopies = (action: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const { keys } = redis
    const queues = yield* redis.send<ReadonlyArray<string>>("smembers", keys.queues)
    const stamps = yield* redis.send<ReadonlyArray<string>>("zrange", keys.delayedSchedule, 0, -1)
    const lists = [...queues.map((q) => keys.queue(q)), ...stamps.map((t) => keys.delayed(Number(t)))]
    // one MULTI: a copy moving between a queue and the delayed schedule is never seen twice (or missed)
    const replies = lists.length === 0 ? [] : yield* redis.multi(lists.map((list) => ["lrange", list, 0, -1] as const))
    const payloads = replies.flatMap((reply) => (Array.isArray(reply) ? reply.map(String) : []))
    return payloads.map((p) => JSON.parse(p) as { class: string; queue: string; args: Array<Record<string, unknown>> })
      .filter((p) => p.class === action)
  })

/** The scheduler leader lock's value (the leader's name), or null. */
const leaderLock = redisCall((client, keys) => client.get<string | null>(keys.leaderLock))

for (const backend of backends) {
  const app = () => coreWith(schedulerActions, backend.layer())

  describe(`scheduler: leader election (${backend.name})`, () => {
    it.live("exactly one of three schedulers on one namespace leads; another takes over when it stops", () =>
      Effect.gen(function*() {
        const started = yield* Effect.forEach(["s1", "s2", "s3"], (name) =>
          startScheduler({ name, pollInterval: "50 millis", leaderLockTimeout: "10 seconds" }))
        const all = started.map((s) => s.scheduler)
        const holder = yield* waitUntil("a leader", leaderLock, (v) => v !== null)
        for (let i = 0; i < 5; i++) {
          assert.strictEqual(yield* leaders(all), 1)
          yield* Effect.sleep("60 millis")
        }
        // the lock expires on its own (`SET NX EX`, renewed by the leader): never a lock without a timeout
        const ttl = yield* redisCall((client, keys) => client.ttl<number>(keys.leaderLock))
        assert.isTrue(ttl > 0 && ttl <= 10, `ttl ${ttl}`)
        const index = ["s1", "s2", "s3"].indexOf(holder ?? "")
        assert.isAtLeast(index, 0)
        assert.isTrue(yield* (all[index] as JobScheduler.JobScheduler["Service"]).isLeader)
        // the leader stops: it releases the lock, and one of the others takes it within a few polls
        yield* (started[index] as { stop: Effect.Effect<void> }).stop
        const next = yield* waitUntil(
          "a new leader",
          leaderLock,
          (v) => v !== null && v !== holder
        )
        assert.include(["s1", "s2", "s3"].filter((n) => n !== holder), next)
        const rest = all.filter((_, i) => i !== index)
        assert.strictEqual(yield* leaders(rest), 1)
        yield* Effect.forEach(started, (s) => s.stop)
        assert.isNull(yield* leaderLock)
      }).pipe(Effect.provide(app())))

    it.live("the lock of a leader that died without releasing it expires, and a live scheduler takes over", () =>
      Effect.gen(function*() {
        // what a SIGKILLed leader leaves: its name in the lock, with the lock's timeout still running
        yield* redisCall((client, keys) => client.set(keys.leaderLock, "dead-leader", "EX", 1))
        const { scheduler, stop } = yield* startScheduler({ name: "heir", pollInterval: "50 millis", leaderLockTimeout: "10 seconds" })
        assert.isFalse(yield* scheduler.isLeader)
        yield* waitUntil("the heir to lead", scheduler.isLeader, (leader) => leader, { timeout: "5 seconds" })
        assert.strictEqual(yield* leaderLock, "heir")
        yield* stop
      }).pipe(Effect.provide(app())))

    it.live("with two schedulers, a due delayed job is promoted exactly once", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        for (let i = 0; i < 5; i++) yield* actions.enqueueAt(Date.now() - 1000, note, { id: `d${i}` })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ name: "a", pollInterval: "50 millis" })
          yield* JobScheduler.make({ name: "b", pollInterval: "50 millis" })
          const worker = yield* Worker.make({ queues: ["notes"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 5)
          // the delayed schedule is empty once promoted, so nothing is left to promote a second time
          yield* waitUntil("the delayed schedule to empty", operations.timestamps, (t) => t.length === 0)
        }))
        assert.deepStrictEqual([...yield* notes].sort(), ["d0", "d1", "d2", "d3", "d4"])
        assert.strictEqual(yield* queueLength("notes"), 0)
      }).pipe(Effect.provide(app())))

    it.live("the leader's poll cleans up a worker silent past the configured stuck-worker timeout", () =>
      Effect.gen(function*() {
        const redis = yield* Redis
        const { keys } = redis
        const operations = yield* Operations
        const payload = { class: "add", queue: "math", args: [{ a: 1 }] }
        const time = Math.round(Date.now() / 1000) - 30
        yield* redis.multi([
          ["sadd", keys.workers, "ghost:9.0:math"],
          ["set", keys.ping("ghost:9.0"), JSON.stringify({ time, name: "ghost:9.0", queues: "math" })],
          ["set", keys.working("ghost:9.0", "math"), JSON.stringify({ run_at: new Date().toISOString(), queue: "math", payload, worker: "ghost:9.0" })]
        ])
        yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ pollInterval: "50 millis", stuckWorkerTimeout: "10 seconds" })
          yield* waitUntil("the dead worker's job in the failed list", operations.failedCount, (n) => n === 1)
        }))
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed[0]?.payload, payload)
        assert.deepStrictEqual(yield* redis.send("smembers", keys.workers), [])
      }).pipe(Effect.provide(app())))
  })

  describe(`scheduler: recurring actions (${backend.name})`, () => {
    it.live("the leader enqueues a recurring action once, with two schedulers running, and no more after restarts", () =>
      Effect.gen(function*() {
        const first = yield* Effect.forEach(["r1", "r2"], (name) => startScheduler({ name, pollInterval: "50 millis" }))
        const copies = yield* waitUntil("the first copy", waitingCopies("tick"), (c) => c.length > 0)
        assert.strictEqual(copies.length, 1)
        assert.strictEqual(copies[0]?.queue, "ticks")
        // both schedulers (leader or not) now find the live copy and start nothing
        for (const { scheduler } of first) assert.strictEqual(yield* scheduler.ensureRecurring, 0)
        assert.strictEqual((yield* waitingCopies("tick")).length, 1)
        assert.strictEqual((yield* waitingCopies("tock")).length, 1)
        // every process restarts: the new schedulers do not start a second chain
        yield* Effect.forEach(first, (s) => s.stop)
        const second = yield* Effect.forEach(["r3", "r4"], (name) => startScheduler({ name, pollInterval: "50 millis" }))
        yield* waitUntil("a new leader", leaderLock, (v) => v === "r3" || v === "r4")
        for (const { scheduler } of second) assert.strictEqual(yield* scheduler.ensureRecurring, 0)
        assert.strictEqual((yield* waitingCopies("tick")).length, 1)
        yield* Effect.forEach(second, (s) => s.stop)
      }).pipe(Effect.provide(app())))

    it.live("after each run, success or failure, the next copy is scheduled on the action's own queue; never two wait", () =>
      Effect.gen(function*() {
        const maxWaiting = { tick: 0, tock: 0 }
        const sample = Effect.gen(function*() {
          maxWaiting.tick = Math.max(maxWaiting.tick, (yield* waitingCopies("tick")).length)
          maxWaiting.tock = Math.max(maxWaiting.tock, (yield* waitingCopies("tock")).length)
        })
        const events = yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ name: "a", pollInterval: "50 millis" })
          yield* JobScheduler.make({ name: "b", pollInterval: "50 millis" })
          // a worker on every queue: the copies must still come back on their own queues
          const worker = yield* Worker.make({ queues: ["*"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          const seen: Array<Worker.JobEvent> = []
          yield* waitUntil(
            "two runs of each recurring action",
            Effect.gen(function*() {
              yield* sample
              const more = yield* PubSub.takeAll(sub)
              seen.push(...more)
              return seen
            }),
            (all) => all.filter((e) => e.job?.action === "tick").length >= 2 && all.filter((e) => e.job?.action === "tock").length >= 2,
            { timeout: "15 seconds", interval: "25 millis" }
          )
          // the successor of the last run is scheduled, on the action's own queue (waiting: not being run)
          const nextTick = yield* waitUntil("a waiting tick", waitingCopies("tick"), (c) => c.length > 0)
          const nextTock = yield* waitUntil("a waiting tock", waitingCopies("tock"), (c) => c.length > 0)
          assert.deepStrictEqual([nextTick.length, nextTick[0]?.queue], [1, "ticks"])
          assert.deepStrictEqual([nextTock.length, nextTock[0]?.queue], [1, "tocks"])
          return seen
        }))
        for (const event of events) assert.strictEqual(event.queue, event.job?.action === "tick" ? "ticks" : "tocks")
        assert.isTrue(events.filter((e) => e.job?.action === "tick").every((e) => e.outcome._tag === "Success"))
        assert.isTrue(events.filter((e) => e.job?.action === "tock").every((e) => e.outcome._tag === "Failure"))
        assert.deepStrictEqual(maxWaiting, { tick: 1, tock: 1 })
        // Resque's delayed schedule has whole seconds; a copy is never due before its period is over
        const runs = (yield* redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.key("ticks"), 0, -1))).map(Number)
        for (let i = 1; i < runs.length; i++) assert.isAtLeast((runs[i] ?? 0) - (runs[i - 1] ?? 0), 1000)
        const failed = yield* failedJobs
        assert.isAtLeast(failed.length, 2)
        assert.isTrue(failed.every((f) => f.action === "tock" && f.error === "tock always fails"))
      }).pipe(Effect.provide(app())))
  })
}
