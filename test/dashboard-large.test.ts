/**
 * The dashboard on a large data set, on the real Redis: 100 000 failed jobs, a 10 000-child fan-out (7 000
 * completed, 500 failed, its 10 000 children queued), 1 000 workers (half busy, a tenth stale) and 2 000
 * delayed jobs. Every page and endpoint answers 200 with the right counts, in the number of round trips it
 * documents; the timings (median and slowest of 5, through HTTP, page rendering included) and the round trips
 * are printed, never asserted (the CPU is shared). docs/dashboard.md quotes a run of this test.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { real } from "./support/backends.ts"
import { baseUrl, resize, serve } from "./support/dashboardApp.ts"
import { seedFailed, seedFanOut, seedWorkers } from "./support/dashboardSeed.ts"
import { counted } from "./support/roundTrips.ts"

/** Round trips through a Redis layer. */
const counter = { trips: 0 }


interface Timing {
  readonly what: string
  readonly medianMs: number
  readonly maxMs: number
  readonly trips: number
  readonly bytes: number
}

/** Requests `path` `runs` times; the status must be 200 every time. */
const time = (what: string, path: string, options: { readonly runs?: number; readonly method?: "GET" | "POST"; readonly body?: unknown; readonly csrf?: string } = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const runs = options.runs ?? 5
    const millis: Array<number> = []
    let trips = 0
    let bytes = 0
    let json: unknown
    for (let i = 0; i < runs; i++) {
      counter.trips = 0
      const started = performance.now()
      const { status, text } = yield* Effect.promise(async () => {
        const response = await fetch(base + path, {
          method: options.method ?? "GET",
          headers: options.method === "POST" ? { "content-type": "application/json", "x-csrf-token": options.csrf ?? "" } : {},
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
        })
        return { status: response.status, text: await response.text() }
      })
      millis.push(performance.now() - started)
      trips = counter.trips
      bytes = text.length
      assert.strictEqual(status, 200, `${what}: ${text.slice(0, 300)}`)
      if (text.startsWith("{") || text.startsWith("[")) json = JSON.parse(text)
    }
    const sorted = [...millis].sort((a, b) => a - b)
    const timing: Timing = { what, medianMs: sorted[Math.floor(sorted.length / 2)]!, maxMs: sorted.at(-1)!, trips, bytes }
    return { timing, json: json as any }
  })

const report = (title: string, timings: ReadonlyArray<Timing>) => {
  const rows = timings.map((t) =>
    `| ${t.what} | ${t.medianMs.toFixed(1)} | ${t.maxMs.toFixed(1)} | ${t.trips} | ${(t.bytes / 1024).toFixed(1)} KiB |`
  )
  console.log([`\n${title}`, "| request | median ms | max ms | round trips | response |", "|---|---:|---:|---:|---:|", ...rows].join("\n"))
}

