/**
 * A mixed fleet on one Redis: our workers beside Ruby Resque's workers, resque-web and resque-scheduler,
 * whose records are reproduced exactly from their sources (`support/rubyResque.ts`), and beside plain
 * node-resque (real Redis only). Each test states what the other client does and what must hold for us.
 */
import { hostname } from "node:os"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Latch, Option, PubSub, Schedule, Schema } from "effect"
import { Scheduler as NodeResqueScheduler, Worker as NodeResqueWorker } from "node-resque"
import * as Action from "../src/domain/Action.ts"
import * as FanOut from "../src/domain/FanOut.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, pushPayloads, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends, real } from "./support/backends.ts"
import { app as fanOutApp, fanOutActions, finished, Odd, square } from "./support/fanOutApp.ts"
import { nodeResqueConnection, runningInScope } from "./support/nodeResque.ts"
import {
  failedRecords,
  resqueWebWorkers,
  rubyDestroy,
  rubyEnqueue,
  rubyPayload,
  rubyPrune,
  rubyWorker,
  rubyWorkerId,
  schedulerEnqueueAt,
  schedulerRemoveDelayed,
  schedulerScheduledAt
} from "./support/rubyResque.ts"
import { gates, opsApp } from "./support/tasksApp.ts"

/** Runs of the recurring `tick` so far. */
const tickRuns = redisCall((client, keys) => client.llen<number>(keys.key("tick-started")))

const heartbeats = redisCall((client, keys) => client.hgetall<Record<string, string>>(keys.key("workers", "heartbeat")))

