/**
 * Seeds the state the dashboard shows, in bulk and through the Redis seam, as the runtime writes it: failed
 * records (Resque's format, with `error_data`), registered workers (busy, idle or with a stale ping), and a
 * fan-out whose children have outcomes. Used by the API tests and the large-data timings.
 */
import { Effect } from "effect"
import * as FanOut from "../../src/domain/FanOut.ts"
import * as Job from "../../src/domain/Job.ts"
import * as Resque from "../../src/domain/Resque.ts"
import * as FanOutScripts from "../../src/internal/FanOutScripts.ts"
import { Actions } from "../../src/layers/Actions.ts"
import { Redis } from "../../src/layers/Redis.ts"
import { charge, flaky, slow } from "./dashboardApp.ts"

/** Writes commands in MULTIs of `size`. */
const inBatches = <A>(items: ReadonlyArray<A>, size: number, commands: (batch: ReadonlyArray<A>) => ReadonlyArray<readonly [string, ...ReadonlyArray<string | number>]>) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    for (let i = 0; i < items.length; i += size) yield* redis.multi(commands(items.slice(i, i + size)))
  })

/** One failed record of `charge` (PaymentDeclined, typed data) or `flaky` (a plain Error). */
export const failedRecord = (i: number, now: number, kind: "charge" | "flaky" = i % 4 === 0 ? "flaky" : "charge"): string =>
  Resque.failedRecord({
    worker: `host:${i % 20}.0`,
    queue: "payments",
    payload: kind === "charge" ? Job.encode("payments", charge.name, { sku: `SKU-${i}` }) : Job.encode("payments", flaky.name, { n: i }),
    failure: kind === "charge"
      ? { _tag: "Failure", exception: "PaymentDeclined", error: `{"sku":"SKU-${i}","reason":"card expired"}`, data: { _tag: "PaymentDeclined", sku: `SKU-${i}`, reason: "card expired" }, backtrace: ["at charge (app.ts:10)", "at run (worker.ts:42)"], final: true, durationMs: 3 }
      : { _tag: "Failure", exception: "Error", error: `flaky ${i} failed`, backtrace: ["at flaky (app.ts:20)"], final: true, durationMs: 1 },
    now: now - (100_000 - i) * 1000
  })

/** Appends `n` failed records (oldest first), 1 000 per round trip; every 4th is `flaky`, the rest `charge`. */
export const seedFailed = (n: number, options: { readonly from?: number } = {}) =>
  Effect.gen(function*() {
    const { keys } = yield* Redis
    const now = Date.now()
    const from = options.from ?? 0
    const indexes = Array.from({ length: n }, (_, k) => from + k)
    yield* inBatches(indexes, 1000, (batch) => [["rpush", keys.failed, ...batch.map((i) => failedRecord(i, now))]])
  })

/**
 * Registers `n` workers `host-NNNN.0` on `payments,images`: every `busyEvery`-th is running a `charge` job,
 * every `staleEvery`-th last pinged two minutes ago (the others now).
 */
export const seedWorkers = (n: number, options: { readonly busyEvery?: number; readonly staleEvery?: number } = {}) =>
  Effect.gen(function*() {
    const { keys } = yield* Redis
    const now = Date.now()
    const queues = "payments,images"
    const workers = Array.from({ length: n }, (_, i) => `host-${String(i).padStart(4, "0")}.0`)
    yield* inBatches(workers, 250, (batch) =>
      batch.flatMap((name) => {
        const i = Number(name.slice(5, 9))
        const stale = options.staleEvery !== undefined && i % options.staleEvery === 0
        const seconds = Math.round((stale ? now - 120_000 : now) / 1000)
        const busy = options.busyEvery !== undefined && i % options.busyEvery === 0
        const payload = Job.encode("payments", charge.name, { sku: `W-${i}` })
        return [
          ["sadd", keys.workers, `${name}:${queues}`],
          ["set", keys.started(name, queues), new Date(now - 3_600_000).toString()],
          ["set", keys.ping(name), JSON.stringify({ time: seconds, name, queues })],
          ["set", keys.stat("processed", name), i * 3],
          ["set", keys.stat("failed", name), i % 7],
          ...(busy
            ? [["set", keys.working(name, queues), JSON.stringify({ run_at: new Date(now - 5_000).toISOString(), queue: "payments", payload: JSON.parse(payload), worker: name })] as const]
            : [])
        ] as const
      }))
    return workers
  })

/**
 * Fans out `n` children of `slow` (none is run: no worker takes `children` in the seeding tests) and records
 * outcomes for the first `completed + failed` of them, as the worker's recorder would.
 */
export const seedFanOut = (n: number, options: { readonly completed: number; readonly failed: number; readonly id?: string }) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const actions = yield* Actions
    const started = yield* actions.fanOut(slow, Array.from({ length: n }, (_, i) => ({ i, ms: 1 })), {
      batchSize: 1000,
      resultTtl: "1 hour",
      ...(options.id === undefined ? {} : { id: options.id })
    })
    const now = Date.now()
    const children = Array.from({ length: options.completed + options.failed }, (_, index): FanOutScripts.ChildRecord => ({
      fanOutId: started.fanOutId,
      index,
      outcome: index < options.completed
        ? FanOut.encodeSuccess(slow.name, { i: index, ms: 1 }, JSON.stringify({ i: index }))
        : FanOut.encodeFailure(slow.name, { i: index, ms: 1 }, { error: `child ${index} broke`, exception: "Broke", data: { index } }),
      now,
      onlyIfAbsent: false
    }))
    for (let i = 0; i < children.length; i += 500) {
      yield* redis.eval(FanOutScripts.recordChildren, { keys: redis.keys, children: children.slice(i, i + 500) })
    }
    return started
  })
