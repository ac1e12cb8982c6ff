/**
 * The operations API on workers and recurring actions: listing workers and what they run, the
 * overview, cleaning stuck workers (their job failed, counted in stats), and stopping a recurring action for
 * real (nothing runs after the stop, including the copy that was running). Every test runs on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Latch, Option, PubSub } from "effect"
import * as FanOut from "../src/domain/FanOut.ts"
import * as Job from "../src/domain/Job.ts"
import * as Pick from "../src/internal/Pick.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"
import { gates, hold, opsApp } from "./support/tasksApp.ts"

/** Leaves the state a worker that died mid-job leaves: registered, its job popped and recorded as "working on". */
const deadWorker = (name: string, queue: string, runAt: number) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const { keys } = redis
    const seconds = Math.round(runAt / 1000)
    yield* redis.multi([
      ["sadd", keys.workers, `${name}:${queue}`],
      ["set", keys.started(name, queue), seconds],
      ["set", keys.ping(name), JSON.stringify({ time: seconds, name, queues: queue })]
    ])
    const slot = { worker: name, runAt: new Date(runAt).toISOString() }
    const handed = (yield* redis.eval(Pick.pickMany, { keys, workerQueues: queue, queues: [queue], slots: [slot] })).bySlot.get(0)
    return handed === undefined ? undefined : Pick.assignedFor(handed, slot.runAt)
  })

/** Start times (ms) of the recurring `tick` runs so far. */
const tickStarts = redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.key("tick-started"), 0, -1)).pipe(
  Effect.map((xs) => xs.map(Number))
)
const tickFinished = redisCall((client, keys) => client.get(keys.key("tick-finished"))).pipe(Effect.map(Number))

