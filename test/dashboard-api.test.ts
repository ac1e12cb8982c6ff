/**
 * The dashboard's JSON API over HTTP (a real Node server on loopback, `fetch` as the client), on both
 * backends: every endpoint with the state it reports and the changes it makes, the Redis round trips each
 * costs whatever the size of the data, bad input answered with a clear 4xx (never a crash), and the safety
 * rules: CSRF on every change, read-only mode, token and basic auth, the host guard, and the refusal to serve
 * without auth on an address other machines can reach. On the real Redis, the CLI's `--json` output and the
 * API agree record for record.
 */
import { request as httpRequest } from "node:http"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer } from "effect"
import { Command } from "effect/cli"
import type { HttpServer } from "effect/http"
import { TestConsole } from "effect/testing"
import * as Job from "../src/domain/Job.ts"
import * as Enqueue from "../src/internal/Enqueue.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Cli from "../src/programs/cli/Cli.ts"
import type * as Dashboard from "../src/programs/dashboard/Dashboard.ts"
import { waitUntil } from "./support/app.ts"
import { backends, real, redisUrl, uniqueNamespace } from "./support/backends.ts"
import { baseUrl, charge, dashboardActions, heartbeat, resize, serve, slow } from "./support/dashboardApp.ts"
import { seedFailed, seedFanOut, seedWorkers } from "./support/dashboardSeed.ts"
import { counted, type Counter } from "./support/roundTrips.ts"

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  // the API's JSON, read by the tests field by field
  readonly json: any
}

/** One HTTP request to the dashboard under test. */
const request = (method: "GET" | "POST", path: string, options: { readonly body?: unknown; readonly raw?: string; readonly headers?: Record<string, string> } = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    return yield* Effect.promise(async (): Promise<Reply> => {
      const init: RequestInit = {
        method,
        redirect: "manual",
        headers: { ...(options.body !== undefined || options.raw !== undefined ? { "content-type": "application/json" } : {}), ...options.headers }
      }
      if (options.raw !== undefined) init.body = options.raw
      else if (options.body !== undefined) init.body = JSON.stringify(options.body)
      const response = await fetch(base + path, init)
      const text = await response.text()
      let json: unknown = undefined
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: response.status, headers: response.headers, text, json }
    })
  })

const get = (path: string, headers?: Record<string, string>) => request("GET", path, headers === undefined ? {} : { headers })

/** A POST as the pages send it: JSON with the CSRF token from `GET /api/session`. */
const post = (path: string, body: unknown = {}) =>
  Effect.gen(function*() {
    const session = yield* get("/api/session")
    return yield* request("POST", path, { body, headers: { "x-csrf-token": session.json.csrfToken } })
  })

const ok = (reply: Reply, what: string) => {
  assert.strictEqual(reply.status, 200, `${what}: ${reply.status} ${reply.text.slice(0, 300)}`)
  return reply.json
}


/** A GET with a `Host` header of our choosing (fetch sets its own). */
const withHost = (base: string, path: string, host: string) =>
  Effect.callback<{ readonly status: number; readonly body: string }>((resume) => {
    const url = new URL(path, base)
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
      let body = ""
      res.on("data", (chunk: Buffer) => (body += chunk.toString()))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
    })
    req.on("error", (error) => resume(Effect.die(error)))
    req.end()
  })

/** Follows the fan-out listing's cursor until `id` shows up (the test Redis is shared, so the keyspace is big). */
const findFanOut = (id: string) =>
  Effect.gen(function*() {
    let cursor: string | null = ""
    for (let page = 0; page < 200 && cursor !== null; page++) {
      const list = ok(yield* get(cursor === "" ? "/api/fan-outs" : `/api/fan-outs?cursor=${cursor}`), "fan-outs")
      const found = list.fanOuts.find((f: { fanOutId: string }) => f.fanOutId === id)
      if (found !== undefined) return found
      cursor = list.cursor
    }
    return assert.fail(`fan-out ${id} not listed`)
  })

/** Seldom sampling: the throughput fiber stays out of the round-trip counts. */
const quiet: Dashboard.Options = { throughput: { every: "1 hour" } }

