/**
 * Decoding the records an operator reads (`domain/Operations.ts`, on the wire records of `domain/Resque.ts`):
 * node-resque's own formats (failed records from its worker and its `forceCleanWorker`, working-on records
 * with `Date.toString` times), our worker's, and records no Resque writes (unreadable), which must never fail
 * a listing. Pure functions: no backend.
 */
import { assert, describe, it } from "@effect/vitest"
import * as T from "../src/domain/Operations.ts"
import * as R from "../src/domain/Resque.ts"

describe("operations: decoding records", () => {
  it("reads a failed record in node-resque's format, times in ms, metadata split from the inputs", () => {
    const failedAt = "Wed Nov 25 2026 00:45:41 GMT+0000 (Coordinated Universal Time)"
    const record = {
      worker: "host:123",
      queue: "math",
      payload: { class: "add", queue: "math", args: [{ a: 1, _job: { fanOut: "F", index: 4, attempt: 2 } }] },
      exception: "TypeError",
      error: "boom",
      backtrace: ["at x", "at y"],
      failed_at: failedAt
    }
    const raw = JSON.stringify(record)
    const job = T.failedJob(raw)
    assert.deepStrictEqual(job, {
      action: "add",
      queue: "math",
      inputs: { a: 1 },
      fanOut: "F",
      index: 4,
      attempt: 2,
      raw,
      worker: "host:123",
      exception: "TypeError",
      error: "boom",
      backtrace: ["at x", "at y"],
      failedAt: Date.parse(failedAt),
      payload: record.payload
    })
  })

  it("keeps an unreadable failed record listable and removable", () => {
    for (const raw of ["garbage", "[1,2]", JSON.stringify({ worker: 1, payload: {} })]) {
      const job = T.failedJob(raw)
      assert.strictEqual(job.action, null)
      assert.strictEqual(job.raw, raw)
      assert.include(job.corrupt ?? "", "unreadable failed record")
    }
    // a readable record whose payload is not a job (our worker stores unparsable payloads as strings)
    const job = T.failedJob(JSON.stringify({ worker: "w", queue: "q", payload: "not json", exception: "CorruptPayload", error: "e", backtrace: [], failed_at: "x" }))
    assert.strictEqual(job.action, null)
    assert.strictEqual(job.payload, "not json")
    assert.strictEqual(job.failedAt, null)
    assert.strictEqual(job.queue, "q")
  })

  it("reads working-on records with ISO and Date.toString times", () => {
    const payload = { class: "add", queue: "math", args: [{ a: 1 }] }
    const iso = JSON.stringify({ run_at: "2026-11-25T00:00:00.000Z", queue: "math", payload, worker: "w" })
    assert.strictEqual(T.workingOn(iso, "w")?.runAt, Date.parse("2026-11-25T00:00:00.000Z"))
    const text = JSON.stringify({ run_at: "Fri Dec 12 2014 14:01:16 GMT-0800 (PST)", queue: "math", payload, worker: "w" })
    const record = T.workingOn(text, "w")
    assert.strictEqual(record?.runAt, Date.parse("Fri Dec 12 2014 14:01:16 GMT-0800"))
    assert.deepStrictEqual(record?.job.inputs, { a: 1 })
    assert.isNull(T.workingOn(null, "w"))
    assert.isNull(T.workingOn("{}", "w"))
  })

  it("splits worker set members the way node-resque does", () => {
    assert.deepStrictEqual(R.workerMember("host:123.0:math,fast"), { name: "host:123.0", queues: "math,fast" })
    assert.deepStrictEqual(R.workerMember("w1:math"), { name: "w1", queues: "math" })
    assert.deepStrictEqual(R.workerMember("lonely"), { name: "lonely", queues: "" })
    assert.deepStrictEqual(R.workerMember("host:1:a:b"), { name: "host:1", queues: "a:b" })
    assert.deepStrictEqual(R.queueList("math,fast"), ["math", "fast"])
    assert.deepStrictEqual(R.queueList(""), [])
  })

  it("reads counters, seconds and overview replies", () => {
    assert.strictEqual(R.count("12"), 12)
    assert.strictEqual(R.count(3), 3)
    assert.strictEqual(R.count(null), 0)
    assert.strictEqual(R.count("x"), 0)
    assert.strictEqual(R.millis("1795567589"), 1_795_567_589_000)
    assert.isNull(R.millis("never"))
    assert.strictEqual(R.pingMillis(JSON.stringify({ time: 10, name: "w", queues: "q" })), 10_000)
    assert.isNull(R.pingMillis("nope"))
    const working = JSON.stringify({ run_at: "2026-11-25T00:00:00.000Z", queue: "q", payload: { class: "add", args: [{}] }, worker: "h:1" })
    assert.deepStrictEqual(T.overview(["leader-1", "5", "2", 2, "b", 3, 0, "a", 0, 1, 1, "h:1:a,b", working, "4", "1"]), {
      queues: { b: { length: 3, paused: false }, a: { length: 0, paused: true } },
      workers: [{ name: "h:1", queues: ["a", "b"], processed: 4, failed: 1, workingOn: T.workingOn(working, "h:1") }],
      stats: { processed: 5, failed: 2 },
      leader: "leader-1"
    })
    assert.deepStrictEqual(T.overview(["", "0", "0", 0, 0]), { queues: {}, workers: [], stats: { processed: 0, failed: 0 }, leader: null })
  })
})