for (const backend of backends) {
  const app = () => opsApp(backend.layer())

  describe(`operations: workers (${backend.name})`, () => {
    it.live("lists workers, what they run, and the overview in one round trip", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        assert.deepStrictEqual(yield* ops.workers, [])
        assert.deepStrictEqual(yield* ops.allWorkingOn, [])
        assert.strictEqual((yield* Effect.flip(ops.workingOn("nobody")))._tag, "UnknownWorker")
        const empty = yield* ops.taskDetails
        assert.deepStrictEqual(empty, { queues: {}, workers: [], stats: { processed: 0, failed: 0 }, leader: null })

        const gate = Latch.makeUnsafe(false)
        gates.set(`w-${backend.name}`, gate)
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hold", "math"], concurrency: 2, name: `ops-${backend.name}` })
          const events = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue(hold, { id: `w-${backend.name}` })
          const busy = yield* waitUntil("a worker to pick the job", ops.allWorkingOn, (ws) => ws.length === 1)
          const running = busy[0]
          assert.strictEqual(running?.job.action, "hold")
          assert.deepStrictEqual(running?.job.inputs, { id: `w-${backend.name}` })
          assert.strictEqual(running?.queue, "hold")
          assert.include(worker.names, running?.worker)

          const workers = yield* ops.workers
          assert.deepStrictEqual(workers.map((w) => w.name), [...worker.names].sort())
          for (const w of workers) {
            assert.deepStrictEqual(w.queues, ["hold", "math"])
            assert.isNotNull(w.startedAt)
            assert.isNotNull(w.lastPingAt)
          }
          const mine = yield* ops.workingOn(running?.worker ?? "")
          assert.isTrue(Option.isSome(mine))
          const idle = worker.names.find((n) => n !== running?.worker) ?? ""
          assert.isTrue(Option.isNone(yield* ops.workingOn(idle)))

          const details = yield* ops.taskDetails
          assert.deepStrictEqual(details.queues, { hold: { length: 0, paused: false } })
          assert.deepStrictEqual(details.workers.map((w) => [w.name, w.workingOn?.job.action ?? null]),
            [...worker.names].sort().map((n) => [n, n === running?.worker ? "hold" : null]))
          assert.strictEqual(details.leader, null)

          yield* gate.open
          yield* takeEventsWithin(events, 1)
          const after = yield* ops.taskDetails
          assert.deepStrictEqual(after.stats, { processed: 1, failed: 0 })
          assert.deepStrictEqual(after.workers.map((w) => w.processed), workers.map((w) => (w.name === running?.worker ? 1 : 0)))
          assert.deepStrictEqual(yield* ops.allWorkingOn, [])
        }))
        assert.deepStrictEqual(yield* ops.workers, [], "workers unregister on shutdown")
      }).pipe(Effect.provide(app())))

    it.live("cleanOldWorkers fails the stuck job with a reason, unregisters the worker and counts the failure", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const { keys } = yield* Redis
        const now = yield* Clock.currentTimeMillis
        yield* actions.enqueue(add, { a: 1 })
        yield* actions.enqueue(add, { a: 2 })
        const stuck = yield* deadWorker("dead:1.0", "math", now - 120_000)
        const fresh = yield* deadWorker("busy:2.0", "math", now)
        assert.isArray(stuck)
        assert.isArray(fresh)

        assert.deepStrictEqual(yield* ops.cleanOldWorkers("1 hour"), [], "nothing is that old")
        const cleaned = yield* ops.cleanOldWorkers("1 minute")
        assert.deepStrictEqual(cleaned.map((w) => [w.worker, w.job.action, w.job.inputs]), [["dead:1.0", "add", { a: 1, b: 0 }]])
        assert.deepStrictEqual((yield* ops.workers).map((w) => w.name), ["busy:2.0"], "the recent job's worker stays")
        assert.isNull(yield* redisCall((client) => client.get(keys.working("dead:1.0", "math"))), "working-on record removed")
        assert.isNull(yield* redisCall((client) => client.get(keys.ping("dead:1.0"))))

        const [failed] = yield* ops.failed(0, -1)
        assert.strictEqual(failed?.worker, "dead:1.0")
        assert.strictEqual(failed?.action, "add")
        assert.strictEqual(failed?.exception, "WorkerTimeout")
        assert.include(failed?.error ?? "", "stuck")
        const stats = yield* ops.stats
        assert.strictEqual(stats.failed, 1)
        const addStats = stats.actions.find((a) => a.action === "add")
        assert.deepStrictEqual([addStats?.runs, addStats?.failures], [1, 1], "recorded through the worker middlewares")
        assert.deepStrictEqual(yield* ops.cleanOldWorkers("1 minute"), [], "idempotent")

        // the stuck job can be retried like any failed job
        if (failed !== undefined) yield* ops.retryAndRemoveFailed(failed)
        assert.deepStrictEqual((yield* ops.queued("math", 0, -1)).map((j) => j.raw), [Job.encode("math", "add", { a: 1, b: 0 })])
      }).pipe(Effect.provide(app())))
  })

  describe(`operations: stuck fan-out child (${backend.name})`, () => {
    it.live("cleanOldWorkers records the stuck child as failed in its fan-out, so the counts reach total", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const started = yield* actions.fanOut([FanOut.job(add, { a: 1 }), FanOut.job(add, { a: 2 }), FanOut.job(add, { a: 3 })])
        assert.strictEqual(started.total, 3)
        // the first child is picked by a worker that then dies; the other two run normally
        const now = yield* Clock.currentTimeMillis
        yield* deadWorker("dead:3.0", "math", now - 120_000)
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const events = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(events, 2)
        }))
        const before = yield* actions.fanOutStatus(started)
        assert.deepStrictEqual([before.completed, before.failed, before.done], [2, 0, false])

        const cleaned = yield* ops.cleanOldWorkers("1 minute")
        assert.deepStrictEqual(cleaned.map((w) => [w.job.fanOut, w.job.index]), [[started.fanOutId, 0]])
        const after = yield* actions.fanOutStatus(started)
        assert.deepStrictEqual([after.total, after.completed, after.failed, after.done], [3, 2, 1, true])
        assert.include(after.errors[0]?.error ?? "", "stuck")
        const [failed] = yield* ops.failed(0, -1)
        assert.deepStrictEqual([failed?.fanOut, failed?.index], [started.fanOutId, 0])
      }).pipe(Effect.provide(app())))
  })

  describe(`operations: recurring actions (${backend.name})`, () => {
    it.live("stop removes every copy and nothing runs after it, even the copy that was running; start resumes", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        assert.strictEqual((yield* Effect.flip(ops.stopRecurrentAction("add")))._tag, "NotRecurring")
        assert.strictEqual((yield* Effect.flip(ops.stopRecurrentAction("nope")))._tag, "UnknownAction")
        assert.strictEqual((yield* Effect.flip(ops.startRecurrentAction(add)))._tag, "NotRecurring")
        assert.deepStrictEqual(yield* ops.recurring, [{ action: "tick", queue: "ticks", frequencyMs: 1000, schedule: "every 1s", stopped: false, live: false }])

        yield* Effect.scoped(Effect.gen(function*() {
          yield* Worker.make({ queues: ["ticks"], concurrency: 1, pollInterval: "20 millis" })
          yield* JobScheduler.make({ pollInterval: "100 millis" })
          // stop while a copy is running: it must not re-enqueue itself
          yield* waitUntil("a second tick to be running", Effect.all([tickStarts, tickFinished]), ([starts, finished]) =>
            starts.length >= 2 && starts.length > finished, { timeout: "15 seconds", interval: "10 millis" })
          const stopped = yield* ops.stopRecurrentAction("tick")
          const stoppedAt = Date.now()
          assert.isTrue(stopped.wasLive)
          assert.deepStrictEqual(yield* ops.recurring, [{ action: "tick", queue: "ticks", frequencyMs: 1000, schedule: "every 1s", stopped: true, live: false }])

          // the one bounded wait: three periods in which nothing may start
          yield* Effect.sleep("3 seconds")
          const starts = yield* tickStarts
          assert.deepStrictEqual(starts.filter((t) => t > stoppedAt), [], "no run started after the stop")
          assert.strictEqual(yield* tickFinished, starts.length, "the running copy finished")
          assert.strictEqual(yield* ops.length("ticks"), 0)
          assert.deepStrictEqual((yield* ops.allDelayed).flatMap((d) => d.jobs).filter((j) => j.action === "tick"), [])

          assert.isTrue(yield* ops.startRecurrentAction("tick"))
          assert.isFalse(yield* ops.startRecurrentAction("tick"), "one live copy at most")
          yield* waitUntil("a tick after the restart", tickStarts, (ts) => ts.some((t) => t > stoppedAt + 3000), { timeout: "10 seconds" })
          const stoppedAgain = yield* ops.stopRecurrentAction("tick")
          assert.isTrue(stoppedAgain.wasLive)
        }))
      }).pipe(Effect.provide(app())), 40_000)

    it.live("stop removes the queued copy and the delayed copy", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const redis = yield* Redis
        const { keys } = redis
        // a live chain with its copy waiting in the queue (as the leader starts it)
        assert.isTrue(yield* ops.startRecurrentAction("tick"))
        assert.deepStrictEqual((yield* ops.queued("ticks", 0, -1)).map((j) => [j.action, typeof j.recurrence]), [["tick", "string"]])
        const queuedStop = yield* ops.stopRecurrentAction("tick")
        assert.deepStrictEqual(queuedStop, { action: "tick", wasLive: true, queued: 1, delayed: 0 })
        assert.strictEqual(yield* ops.length("ticks"), 0)
        assert.isFalse(yield* ops.startRecurrentAction("tick").pipe(Effect.andThen(ops.stopRecurrentAction("tick")), Effect.as(false)))

        // a live chain whose next copy is delayed (as a finished copy reschedules it)
        const token = "token-1"
        const payload = Job.encode("ticks", "tick", {}, { recurrence: token })
        const at = (yield* Clock.currentTimeMillis) + 60_000
        const seconds = Math.round(at / 1000)
        yield* redis.multi([
          ["del", keys.recurringStopped("tick")],
          ["set", keys.recurring("tick"), token],
          ["rpush", keys.delayed(seconds), payload],
          ["sadd", keys.timestamps(payload), `delayed:${seconds}`],
          ["zadd", keys.delayedSchedule, seconds, String(seconds)]
        ])
        assert.strictEqual((yield* ops.allDelayed).length, 1)
        const delayedStop = yield* ops.stopRecurrentAction("tick")
        assert.deepStrictEqual(delayedStop, { action: "tick", wasLive: true, queued: 0, delayed: 1 })
        assert.deepStrictEqual(yield* ops.allDelayed, [])
        assert.deepStrictEqual(yield* ops.timestamps, [])
      }).pipe(Effect.provide(app())))
  })
}