for (const backend of backends) {
  const app = (options: Dashboard.Options = quiet) => serve(backend.layer(), { dashboard: options })
  const counter: Counter = { trips: 0 }

  describe(`dashboard API (${backend.name})`, () => {
    it.live("overview, status and session describe the queue; the OpenAPI document lists every endpoint", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.enqueue(resize, { url: "a.png" })
        yield* actions.enqueue(resize, { url: "b.png" }, { queue: "urgent" })
        yield* seedFailed(7)
        yield* seedWorkers(4, { busyEvery: 2 })
        const overview = ok(yield* get("/api/overview"), "overview")
        assert.deepStrictEqual(overview.queues, [{ name: "images", length: 1, paused: false }, { name: "urgent", length: 1, paused: false }])
        assert.strictEqual(overview.failedCount, 7)
        assert.deepStrictEqual(overview.workers, { total: 4, busy: 2, idle: 2 })
        assert.strictEqual(overview.leader, null)
        assert.strictEqual(overview.recentFailures.length, 5)
        assert.strictEqual(overview.recentFailures[0].position, 6, "newest first")
        assert.isAtLeast(overview.throughput.length, 0)

        const status = ok(yield* get("/api/status"), "status")
        assert.strictEqual(status.failedJobs, 7)
        assert.deepStrictEqual(status.queues, { images: { length: 1, paused: false }, urgent: { length: 1, paused: false } })
        assert.strictEqual(status.workers.length, 4)

        const session = ok(yield* get("/api/session"), "session")
        assert.strictEqual(session.readOnly, false)
        assert.strictEqual(session.auth, "none")
        assert.deepStrictEqual(session.actions, dashboardActions.map((a) => a.name).sort())
        assert.match(session.csrfToken, /^[A-Za-z0-9_-]{20,}$/)

        const openapi = ok(yield* get("/api/openapi.json"), "openapi")
        const paths = Object.keys(openapi.paths)
        for (
          const path of ["/api/overview", "/api/status", "/api/queues/{queue}", "/api/delayed/run", "/api/failed/retry-all", "/api/fan-outs/{id}/children", "/api/workers/reclaim-stale", "/api/recurring/{action}/stop", "/api/actions/{action}/enqueue"]
        ) assert.include(paths, path)
      }).pipe(Effect.provide(app())))

    it.live("queues: a page with inputs decoded by the action's Schema; remove one job; clear a queue", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const redis = yield* Redis
        yield* actions.enqueue(resize, { url: "a.png", width: "320" })
        yield* actions.enqueue(resize, { url: "b.png" })
        // another Resque client wrote a job our Schema refuses, and one that is not JSON
        yield* redis.multi(Enqueue.push(redis.keys, "images", [Job.encode("images", "resize", { url: 5 }), "not json"]))
        ok(yield* get("/api/queues"), "queues")
        const page = ok(yield* get("/api/queues/images?limit=10"), "queue page")
        assert.strictEqual(page.length, 4)
        const [first, second, invalid, corrupt] = page.jobs
        assert.deepStrictEqual(first.inputs, { url: "a.png", width: 320, format: "webp" }, "as written: normalized at enqueue")
        assert.deepStrictEqual(first.check, { valid: true, value: { url: "a.png", width: 320, format: "webp" } })
        assert.strictEqual(second.position, 1)
        assert.strictEqual(invalid.check.valid, false)
        assert.match(invalid.check.error, /Expected string\n  at \["url"\]/)
        assert.strictEqual(corrupt.action, null)
        assert.strictEqual(corrupt.check, null)

        const second2 = ok(yield* get("/api/queues/images?offset=1&limit=1"), "offset page")
        assert.deepStrictEqual(second2.jobs.map((j: { id: string }) => j.id), [second.id])

        const removed = ok(yield* post("/api/queues/images/remove", { id: invalid.id, position: invalid.position }), "remove")
        assert.strictEqual(removed.removed.action, "resize")
        assert.strictEqual((yield* post("/api/queues/images/remove", { id: invalid.id, position: invalid.position })).status, 404, "gone")
        // positions may have moved: the job is found again by its id
        ok(yield* post("/api/queues/images/remove", { id: corrupt.id, position: 3 }), "remove a job that moved")
        assert.strictEqual(yield* (yield* Operations).length("images"), 2)
        assert.deepStrictEqual(ok(yield* post("/api/queues/images/clear"), "clear"), { removed: 2 })
        assert.strictEqual(yield* (yield* Operations).length("images"), 0)
      }).pipe(Effect.provide(app())))

    it.live("delayed: a timeline by due time; run one now; remove one", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ops = yield* Operations
        const now = Date.now()
        yield* actions.enqueueAt(now + 60_000, resize, { url: "soon.png" })
        yield* actions.enqueueAt(now + 60_000, resize, { url: "soon2.png" })
        yield* actions.enqueueAt(now + 3_600_000, resize, { url: "later.png" })
        const page = ok(yield* get("/api/delayed"), "delayed")
        assert.strictEqual(page.times, 2)
        assert.deepStrictEqual(page.entries.map((e: { count: number }) => e.count), [2, 1])
        const [soon, later] = page.entries
        assert.isBelow(soon.at, later.at)
        const job = soon.jobs[1]
        assert.strictEqual(job.inputs.url, "soon2.png")

        const moved = ok(yield* post("/api/delayed/run", { at: soon.at, id: job.id, position: job.position }), "run now")
        assert.strictEqual(moved.moved.queue, "images")
        assert.deepStrictEqual((yield* ops.queued("images", 0, -1)).map((j) => j.inputs), [{ url: "soon2.png", width: 640, format: "webp" }])
        assert.strictEqual((yield* post("/api/delayed/run", { at: soon.at, id: job.id, position: job.position })).status, 404)

        const last = later.jobs[0]
        ok(yield* post("/api/delayed/remove", { at: later.at, id: last.id, position: last.position }), "remove delayed")
        const after = ok(yield* get("/api/delayed"), "delayed after")
        assert.strictEqual(after.times, 1, "the emptied second is unscheduled")
        assert.deepStrictEqual(yield* ops.scheduledAt(resize, { url: "later.png" }), [])
      }).pipe(Effect.provide(app())))

    it.live("failed: newest first, paged, filtered by action and error; retry and remove one; retry and remove all matching", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* seedFailed(40)
        const first = ok(yield* get("/api/failed?limit=10"), "failed")
        assert.strictEqual(first.total, 40)
        assert.deepStrictEqual(first.jobs.map((j: { position: number }) => j.position), [39, 38, 37, 36, 35, 34, 33, 32, 31, 30])
        assert.strictEqual(first.next, 10)
        const declined = first.jobs.find((j: { exception: string }) => j.exception === "PaymentDeclined")
        assert.deepStrictEqual(declined.data, { _tag: "PaymentDeclined", sku: declined.inputs.sku, reason: "card expired" }, "typed fields")
        assert.isAbove(declined.backtrace.length, 0)

        const oldest = ok(yield* get("/api/failed?order=oldest&limit=3"), "oldest")
        assert.deepStrictEqual(oldest.jobs.map((j: { position: number }) => j.position), [0, 1, 2])

        const flaky = ok(yield* get("/api/failed?action=flaky&limit=3"), "filtered")
        assert.deepStrictEqual(flaky.jobs.map((j: { position: number }) => j.position), [36, 32, 28])
        assert.isTrue(flaky.jobs.every((j: { action: string; exception: string }) => j.action === "flaky" && j.exception === "Error"))
        assert.strictEqual(flaky.next, 12, "the next page starts after the last record examined")
        const more = ok(yield* get(`/api/failed?action=flaky&limit=3&offset=${flaky.next}`), "filtered, next page")
        assert.deepStrictEqual(more.jobs.map((j: { position: number }) => j.position), [24, 20, 16])
        const none = ok(yield* get("/api/failed?action=charge&exception=Error"), "no match")
        assert.deepStrictEqual(none.jobs, [])
        assert.strictEqual(none.next, null)

        const retried = ok(yield* post("/api/failed/retry", { id: declined.id, position: declined.position }), "retry")
        assert.strictEqual(retried.retried.action, "charge")
        assert.strictEqual(yield* ops.failedCount, 39)
        assert.strictEqual(yield* ops.length("payments"), 1, "re-enqueued on its queue")
        assert.strictEqual((yield* post("/api/failed/retry", { id: declined.id, position: declined.position })).status, 404)
        const target = flaky.jobs[0]
        ok(yield* post("/api/failed/remove", { id: target.id, position: target.position }), "remove")
        assert.strictEqual(yield* ops.failedCount, 38)

        const bulk = ok(yield* post("/api/failed/retry-all", { action: "flaky" }), "retry all flaky")
        assert.deepStrictEqual(bulk, { matched: 9, done: 9, skipped: 0, notRetryable: 0 })
        assert.strictEqual(yield* ops.failedCount, 29)
        assert.strictEqual(yield* ops.length("payments"), 10)
        assert.deepStrictEqual(ok(yield* get("/api/failed?action=flaky"), "none left").jobs, [])
        const removedAll = ok(yield* post("/api/failed/remove-all", { exception: "PaymentDeclined" }), "remove all declined")
        assert.deepStrictEqual(removedAll, { matched: 29, done: 29, skipped: 0, notRetryable: 0 })
        assert.strictEqual(yield* ops.failedCount, 0)
      }).pipe(Effect.provide(app())))

    it.live("fan-outs: listed with counts; one's summary and onComplete; children paged by status with failed inputs and errors", () =>
      Effect.gen(function*() {
        const fan = yield* seedFanOut(300, { completed: 200, failed: 20, id: "fan-api" })
        const listed = yield* findFanOut(fan.fanOutId)
        assert.deepStrictEqual(
          { total: listed.total, completed: listed.completed, failed: listed.failed, pending: listed.pending, done: listed.done },
          { total: 300, completed: 200, failed: 20, pending: 80, done: false }
        )
        const summary = ok(yield* get("/api/fan-outs/fan-api"), "summary")
        assert.deepStrictEqual(summary.actionNames, ["slow"])
        assert.isAbove(summary.expiresInMs, 3_000_000)
        assert.strictEqual(summary.onComplete, null)

        const failedChildren = ok(yield* get("/api/fan-outs/fan-api/children?status=failed&limit=5"), "failed children")
        assert.strictEqual(failedChildren.matched, 20)
        assert.deepStrictEqual(failedChildren.children.map((c: { index: number }) => c.index), [200, 201, 202, 203, 204])
        assert.deepStrictEqual(failedChildren.children[0], {
          index: 200, status: "failed", action: "slow", inputs: { i: 200, ms: 1 }, exception: "Broke", error: "child 200 broke", data: { index: 200 }
        })
        const all = ok(yield* get("/api/fan-outs/fan-api/children?offset=198&limit=4"), "children")
        assert.deepStrictEqual(all.children.map((c: { status: string }) => c.status), ["completed", "completed", "failed", "failed"])
        assert.deepStrictEqual(all.children[0].result, { i: 198 })
        const pending = ok(yield* get("/api/fan-outs/fan-api/children?status=pending&limit=2"), "pending")
        assert.strictEqual(pending.matched, 80)
        assert.deepStrictEqual(pending.children.map((c: { index: number }) => c.index), [220, 221])
        assert.strictEqual(ok(yield* get("/api/fan-outs/fan-api/children?status=completed"), "completed").matched, 200)

        const actions = yield* Actions
        yield* actions.fanOut(slow, [{ i: 1, ms: 1 }], { id: "with-complete", onComplete: "summarize" })
        assert.deepStrictEqual(ok(yield* get("/api/fan-outs/with-complete"), "onComplete").onComplete, { action: "summarize", queue: "children", enqueued: false })
        assert.strictEqual((yield* get("/api/fan-outs/nope")).status, 404)
        assert.strictEqual((yield* get("/api/fan-outs/nope/children")).status, 404)

        // unique children: a duplicate is counted apart and listed with the id of the job that held its key
        yield* actions.fanOut(slow, [{ i: 7, ms: 1 }, { i: 7, ms: 1 }], { id: "with-duplicate", unique: {} })
        const deduplicated = ok(yield* get("/api/fan-outs/with-duplicate"), "summary with a duplicate")
        assert.deepStrictEqual([deduplicated.total, deduplicated.duplicate, deduplicated.pending, deduplicated.done], [2, 1, 1, false])
        const duplicates = ok(yield* get("/api/fan-outs/with-duplicate/children?status=duplicate"), "duplicate children")
        assert.deepStrictEqual(duplicates.children, [{ index: 1, status: "duplicate", action: "slow", inputs: { i: 7, ms: 1 }, duplicateOf: "with-duplicate:0" }])
        const page = yield* get("/fan-outs/with-duplicate?status=duplicate")
        assert.strictEqual(page.status, 200)
        assert.include(page.text, "with-duplicate:0")
        assert.match(page.text, /duplicate 1<\/a>/)
      }).pipe(Effect.provide(app())))

    it.live("workers: paged with counts, what each runs, stale pings; clean stuck jobs; reclaim stale workers", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* seedWorkers(30, { busyEvery: 3, staleEvery: 10 })
        const page = ok(yield* get("/api/workers?limit=5"), "workers")
        assert.deepStrictEqual({ total: page.total, busy: page.busy, idle: page.idle, stale: page.stale }, { total: 30, busy: 10, idle: 20, stale: 3 })
        assert.deepStrictEqual(page.workers.map((w: { name: string }) => w.name), ["host-0000.0", "host-0001.0", "host-0002.0", "host-0003.0", "host-0004.0"])
        const busy = page.workers[0]
        assert.strictEqual(busy.workingOn.job.action, "charge")
        assert.strictEqual(busy.stale, true)
        assert.strictEqual(busy.processed, 0)
        assert.strictEqual(page.workers[3].workingOn.job.inputs.sku, "W-3")
        const stale = ok(yield* get("/api/workers?state=stale"), "stale")
        assert.deepStrictEqual(stale.workers.map((w: { name: string }) => w.name), ["host-0000.0", "host-0010.0", "host-0020.0"])
        assert.strictEqual(ok(yield* get("/api/workers?state=busy&offset=8"), "busy page 2").workers.length, 2)
        assert.strictEqual(ok(yield* get("/api/workers?state=stale&staleAfterMs=600000"), "longer threshold").stale, 0)

        // busy workers' jobs started 5 s ago: none is older than a minute
        assert.deepStrictEqual(ok(yield* post("/api/workers/clean-stuck", { olderThanMs: 60_000 }), "clean stuck"), { cleaned: [] })
        const cleaned = ok(yield* post("/api/workers/clean-stuck", { olderThanMs: 1_000 }), "clean stuck 1 s")
        assert.strictEqual(cleaned.cleaned.length, 10)
        assert.strictEqual(yield* ops.failedCount, 10)
        const reclaimed = ok(yield* post("/api/workers/reclaim-stale", { staleAfterMs: 60_000 }), "reclaim stale")
        assert.deepStrictEqual(reclaimed.reclaimed.map((r: { worker: string }) => r.worker).sort(), ["host-0010.0", "host-0020.0"])
        assert.strictEqual(ok(yield* get("/api/workers"), "after").stale, 0)
      }).pipe(Effect.provide(app())))

    it.live("recurring: state, next and last run; stop and start", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const before = ok(yield* get("/api/recurring"), "recurring")
        assert.deepStrictEqual(before, [{ action: "heartbeat", queue: "ticks", frequencyMs: 1000, schedule: "every 1s", stopped: false, live: false, nextRunAt: null, queued: false, lastRun: null }])
        assert.deepStrictEqual(ok(yield* post("/api/recurring/heartbeat/start"), "start"), { action: "heartbeat", started: true })
        const queued = ok(yield* get("/api/recurring"), "queued")[0]
        assert.deepStrictEqual({ live: queued.live, queued: queued.queued }, { live: true, queued: true })
        const stopped = ok(yield* post("/api/recurring/heartbeat/stop"), "stop")
        assert.deepStrictEqual(stopped, { action: "heartbeat", queued: 1, delayed: 0, wasLive: true })
        assert.strictEqual(ok(yield* get("/api/recurring"), "stopped")[0].stopped, true)
        assert.strictEqual(yield* ops.length("ticks"), 0)
        assert.strictEqual((yield* post("/api/recurring/resize/stop")).status, 400, "not recurring")
        assert.strictEqual((yield* post("/api/recurring/nope/stop")).status, 404, "unknown")
        assert.deepStrictEqual(ok(yield* post("/api/recurring/heartbeat/start"), "restart"), { action: "heartbeat", started: true })
      }).pipe(Effect.provide(app())))

    it.live("actions: activity and forms from the input Schema; enqueue checks inputs with the Schema before writing", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const list = ok(yield* get("/api/actions"), "actions")
        const resizeView = list.find((a: { action: string }) => a.action === "resize")
        assert.deepStrictEqual(resizeView.fields.map((f: { name: string; kind: string; required: boolean }) => [f.name, f.kind, f.required]), [
          ["url", "string", true],
          ["width", "string", false],
          ["format", "choice", false],
          ["sharpen", "boolean", false],
          ["tags", "json", false]
        ])
        assert.strictEqual(resizeView.fields[0].description, "Address of the source image")
        assert.deepStrictEqual(resizeView.fields[2].choices.map((c: { value: string }) => c.value), ["png", "jpeg", "webp"])
        assert.deepStrictEqual(list.find((a: { action: string }) => a.action === "heartbeat").frequencyMs, 1000)

        const invalid = yield* post("/api/actions/resize/enqueue", { inputs: { url: "x.png", width: -5 } })
        assert.strictEqual(invalid.status, 400)
        assert.strictEqual(invalid.json._tag, "BadRequest")
        assert.match(invalid.json.message, /greater than 0/)
        assert.match(invalid.json.message, /\["width"\]/)
        assert.strictEqual(yield* ops.length("images"), 0, "nothing written")
        assert.strictEqual((yield* post("/api/actions/resize/enqueue", { inputs: {} })).status, 400, "a required field missing")

        const job = ok(yield* post("/api/actions/resize/enqueue", { inputs: { url: "x.png", width: "800" } }), "enqueue")
        assert.deepStrictEqual(job, { action: "resize", queue: "images", at: null, payload: { class: "resize", queue: "images", args: [{ url: "x.png", width: 800, format: "webp" }] } })
        const later = ok(yield* post("/api/actions/charge/enqueue", { inputs: { sku: "A1" }, queue: "vip", delayMs: 60_000 }), "enqueue later")
        assert.strictEqual(later.queue, "vip")
        assert.isAbove(later.at, Date.now())
        assert.strictEqual((yield* ops.timestamps).length, 1)
        assert.strictEqual((yield* post("/api/actions/nope/enqueue", { inputs: {} })).status, 404)
      }).pipe(Effect.provide(app())))

    it.live("bad requests get a clear 4xx, never a crash", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, Effect.Effect<Reply, never, HttpServer.HttpServer>, number, RegExp?]> = [
          ["limit 0", get("/api/failed?limit=0"), 400, /between 1 and 500/],
          ["limit not a number", get("/api/failed?limit=abc"), 400, /limit/],
          ["negative offset", get("/api/queues/q?offset=-1"), 400, /offset/],
          ["unknown order", get("/api/failed?order=sideways"), 400, /order/],
          ["unknown worker state", get("/api/workers?state=sleepy"), 400, /state/],
          ["unknown child status", get("/api/fan-outs/x/children?status=odd"), 400, /status/],
          ["cursor not a number", get("/api/fan-outs?cursor=abc"), 400, /cursor/],
          ["body not JSON", Effect.flatMap(get("/api/session"), (s) => request("POST", "/api/failed/retry", { raw: "{oops", headers: { "x-csrf-token": s.json.csrfToken } })), 400],
          ["id not an id", post("/api/failed/retry", { id: "zz", position: 0 }), 400, /id/],
          ["position missing", post("/api/failed/remove", { id: "0123456789abcdef" }), 400, /position/],
          ["job not there", post("/api/failed/retry", { id: "0123456789abcdef", position: 0 }), 404, /no longer/],
          ["delayed ref without time", post("/api/delayed/run", { id: "0123456789abcdef", position: 0 }), 400, /at/],
          ["threshold too small", post("/api/workers/reclaim-stale", { staleAfterMs: 5 }), 400, /1000/],
          ["delay negative", post("/api/actions/resize/enqueue", { inputs: { url: "x" }, delayMs: -1 }), 400],
          ["unknown endpoint", get("/api/nothing"), 404],
          ["unknown page", get("/no-such-page"), 404]
        ]
        for (const [what, reply, status, message] of cases) {
          const r = yield* reply
          assert.strictEqual(r.status, status, `${what}: ${r.text.slice(0, 200)}`)
          if (message !== undefined) assert.match(r.json?.message ?? r.text, message, what)
        }
        // the pages validate their query the same way
        assert.strictEqual((yield* get("/failed?limit=0")).status, 400)
        assert.strictEqual((yield* get("/fan-outs/nope")).status, 404)
        assert.strictEqual((yield* get("/")).status, 200, "still serving")
      }).pipe(Effect.provide(app())))

    it.live("every endpoint is a fixed number of Redis round trips, whatever the size of the data", () =>
      Effect.gen(function*() {
        yield* seedFailed(600)
        yield* seedWorkers(60, { busyEvery: 2, staleEvery: 5 })
        const fan = yield* seedFanOut(1200, { completed: 900, failed: 50, id: "fan-trips" })
        const actions = yield* Actions
        for (let i = 0; i < 30; i++) yield* actions.enqueueAt(Date.now() + 60_000 + i * 1000, resize, { url: `${i}.png` })
        yield* actions.run(heartbeat, {})
        const ops = yield* Operations
        yield* ops.startRecurrentAction(heartbeat)
        const failed = ok(yield* get("/api/failed?limit=1"), "failed").jobs[0]
        const delayed = ok(yield* get("/api/delayed?limit=1"), "delayed").entries[0]
        const queued = ok(yield* get("/api/queues/children?limit=1"), "queued").jobs[0]
        const expected: ReadonlyArray<readonly [string, Effect.Effect<Reply, never, HttpServer.HttpServer>, number]> = [
          ["GET /api/overview", get("/api/overview"), 2],
          ["GET / (page)", get("/"), 2],
          ["GET /api/status", get("/api/status"), 2],
          ["GET /api/session", get("/api/session"), 0],
          ["GET /api/queues", get("/api/queues"), 2],
          ["GET /api/queues/:queue", get("/api/queues/children?limit=100"), 1],
          ["GET /api/delayed", get("/api/delayed"), 2],
          ["GET /api/failed", get("/api/failed?limit=100"), 1],
          ["GET /api/failed?action", get("/api/failed?action=flaky&limit=500"), 2],
          ["GET /failed?exception (page)", get("/failed?exception=Error"), 2],
          ["GET /api/fan-outs/:id", get(`/api/fan-outs/${fan.fanOutId}`), 1],
          ["GET /api/fan-outs/:id/children", get(`/api/fan-outs/${fan.fanOutId}/children?limit=100`), 1],
          ["GET /api/fan-outs/:id/children?status=failed", get(`/api/fan-outs/${fan.fanOutId}/children?status=failed`), 1],
          ["GET /fan-outs/:id (page)", get(`/fan-outs/${fan.fanOutId}`), 2],
          ["GET /api/workers", get("/api/workers?limit=50"), 3],
          ["GET /api/recurring", get("/api/recurring"), 2],
          ["GET /api/actions", get("/api/actions"), 1],
          ["POST /api/failed/retry", Effect.flatMap(get("/api/session"), (s) => request("POST", "/api/failed/retry", { body: { id: failed.id, position: failed.position }, headers: { "x-csrf-token": s.json.csrfToken } })), 2],
          ["POST /api/delayed/run", Effect.flatMap(get("/api/session"), (s) => request("POST", "/api/delayed/run", { body: { at: delayed.at, id: delayed.jobs[0].id, position: delayed.jobs[0].position }, headers: { "x-csrf-token": s.json.csrfToken } })), 2],
          ["POST /api/queues/:queue/remove (a fan-out child)", Effect.flatMap(get("/api/session"), (s) => request("POST", "/api/queues/children/remove", { body: { id: queued.id, position: queued.position }, headers: { "x-csrf-token": s.json.csrfToken } })), 3],
          ["POST /api/actions/:action/enqueue", Effect.flatMap(get("/api/session"), (s) => request("POST", "/api/actions/resize/enqueue", { body: { inputs: { url: "z" } }, headers: { "x-csrf-token": s.json.csrfToken } })), 1]
        ]
        for (const [what, reply, trips] of expected) {
          counter.trips = 0
          const r = yield* reply
          assert.strictEqual(r.status, 200, `${what}: ${r.text.slice(0, 200)}`)
          assert.strictEqual(counter.trips, trips, what)
        }
        // the listing scans the keyspace (the test Redis is shared: other suites' keys are in it too)
        counter.trips = 0
        ok(yield* get("/api/fan-outs"), "fan-outs")
        assert.isAtLeast(counter.trips, 2)
        assert.isAtMost(counter.trips, 11, "at most 10 SCAN calls and 1 pipeline")
      }).pipe(Effect.provide(serve(counted(backend.layer(), counter), { dashboard: quiet }))))
  })

  describe(`dashboard safety (${backend.name})`, () => {
    it.live("a change needs the CSRF token and a same-site origin; GET never changes anything", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* seedFailed(2)
        const [job] = ok(yield* get("/api/failed"), "failed").jobs
        const ref = { id: job.id, position: job.position }
        const session = ok(yield* get("/api/session"), "session")
        const refused = yield* request("POST", "/api/failed/remove", { body: ref })
        assert.strictEqual(refused.status, 403)
        assert.deepStrictEqual(refused.json, { _tag: "Forbidden", message: "missing or wrong CSRF token (send x-csrf-token from GET /api/session)" })
        assert.strictEqual((yield* request("POST", "/api/failed/remove", { body: ref, headers: { "x-csrf-token": "wrong" } })).status, 403)
        assert.strictEqual((yield* request("POST", "/api/failed/remove", { body: ref, headers: { "x-csrf-token": session.csrfToken, origin: "https://evil.example" } })).status, 403)
        assert.strictEqual((yield* request("POST", "/api/failed/remove", { body: ref, headers: { "x-csrf-token": session.csrfToken, origin: "null" } })).status, 403, "opaque origin")
        assert.strictEqual((yield* request("POST", "/api/failed/remove", { body: ref, headers: { "x-csrf-token": session.csrfToken, "sec-fetch-site": "cross-site" } })).status, 403)
        assert.strictEqual((yield* request("GET", "/api/failed/remove")).status, 404, "no change by GET")
        assert.strictEqual(yield* ops.failedCount, 2)
        const base = yield* baseUrl
        ok(yield* request("POST", "/api/failed/remove", { body: ref, headers: { "x-csrf-token": session.csrfToken, origin: base } }), "same origin")
        assert.strictEqual(yield* ops.failedCount, 1)
        const page = yield* get("/")
        assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/)
        assert.strictEqual(page.headers.get("x-frame-options"), "DENY")
      }).pipe(Effect.provide(app())))

    it.live("read-only: everything shows, nothing changes", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* seedFailed(1)
        const session = ok(yield* get("/api/session"), "session")
        assert.strictEqual(session.readOnly, true)
        const [job] = ok(yield* get("/api/failed"), "failed").jobs
        for (const [path, body] of [["/api/failed/retry", { id: job.id, position: job.position }], ["/api/failed/remove-all", {}], ["/api/actions/resize/enqueue", { inputs: { url: "x" } }], ["/api/recurring/heartbeat/stop", {}]] as const) {
          const r = yield* request("POST", path, { body, headers: { "x-csrf-token": session.csrfToken } })
          assert.strictEqual(r.status, 403, path)
          assert.strictEqual(r.json.message, "the dashboard is read-only")
        }
        assert.strictEqual(yield* ops.failedCount, 1)
        const page = yield* get("/failed")
        assert.strictEqual(page.status, 200)
        assert.notInclude(page.text, "data-post=", "no buttons")
        assert.include(page.text, "read-only")
      }).pipe(Effect.provide(app({ ...quiet, readOnly: true }))))

    it.live("token auth: the API wants the bearer token, a page the login; the login sets a session cookie", () =>
      Effect.gen(function*() {
        const token = "s3cret-token-0123456789"
        assert.strictEqual((yield* get("/api/overview")).status, 401)
        assert.strictEqual((yield* get("/api/overview", { authorization: "Bearer wrong-token-0123456789" })).status, 401)
        ok(yield* get("/api/overview", { authorization: `Bearer ${token}` }), "bearer")
        // a bearer request needs no CSRF token: browsers never send one on their own
        ok(yield* request("POST", "/api/actions/resize/enqueue", { body: { inputs: { url: "x" } }, headers: { authorization: `Bearer ${token}` } }), "post with bearer")

        const page = yield* get("/failed?limit=5")
        assert.strictEqual(page.status, 303)
        assert.strictEqual(page.headers.get("location"), "/login?next=%2Ffailed%3Flimit%3D5")
        const login = yield* get("/login?next=/failed")
        assert.strictEqual(login.status, 200)
        assert.notInclude(login.text, "csrf-token", "no CSRF token for strangers")
        const base = yield* baseUrl
        const wrong = yield* Effect.promise(() => fetch(`${base}/login`, { method: "POST", redirect: "manual", body: new URLSearchParams({ token: "nope", next: "/failed" }) }))
        assert.strictEqual(wrong.status, 401)
        const right = yield* Effect.promise(() => fetch(`${base}/login`, { method: "POST", redirect: "manual", body: new URLSearchParams({ token, next: "/failed" }) }))
        assert.strictEqual(right.status, 303)
        assert.strictEqual(right.headers.get("location"), "/failed")
        const cookie = (right.headers.get("set-cookie") ?? "").split(";")[0]!
        assert.match(right.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/)
        assert.notInclude(cookie, token, "the cookie is not the token")
        const withCookie = yield* get("/failed", { cookie })
        assert.strictEqual(withCookie.status, 200)
        // a cookie is sent by the browser on its own: a change still needs the CSRF token
        assert.strictEqual((yield* request("POST", "/api/failed/remove-all", { body: {}, headers: { cookie } })).status, 403)
        const csrf = ok(yield* get("/api/session", { cookie }), "session").csrfToken
        ok(yield* request("POST", "/api/failed/remove-all", { body: {}, headers: { cookie, "x-csrf-token": csrf } }), "cookie + csrf")
        // ?token= on a page logs in and drops the token from the address
        const link = yield* get(`/workers?state=busy&token=${token}`)
        assert.strictEqual(link.status, 303)
        assert.strictEqual(link.headers.get("location"), "/workers?state=busy")
        assert.match(link.headers.get("set-cookie") ?? "", /effect-resque-dashboard=/)
        const offsite = yield* Effect.promise(() => fetch(`${base}/login`, { method: "POST", redirect: "manual", body: new URLSearchParams({ token, next: "//evil.example/x" }) }))
        assert.strictEqual(offsite.headers.get("location"), "/", "never redirected off site")
      }).pipe(Effect.provide(app({ ...quiet, auth: { token: "s3cret-token-0123456789" } }))))

    it.live("basic auth: browsers are asked for credentials; both parts must match", () =>
      Effect.gen(function*() {
        const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` })
        const anonymous = yield* get("/")
        assert.strictEqual(anonymous.status, 401)
        assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm=/)
        assert.strictEqual((yield* get("/api/overview", basic("ops", "wrong"))).status, 401)
        assert.strictEqual((yield* get("/api/overview", basic("dev", "hunter2hunter2"))).status, 401)
        assert.strictEqual((yield* get("/api/overview", { authorization: "Basic !!!" })).status, 401)
        ok(yield* get("/api/overview", basic("ops", "hunter2hunter2")), "right credentials")
        const csrf = ok(yield* get("/api/session", basic("ops", "hunter2hunter2")), "session").csrfToken
        assert.strictEqual((yield* request("POST", "/api/failed/remove-all", { body: {}, headers: basic("ops", "hunter2hunter2") })).status, 403, "csrf still needed")
        ok(yield* request("POST", "/api/failed/remove-all", { body: {}, headers: { ...basic("ops", "hunter2hunter2"), "x-csrf-token": csrf } }), "with csrf")
      }).pipe(Effect.provide(app({ ...quiet, auth: { basic: { username: "ops", password: "hunter2hunter2" } } }))))

    it.live("the host guard refuses a Host that is not this machine's (DNS rebinding)", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const port = new URL(base).port
        ok(yield* get("/api/overview"), "127.0.0.1")
        assert.strictEqual((yield* withHost(base, "/api/overview", `localhost:${port}`)).status, 200, "localhost")
        const rebound = yield* withHost(base, "/api/overview", `attacker.example:${port}`)
        assert.strictEqual(rebound.status, 403)
        assert.match(rebound.body, /not allowed/)
      }).pipe(Effect.provide(app({ ...quiet, allowedHosts: "loopback" }))))

    it.live("refuses to serve without auth on an address other machines can reach", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Effect.scoped(Layer.build(serve(backend.layer(), { host: "0.0.0.0", dashboard: quiet }))))
        assert.isTrue(Exit.isFailure(exit))
        assert.match(String(Exit.isFailure(exit) ? exit.cause : ""), /DashboardUnsafe|refusing to serve/)
        const authed = yield* Effect.exit(Effect.scoped(Layer.build(serve(backend.layer(), { host: "0.0.0.0", dashboard: { ...quiet, auth: { token: "a-long-enough-token-123" } } }))))
        assert.isTrue(Exit.isSuccess(authed))
      }))
  })
}

describe("the command line: `web`, and `--json` agreeing with the API (redis)", () => {
  const namespace = uniqueNamespace()
  const cli = (args: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      yield* Command.runWith(Cli.command({ name: "jobs", version: "1.0.0", actions: dashboardActions }), { version: "1.0.0" })([
        ...args,
        "--redis",
        redisUrl(),
        "--namespace",
        namespace,
        "-q"
      ])
      const lines = yield* TestConsole.logLines
      return JSON.parse(String(lines.at(-1)))
    }).pipe(Effect.provide(Layer.merge(NodeServices.layer, TestConsole.layer)))

  const run = (args: ReadonlyArray<string>) =>
    Command.runWith(Cli.command({ name: "jobs", version: "1.0.0", actions: dashboardActions }), { version: "1.0.0" })([...args, "--redis", redisUrl(), "--namespace", namespace, "-q"])

  it.live("`web` serves the dashboard of the application's actions on loopback until interrupted", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(run(["web", "--port", "0", "--read-only"]))
      const lines = yield* waitUntil("the dashboard's address", TestConsole.logLines, (all) => all.some((line) => String(line).startsWith("dashboard on ")))
      const line = String(lines.find((l) => String(l).startsWith("dashboard on ")))
      assert.match(line, /^dashboard on http:\/\/127\.0\.0\.1:\d+\/ \(read-only\)$/)
      const url = line.split(" ")[2]!
      const session = yield* Effect.promise(() => fetch(`${url}api/session`).then((r) => r.json() as Promise<{ readOnly: boolean; actions: ReadonlyArray<string> }>))
      assert.strictEqual(session.readOnly, true)
      assert.include(session.actions, "resize")
      // no auth on loopback: only this machine's host names
      const port = new URL(url).port
      assert.strictEqual((yield* withHost(url, "/api/session", `rebound.example:${port}`)).status, 403)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(Layer.merge(NodeServices.layer, TestConsole.layer))))

  it.live("`web` refuses an address other machines can reach without --token or --basic-auth", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.flip(run(["web", "--host", "0.0.0.0", "--port", "0"]))
      assert.match(String(refused.message), /refusing to listen on 0\.0\.0\.0 without authentication/)
      const short = yield* Effect.flip(run(["web", "--host", "0.0.0.0", "--token", "short"]))
      assert.match(String(short.message), /at least 16 characters/)
      const both = yield* Effect.flip(run(["web", "--token", "a-long-enough-token-123", "--basic-auth", "a:b"]))
      assert.match(String(both.message), /either --token or --basic-auth/)
    }).pipe(Effect.provide(Layer.merge(NodeServices.layer, TestConsole.layer))))

  it.live("status, failed, queue, recurring and workers: the same records", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      yield* seedFailed(6)
      yield* seedWorkers(3, { busyEvery: 2 })
      yield* actions.enqueue(charge, { sku: "Q1" })
      yield* actions.enqueue(charge, { sku: "Q2" })
      const strip = <A extends { readonly id?: unknown; readonly position?: unknown; readonly check?: unknown }>(job: A) => {
        const { id: _id, position: _position, check: _check, ...rest } = job
        return rest
      }
      assert.deepStrictEqual(ok(yield* get("/api/status"), "status"), yield* cli(["status", "--json"]))
      // both newest first, in pages: the same records at the same positions
      const failed = yield* cli(["failed", "--json", "--limit", "4"])
      const page = ok(yield* get("/api/failed?limit=4"), "failed")
      assert.strictEqual(page.total, failed.count)
      assert.deepStrictEqual(page.jobs.map(strip), failed.jobs.map(strip))
      assert.deepStrictEqual(page.jobs.map((j: { position: number }) => j.position), failed.jobs.map((j: { position: number }) => j.position))
      const oldest = yield* cli(["failed", "--json", "--limit", "4", "--offset", "1", "--oldest-first"])
      const oldestPage = ok(yield* get("/api/failed?order=oldest&limit=4&offset=1"), "failed")
      assert.deepStrictEqual(oldestPage.jobs.map(strip), oldest.jobs.map(strip))
      const queue = yield* cli(["queue", "payments", "--json"])
      const view = ok(yield* get("/api/queues/payments"), "queue")
      assert.deepStrictEqual({ queue: view.queue, length: view.length, jobs: view.jobs.map(strip) }, queue)
      const recurring = yield* cli(["recurring", "--json"])
      const details = ok(yield* get("/api/recurring"), "recurring")
      assert.deepStrictEqual(details.map((r: Record<string, unknown>) => ({ action: r["action"], queue: r["queue"], frequencyMs: r["frequencyMs"], schedule: r["schedule"], stopped: r["stopped"], live: r["live"] })), recurring)
      const workers = yield* cli(["workers", "--json"])
      const workerPage = ok(yield* get("/api/workers"), "workers")
      assert.deepStrictEqual(
        workerPage.workers.map((w: Record<string, unknown>) => ({ name: w["name"], queues: w["queues"], startedAt: w["startedAt"], lastPingAt: w["lastPingAt"], workingOn: w["workingOn"] })),
        workers
      )
    }).pipe(Effect.provide(serve(real.layer(namespace), { dashboard: quiet }))))
})
