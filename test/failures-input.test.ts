/**
 * Failure suite, bad input and entry-point security: every bad payload at every entry point gives a clear
 * typed error, lands in the failed list, and the worker keeps running.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { RedisError } from "../src/domain/Errors.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { core } from "./reliability/fixtures/actions.ts"
import { backends } from "./support/backends.ts"
import { failedJobs, pushPayloads, redisCall, takeEvents } from "./support/app.ts"

/** Raw payloads as they might sit in a queue, and the failure each must give. */
const badPayloads: ReadonlyArray<readonly [string, string, string]> = [
  ["{\"class\":\"nope\",\"queue\":\"bad\",\"args\":[{}]}", "UnknownAction", "unknown action nope"],
  ["{\"class\":\"constructor\",\"queue\":\"bad\",\"args\":[{}]}", "UnknownAction", "unknown action constructor"],
  ["{\"class\":\"__proto__\",\"queue\":\"bad\",\"args\":[{}]}", "UnknownAction", "unknown action __proto__"],
  ["not json at all", "CorruptPayload", "not JSON"],
  ["{\"queue\":\"bad\",\"args\":[{}]}", "CorruptPayload", "no \"class\""],
  ["{\"class\":\"add\",\"queue\":\"bad\",\"args\":[{\"a\":\"x\"}]}", "InvalidInputs", "invalid inputs for add"],
  ["{\"class\":\"add\",\"queue\":\"bad\",\"args\":{\"a\":1}}", "CorruptPayload", "is not an array"],
  ["{\"class\":\"bigint\",\"queue\":\"bad\",\"args\":[{}]}", "ResultNotEncodable", "result of bigint cannot be encoded"],
  ["{\"class\":\"circular\",\"queue\":\"bad\",\"args\":[{}]}", "ResultNotEncodable", "circular"],
  ["{\"class\":\"throws\",\"queue\":\"bad\",\"args\":[{}]}", "Error", "thrown on purpose"],
  ["{\"class\":\"dies\",\"queue\":\"bad\",\"args\":[{}]}", "Defect", "defect on purpose"],
  ["{\"class\":\"hangs\",\"queue\":\"bad\",\"args\":[{}]}", "JobTimedOut", "hangs timed out after 200 ms"]
]

for (const backend of backends) {
  describe(`failures: bad input (${backend.name})`, () => {
    it.live("each bad payload fails with a typed error and the worker goes on to the next job", () =>
      Effect.gen(function*() {
        const good = "{\"class\":\"add\",\"queue\":\"bad\",\"args\":[{\"a\":2,\"b\":3}]}"
        yield* pushPayloads("bad", [...badPayloads.map(([raw]) => raw), good])
        const events = yield* Effect.scoped(Effect.gen(function*() {
          // one slot: the jobs run one after the other, so the last event proves the worker survived all
          const worker = yield* Worker.make({ queues: ["bad"], concurrency: 1, handBackFor: 0 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEvents(sub, badPayloads.length + 1)
        }))
        badPayloads.forEach(([raw, exception, message], i) => {
          const outcome = events[i]?.outcome
          assert.strictEqual(outcome?._tag, "Failure", raw)
          if (outcome?._tag !== "Failure") return
          assert.strictEqual(outcome.exception, exception, raw)
          assert.include(outcome.error, message, raw)
          assert.isTrue(outcome.final, raw)
        })
        const last = events[badPayloads.length]?.outcome
        assert.deepStrictEqual(last?._tag === "Success" ? last.result : last, "5")
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed.map((f) => f.exception), badPayloads.map(([, exception]) => exception))
        assert.strictEqual(failed[3]?.payload, "not json at all")
        // nothing left "working"
        const working = yield* redisCall((client, keys) => client.keys(`${keys.namespace}:worker:*:bad`))
        assert.deepStrictEqual(working, [])
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("enqueue rejects bad input with typed errors and writes nothing", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const oversized = yield* Effect.flip(actions.enqueue("flaky", { id: "y".repeat(600), failures: 0 }))
        assert.strictEqual(oversized._tag, "PayloadTooLarge")
        assert.include(oversized.message, "over the limit of 256")
        const notAnObject = yield* Effect.flip(actions.enqueue("add", [1, 2]))
        assert.strictEqual(notAnObject._tag, "InvalidInputs")
        const unknown = yield* Effect.flip(actions.enqueue("toString", {}))
        assert.strictEqual(unknown._tag, "UnknownAction")
        const queues = yield* redisCall((client, keys) => client.smembers(keys.queues))
        assert.deepStrictEqual(queues, [])
        // a payload under the limit still goes through
        const ok = yield* actions.enqueue("flaky", { id: "y".repeat(100), failures: 0 })
        assert.isBelow(Buffer.byteLength(ok.payload), 256)
      }).pipe(Effect.provide(core(backend.layer(), 256))))
  })
}

describe("failures: error messages", () => {
  it("a RedisError's message never throws, whatever its cause", () => {
    const odd: unknown = Object.assign(Object.create(null), { code: "ERR" })
    assert.strictEqual(new RedisError({ op: "exec", cause: odd }).message, "Redis exec failed: {\"code\":\"ERR\"}")
    assert.strictEqual(new RedisError({ op: "get", cause: new Error("down") }).message, "Redis get failed: down")
  })
})