for (const backend of backends) {
  const app = () => opsApp(backend.layer())

  describe(`mixed fleet: Ruby Resque workers and resque-web (${backend.name})`, () => {
    it.live("a Ruby worker starting on this host prunes its own dead workers but not ours, which keep their jobs", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const gate = Latch.makeUnsafe(false)
        gates.set(`prune-${backend.name}`, gate)
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hold"], concurrency: 2 })
          const events = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue("hold", { id: `prune-${backend.name}` })
          yield* waitUntil("our worker to run the job", ops.allWorkingOn, (all) => all.length === 1)
          // a Ruby worker of this host that died mid-job, and a Ruby worker starting now on this host, on `*`
          const dead = rubyWorkerId(hostname(), 999_999, ["hold"])
          yield* rubyWorker({ id: dead, working: { queue: "hold", payload: { class: "hold", args: [{ id: "ruby" }] } } })
          const pruned = yield* rubyPrune({ hostname: hostname(), queues: ["*"], pids: [] })

          assert.deepStrictEqual(pruned, [{ id: dead, reason: "host" }])
          assert.deepStrictEqual((yield* ops.workers).map((w) => w.name).sort(), [...worker.names].sort())
          const running = yield* ops.allWorkingOn
          assert.deepStrictEqual(running.map((w) => [w.worker, w.job.action]), [[running[0]?.worker, "hold"]])
          assert.include(worker.names, running[0]?.worker)
          assert.deepStrictEqual((yield* failedRecords).map((r) => [r.worker, r.exception]), [[dead, "Resque::DirtyExit"]])
          yield* gate.open
          const [done] = yield* takeEventsWithin(events, 1)
          assert.strictEqual(done?.outcome._tag, "Success")
        }))
        assert.strictEqual(yield* ops.failedCount, 1)
      }).pipe(Effect.provide(app())))

    it.live("resque-web shows our workers' start time, heartbeat, counters and running job; none is left after they stop", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ops = yield* Operations
        const gate = Latch.makeUnsafe(false)
        gates.set(`web-${backend.name}`, gate)
        const names = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hold", "math"], concurrency: 2 })
          const events = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue("add", { a: 1, b: 2 })
          yield* actions.enqueue("explode", { why: "shown" })
          yield* takeEventsWithin(events, 2)
          yield* actions.enqueue("hold", { id: `web-${backend.name}` })
          yield* waitUntil("the held job to run", ops.allWorkingOn, (all) => all.length === 1)

          const shown = yield* resqueWebWorkers
          assert.deepStrictEqual(shown.map((w) => w.id).sort(), worker.names.map((name) => `${name}:hold,math`).sort())
          for (const w of shown) {
            assert.strictEqual(w.host, `${hostname()}~effect`)
            assert.match(w.pid, new RegExp(`^${process.pid}\\.\\d+$`))
            assert.deepStrictEqual(w.queues, ["hold", "math"])
            assert.isTrue(w.startedValid, `started: ${w.started}`)
            assert.isNotNull(w.heartbeat)
          }
          assert.strictEqual(shown.reduce((n, w) => n + w.processed, 0), 1)
          assert.strictEqual(shown.reduce((n, w) => n + w.failed, 0), 1)
          assert.deepStrictEqual(shown.filter((w) => w.state === "working").map((w) => w.processing), ["hold"])
          // our own operations read the same counters
          const stats = yield* ops.stats
          assert.deepStrictEqual([stats.workers.reduce((n, w) => n + w.processed, 0), stats.workers.reduce((n, w) => n + w.failed, 0)], [1, 1])
          const overview = yield* ops.taskDetails
          assert.deepStrictEqual([overview.workers.reduce((n, w) => n + w.processed, 0), overview.workers.reduce((n, w) => n + w.failed, 0)], [1, 1])
          yield* gate.open
          return worker.names
        }))
        assert.deepStrictEqual(yield* resqueWebWorkers, [])
        assert.deepStrictEqual(Object.keys((yield* heartbeats) ?? {}), [])
        const counters = yield* redisCall((client, keys) =>
          Promise.all(names.flatMap((name) => [client.get(keys.key("stat", "processed", name, "hold,math")), client.get(keys.key("stat", "failed", name, "hold,math"))]))
        )
        assert.deepStrictEqual(counters.filter((c) => c !== null), [])
      }).pipe(Effect.provide(app())))

    it.live("the operations read a busy Ruby worker's record (no `worker` field) and clean it when it is stuck", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const id = rubyWorkerId("ruby-host", 4242, ["math"])
        const payload = JSON.parse(rubyPayload("add", [{ a: 1, b: 2 }]))
        yield* rubyWorker({ id, working: { queue: "math", payload, runAt: Date.now() - 2 * 3600_000 } })

        const one = yield* ops.workingOn("ruby-host:4242")
        assert.isTrue(Option.isSome(one))
        const record = Option.getOrThrow(one)
        assert.deepStrictEqual([record.worker, record.queue, record.job.action, record.job.inputs], ["ruby-host:4242", "math", "add", { a: 1, b: 2 }])
        assert.isNotNull(record.runAt)
        assert.deepStrictEqual((yield* ops.allWorkingOn).map((w) => w.worker), ["ruby-host:4242"])
        const overview = yield* ops.taskDetails
        assert.deepStrictEqual(overview.workers.map((w) => [w.name, w.workingOn?.job.action]), [["ruby-host:4242", "add"]])

        const cleaned = yield* ops.cleanOldWorkers("1 hour")
        assert.deepStrictEqual(cleaned.map((w) => w.worker), ["ruby-host:4242"])
        assert.deepStrictEqual((yield* ops.failed(0, -1)).map((f) => [f.worker, f.action, f.exception]), [["ruby-host:4242", "add", "WorkerTimeout"]])
        assert.deepStrictEqual(yield* ops.workers, [])
        assert.deepStrictEqual(Object.keys((yield* heartbeats) ?? {}), [])
        assert.isNull(yield* redisCall((client, keys) => client.get(keys.key("worker", id, "started"))))
      }).pipe(Effect.provide(app())))
  })

  describe(`mixed fleet: finding jobs written by other clients (${backend.name})`, () => {
    it.live("del finds a job by value whatever its key order, with or without `queue`; Ruby's Job.destroy finds only its own spelling", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        // Ruby's `Job.create(:math, Add, {"b" => 2, "a" => 1})`, node-resque's and ours, of the same job
        yield* rubyEnqueue("math", "add", [{ b: 2, a: 1 }])
        yield* pushPayloads("math", [JSON.stringify({ class: "add", queue: "math", args: [{ a: "1", b: 2 }] })])
        yield* actions.enqueue("add", { a: 1, b: 2 })
        yield* actions.enqueue("add", { a: 1, b: 3 })
        assert.strictEqual(yield* ops.del("math", "add", { b: 2, a: 1 }), 3)
        assert.deepStrictEqual((yield* ops.queued("math", 0, -1)).map((j) => j.inputs), [{ a: 1, b: 3 }])

        // Ruby's own destroy with args is an LREM of `{"class","args"}`: it misses our spelling of the same job
        yield* actions.enqueue("add", { a: 5, b: 0 })
        assert.strictEqual(yield* rubyDestroy("math", "add", [{ a: 5, b: 0 }]), 0)
        yield* rubyEnqueue("math", "add", [{ a: 5, b: 0 }])
        assert.strictEqual(yield* rubyDestroy("math", "add", [{ a: 5, b: 0 }]), 1)
      }).pipe(Effect.provide(app())))

    it.live("scheduledAt and delDelayed find resque-scheduler's delayed jobs; resque-scheduler's scheduled_at misses ours", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const t = (Math.floor(Date.now() / 1000) + 3600) * 1000
        yield* schedulerEnqueueAt(t / 1000, "math", "add", [{ b: 2, a: 1 }])
        yield* actions.enqueueAt(t + 5000, "add", { a: 1, b: 2 })
        yield* actions.enqueueAt(t + 9000, "add", { a: 1, b: 4 })
        assert.deepStrictEqual(yield* ops.scheduledAt("add", { a: 1, b: 2 }), [t, t + 5000])
        assert.deepStrictEqual(yield* ops.scheduledAt("add", { a: 1, b: 2 }, { queue: "other" }), [])
        assert.deepStrictEqual(yield* schedulerScheduledAt("math", "add", [{ a: 1, b: 2 }]), [], "resque-scheduler looks for its own spelling only")
        assert.deepStrictEqual(yield* schedulerScheduledAt("math", "add", [{ b: 2, a: 1 }]), [t / 1000])
        assert.deepStrictEqual(yield* ops.delDelayed("add", { b: 2, a: 1 }), [t, t + 5000])
        assert.deepStrictEqual(yield* ops.scheduledAt("add", { a: 1, b: 2 }), [])
        assert.deepStrictEqual((yield* ops.allDelayed).map((d) => d.at), [t + 9000])
        assert.deepStrictEqual(yield* schedulerRemoveDelayed("math", "add", [{ a: 1, b: 4 }]), 0)
      }).pipe(Effect.provide(app())))
  })
}