describe("dashboard on a large data set (redis)", () => {
  it.live("100 000 failed jobs, a 10 000-child fan-out, 1 000 workers: every page answers, in bounded round trips", () =>
    Effect.gen(function*() {
      const seedStarted = performance.now()
      yield* seedFailed(100_000)
      const fan = yield* seedFanOut(10_000, { completed: 7_000, failed: 500, id: "large-fan-out" })
      yield* seedWorkers(1_000, { busyEvery: 2, staleEvery: 10 })
      const actions = yield* Actions
      const now = Date.now()
      for (let i = 0; i < 2_000; i++) yield* actions.enqueueAt(now + 60_000 + (i % 500) * 1000, resize, { url: `https://img.example/${i}.png` })
      console.log(`seeded in ${Math.round(performance.now() - seedStarted)} ms`)
      const ops = yield* Operations
      assert.strictEqual(yield* ops.failedCount, 100_000)

      const timings: Array<Timing> = []
      const run = (what: string, path: string) => Effect.map(time(what, path), ({ timing, json }) => {
        timings.push(timing)
        return json
      })
      const overview = yield* run("GET /api/overview", "/api/overview")
      assert.strictEqual(overview.failedCount, 100_000)
      assert.deepStrictEqual(overview.workers, { total: 1_000, busy: 500, idle: 500 })
      yield* run("GET / (overview page)", "/")
      const failed = yield* run("GET /api/failed (newest 25)", "/api/failed")
      assert.strictEqual(failed.jobs[0].position, 99_999)
      yield* run("GET /failed (page)", "/failed")
      const deep = yield* run("GET /api/failed?offset=50000", "/api/failed?offset=50000&limit=100")
      assert.strictEqual(deep.jobs[0].position, 49_999)
      const filtered = yield* run("GET /api/failed?action=flaky (25 matches)", "/api/failed?action=flaky")
      assert.strictEqual(filtered.jobs.length, 25)
      const rare = yield* run("GET /api/failed?exception=Nope (scans 10 000)", "/api/failed?exception=Nope")
      assert.strictEqual(rare.scanned, 10_000)
      yield* run("GET /failed?action=charge&exception=PaymentDeclined (page)", "/failed?action=charge&exception=PaymentDeclined")
      yield* run("GET /api/fan-outs", "/api/fan-outs")
      const summary = yield* run("GET /api/fan-outs/:id", `/api/fan-outs/${fan.fanOutId}`)
      assert.deepStrictEqual([summary.total, summary.completed, summary.failed], [10_000, 7_000, 500])
      yield* run("GET /api/fan-outs/:id/children (all)", `/api/fan-outs/${fan.fanOutId}/children?offset=5000`)
      const failedChildren = yield* run("GET /api/fan-outs/:id/children?status=failed", `/api/fan-outs/${fan.fanOutId}/children?status=failed`)
      assert.strictEqual(failedChildren.matched, 500)
      yield* run("GET /fan-outs/:id (page)", `/fan-outs/${fan.fanOutId}`)
      yield* run("GET /fan-outs/:id?status=failed (page)", `/fan-outs/${fan.fanOutId}?status=failed`)
      const workers = yield* run("GET /api/workers (50 of 1 000)", "/api/workers")
      assert.deepStrictEqual([workers.total, workers.busy, workers.stale], [1_000, 500, 100])
      yield* run("GET /workers (page)", "/workers")
      yield* run("GET /workers?state=stale (page)", "/workers?state=stale")
      const queue = yield* run("GET /api/queues/children?offset=5000", "/api/queues/children?offset=5000")
      assert.strictEqual(queue.length, 10_000)
      yield* run("GET /queues/children (page)", "/queues/children")
      const delayed = yield* run("GET /api/delayed", "/api/delayed")
      assert.strictEqual(delayed.times, 500)
      yield* run("GET /delayed (page)", "/delayed")
      yield* run("GET /api/recurring", "/api/recurring")
      yield* run("GET /actions (page)", "/actions")
      yield* run("GET /api/status (the CLI's status: every worker)", "/api/status")
      report("Dashboard timings, 100 000 failed / 10 000-child fan-out / 1 000 workers (median and max of 5, through HTTP)", timings)

      // the bulk actions, once each: one pass over the list, 2 round trips per 1 000 records
      const csrf = (yield* time("session", "/api/session", { runs: 1 })).json.csrfToken
      const retried = yield* time("POST /api/failed/retry-all {exception: Error} (25 000 of 100 000)", "/api/failed/retry-all", { runs: 1, method: "POST", body: { exception: "Error" }, csrf })
      assert.deepStrictEqual(retried.json, { matched: 25_000, done: 25_000, skipped: 0, notRetryable: 0 })
      const removed = yield* time("POST /api/failed/remove-all {action: charge} (75 000)", "/api/failed/remove-all", { runs: 1, method: "POST", body: { action: "charge" }, csrf })
      assert.strictEqual(removed.json.done, 75_000)
      assert.strictEqual(yield* ops.failedCount, 0)
      report("Bulk actions (once each)", [retried.timing, removed.timing])
    }).pipe(Effect.provide(serve(counted(real.layer(), counter), { dashboard: { throughput: { every: "1 hour" } } }))), { timeout: 300_000 })
})