describe(`mixed fleet: a plain node-resque scheduler holding the leader lock (${real.name} only: node-resque needs a real server)`, () => {
  it.live("our recurring actions run and our dead-worker reclaim works; node-resque's scheduler promotes the delayed jobs", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      const ops = yield* Operations
      const { keys } = yield* Redis
      const connection = yield* nodeResqueConnection
      const theirs = new NodeResqueScheduler({ connection, name: "node-resque-scheduler", timeout: 50 })
      theirs.on("error", () => {})
      yield* runningInScope(theirs)
      yield* waitUntil("node-resque's scheduler to lead", Effect.sync(() => theirs.leader), (leader) => leader)
      // a worker of ours that died ten minutes ago, mid-job
      const silent = Date.now() - 10 * 60_000
      yield* redisCall(async (client) => {
        await client.sadd(keys.workers, "gone~effect:1.0:math")
        await client.set(keys.ping("gone~effect:1.0"), JSON.stringify({ time: Math.round(silent / 1000), name: "gone~effect:1.0", queues: "math" }))
        await client.set(keys.working("gone~effect:1.0", "math"), JSON.stringify({ run_at: new Date(silent).toISOString(), queue: "math", payload: { class: "add", queue: "math", args: [{ a: 1 }] }, worker: "gone~effect:1.0" }))
      })
      const scheduler = yield* JobScheduler.make({ pollInterval: "100 millis", stuckWorkerTimeout: "1 minute" })
      const worker = yield* Worker.make({ queues: ["ticks", "math"], concurrency: 2 })
      const events = yield* PubSub.subscribe(worker.events)
      yield* actions.enqueueAt(Date.now() - 1000, "add", { a: 20, b: 22 })

      yield* waitUntil("the recurring action to run", tickRuns, (n) => n >= 1)
      yield* waitUntil("the dead worker to be reclaimed", ops.workers, (all) => all.every((w) => w.name !== "gone~effect:1.0"))
      assert.deepStrictEqual((yield* ops.failed(0, -1)).map((f) => [f.worker, f.exception]), [["gone~effect:1.0", "WorkerDied"]])
      const promoted = yield* Effect.gen(function*() {
        while (true) {
          const [event] = yield* takeEventsWithin(events, 1)
          if (event?.job?.action === "add") return event
        }
      })
      assert.strictEqual(promoted.outcome._tag === "Success" ? promoted.outcome.result : "", "42")
      assert.isFalse(yield* scheduler.isLeader)
      assert.isTrue(yield* scheduler.hasDuties)
      assert.strictEqual(yield* redisCall((client) => client.get(keys.leaderLock)), "node-resque-scheduler")
    }).pipe(Effect.scoped, Effect.provide(opsApp(real.layer()))))
})

for (const backend of backends) {
  describe(`mixed fleet: fan-outs whose children other clients take (${backend.name})`, () => {
    it.live("with a deadline, children a foreign worker took or resque-web removed count as failed and onComplete fires, not before", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const startedAt = Date.now()
        const started = yield* actions.fanOut([
          FanOut.job(square, { n: 2 }, { queue: "fan" }),
          FanOut.job(square, { n: 3 }, { queue: "ruby" }),
          FanOut.job(square, { n: 4 }, { queue: "ruby" })
        ], { deadline: "1 second", onComplete: finished })
        // a Ruby worker pops one child (`Resque.pop`) and runs it; resque-web's "Remove Queue" drops the other
        yield* redisCall(async (client, keys) => {
          await client.lpop(keys.key("queue", "ruby"))
          await client.del(keys.key("queue", "ruby"))
          await client.srem(keys.key("queues"), "ruby")
        })
        yield* JobScheduler.make({ pollInterval: "100 millis" })
        const worker = yield* Worker.make({ queues: ["fan", "done"], concurrency: 2 })
        const events = yield* PubSub.subscribe(worker.events)
        const completion = yield* Effect.gen(function*() {
          while (true) {
            const [event] = yield* takeEventsWithin(events, 1)
            if (event?.job?.action === "finished") return event
          }
        })
        assert.isAtLeast(Date.now() - startedAt, 1000, "onComplete fired before the deadline")
        assert.deepStrictEqual(completion.outcome._tag === "Success" ? JSON.parse(completion.outcome.result) : null, {
          fanOutId: started.fanOutId,
          total: 3,
          completed: 1,
          failed: 2
        })
        const status = yield* actions.fanOutStatus(started)
        assert.deepStrictEqual([status.completed, status.failed, status.pending], [1, 2, 0])
        assert.deepStrictEqual(status.errors.map((e) => [e.index, e.action, e.inputs, e.exception]), [[1, "square", null, "FanOutDeadline"], [2, "square", null, "FanOutDeadline"]])
        assert.match(status.errors[0]?.error ?? "", /no outcome within the fan-out's deadline of 1s/)
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.zrange(keys.key("fanout_deadlines"), 0, -1)), [])
      }).pipe(Effect.scoped, Effect.provide(fanOutApp(backend.layer()))))

    it.live("a deadline beyond resultTtl is refused before anything is written", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const error = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { deadline: "10 minutes", resultTtl: "5 minutes" }))
        assert.deepStrictEqual([error._tag, error._tag === "FanOutInvalidOptions" ? error.option : ""], ["FanOutInvalidOptions", "resultTtl"])
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.llen(keys.key("queue", "fan"))), 0)
      }).pipe(Effect.provide(fanOutApp(backend.layer()))))
  })
}

/** Tokens whose `plain` child has failed once (its retry then succeeds). */
const failedOnce = new Set<string>()

/** A child for queues other clients' workers consume: `args` stay exactly its inputs. */
const plain = Action.make({
  name: "plain",
  description: "Doubles n; fails the first attempt of a token given `flaky`",
  inputs: Schema.Struct({ n: Schema.Finite, flaky: Schema.optionalKey(Schema.String) }),
  run: ({ n, flaky }) =>
    Effect.suspend(() => {
      if (flaky === undefined || failedOnce.has(flaky)) return Effect.succeed(n * 2)
      failedOnce.add(flaky)
      return Effect.fail(new Odd({ message: "first attempt" }))
    }),
  task: { queue: "ruby", plainArgs: true },
  retry: { attempts: 2, schedule: Schedule.spaced(0) }
})

const plainApp = (backend: typeof real) => coreWith([...fanOutActions, plain], backend.layer())

for (const backend of backends) {
  describe(`mixed fleet: metadata beside args for actions other clients run (${backend.name})`, () => {
    it.live("a plainArgs child's args are exactly its inputs; our worker still records it, and its retry keeps the metadata beside args", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const flaky = `flaky-${backend.name}`
        const started = yield* actions.fanOut(plain, [{ n: 1 }, { n: 2, flaky }])
        const raws = yield* redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.key("queue", "ruby"), 0, -1))
        assert.deepStrictEqual(raws.map((raw) => JSON.parse(raw)), [
          { class: "plain", queue: "ruby", args: [{ n: 1 }], _job: { fanOut: started.fanOutId, index: 0 } },
          { class: "plain", queue: "ruby", args: [{ n: 2, flaky }], _job: { fanOut: started.fanOutId, index: 1 } }
        ])
        const worker = yield* Worker.make({ queues: ["ruby"], concurrency: 1 })
        const events = yield* PubSub.subscribe(worker.events)
        const ran = yield* takeEventsWithin(events, 3)
        assert.deepStrictEqual(ran.map((e) => [e.job?.meta.index, e.job?.meta.attempt ?? 1, e.job?.metaBesideArgs, e.outcome._tag]), [
          [0, 1, true, "Success"],
          [1, 1, true, "Failure"],
          [1, 2, true, "Success"]
        ])
        const status = yield* actions.awaitFanOut(started, { timeout: "5 seconds" })
        assert.deepStrictEqual(status.results.map((r) => [r.index, r.result]), [[0, 2], [1, 4]])
        // a plain job of the action has no metadata at all; its retry's goes beside args too
        yield* actions.enqueue(plain, { n: 3, flaky: `${flaky}-plain` })
        const again = yield* takeEventsWithin(events, 2)
        assert.deepStrictEqual(again.map((e) => [e.job?.args, e.job?.meta.attempt ?? 1, e.outcome._tag]), [
          [[{ n: 3, flaky: `${flaky}-plain` }], 1, "Failure"],
          [[{ n: 3, flaky: `${flaky}-plain` }], 2, "Success"]
        ])
      }).pipe(Effect.scoped, Effect.provide(plainApp(backend))))
  })
}

describe(`mixed fleet: a plainArgs job on a plain node-resque worker (${real.name} only)`, () => {
  it.live("the foreign worker's job function gets exactly the inputs, no `_job`", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      yield* actions.fanOut(plain, [{ n: 5 }], { deadline: "30 seconds" })
      const connection = yield* nodeResqueConnection
      const seen: Array<unknown> = []
      const theirs = new NodeResqueWorker({ connection, queues: ["ruby"], timeout: 20 }, {
        plain: { perform: async (...args: Array<unknown>) => void seen.push(args) }
      })
      theirs.on("error", () => {})
      yield* runningInScope(theirs)
      yield* waitUntil("node-resque's worker to run the child", Effect.sync(() => seen.length), (n) => n >= 1)
      assert.deepStrictEqual(seen, [[{ n: 5 }]])
    }).pipe(Effect.scoped, Effect.provide(plainApp(real))))
})
