/**
 * Typed job errors: an error keeps its tag and its data wherever it ends up. In the failed list it is the
 * record's `exception` (the tag), `error` (its text, never empty: the fields of an error that has no message)
 * and `error_data` (encoded by the action's `error` Schema, or its plain fields); in a fan-out, the child's
 * error decodes back into the error's class through the same Schema. And the one function that turns an
 * error into text (`JobError`) is what the failed list, fan-outs and the command line show.
 */
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import * as JobError from "../src/domain/JobError.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, failedJobs, redisCall, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

class PaymentDeclined extends Schema.TaggedError<PaymentDeclined>()("PaymentDeclined", {
  sku: Schema.String,
  reason: Schema.String
}) {}

class OutOfStock extends Data.TaggedError("OutOfStock")<{ readonly sku: string }> {}

const Checkout = Schema.Struct({ sku: Schema.String })

/** Declares its error Schema: the failure is kept encoded, and decodes back typed. */
const charge = Action.make({
  name: "charge",
  description: "Always declined",
  inputs: Checkout,
  error: PaymentDeclined,
  run: ({ sku }) => Effect.fail(new PaymentDeclined({ sku, reason: "card expired" })),
  task: { queue: "pay" }
})

/** Declares no error Schema, and fails with a fields-only error: still shown with its tag and fields. */
const reserve = Action.make({
  name: "reserve",
  description: "Always out of stock",
  inputs: Checkout,
  run: ({ sku }) => Effect.fail(new PaymentDeclined({ sku, reason: "no stock" })),
  task: { queue: "pay" }
})

/** Fails with a Data error that is not encodable by any Schema: its plain fields are kept. */
const pick = Action.make({
  name: "pick",
  description: "Fails with a Data error",
  inputs: Checkout,
  run: ({ sku }) => Effect.fail(new OutOfStock({ sku })),
  task: { queue: "pay" }
})

describe("JobError: one way to show an error", () => {
  it("the tag and the text, never empty: message when there is one, fields when there is not", () => {
    const declined = new PaymentDeclined({ sku: "A1", reason: "card expired" })
    assert.strictEqual(JobError.tag(declined), "PaymentDeclined")
    assert.strictEqual(declined.message, "")
    assert.strictEqual(JobError.message(declined), "{\"sku\":\"A1\",\"reason\":\"card expired\"}")
    assert.strictEqual(JobError.format(declined), "PaymentDeclined: {\"sku\":\"A1\",\"reason\":\"card expired\"}")
    assert.strictEqual(JobError.format(new Error("plain")), "Error: plain")
    assert.strictEqual(JobError.format(new OutOfStock({ sku: "B2" })), "OutOfStock: {\"sku\":\"B2\"}")
    class Bare extends Data.TaggedError("Bare") {}
    assert.strictEqual(JobError.format(new Bare()), "Bare")
    assert.strictEqual(JobError.message(""), "Error")
    assert.deepStrictEqual(JobError.plainData(declined), { _tag: "PaymentDeclined", sku: "A1", reason: "card expired" })
    assert.deepStrictEqual(JobError.plainData(new Error("boom")), { _tag: "Error", message: "boom" })
    const cyclic: Record<string, unknown> = { _tag: "Cyclic" }
    cyclic["self"] = cyclic
    assert.strictEqual(JobError.plainData(cyclic), undefined)
    assert.strictEqual(JobError.format(cyclic), "Cyclic")
  })
})

for (const backend of backends) {
  const app = () => coreWith([charge, reserve, pick], backend.layer())

  describe(`typed job errors (${backend.name})`, () => {
    it.live("the failed list keeps the tag, a text that is never empty, and the error as data", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["pay"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue(charge, { sku: "A1" })
          yield* actions.enqueue(reserve, { sku: "B2" })
          yield* actions.enqueue(pick, { sku: "C3" })
          return yield* takeEventsWithin(sub, 3)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag === "Failure" ? [e.outcome.exception, e.outcome.error] : []), [
          ["PaymentDeclined", "{\"sku\":\"A1\",\"reason\":\"card expired\"}"],
          ["PaymentDeclined", "{\"sku\":\"B2\",\"reason\":\"no stock\"}"],
          ["OutOfStock", "{\"sku\":\"C3\"}"]
        ])
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed.map((f) => [f.action, f.exception, f.error, f.data]), [
          ["charge", "PaymentDeclined", "{\"sku\":\"A1\",\"reason\":\"card expired\"}", { _tag: "PaymentDeclined", sku: "A1", reason: "card expired" }],
          ["reserve", "PaymentDeclined", "{\"sku\":\"B2\",\"reason\":\"no stock\"}", { _tag: "PaymentDeclined", sku: "B2", reason: "no stock" }],
          ["pick", "OutOfStock", "{\"sku\":\"C3\"}", { _tag: "OutOfStock", sku: "C3" }]
        ])
        // the stored record is Resque's, with the data beside the fields other clients read
        const [raw] = yield* redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.failed, 0, 0))
        const record = JSON.parse(raw ?? "{}")
        assert.deepStrictEqual(Object.keys(record), ["worker", "queue", "payload", "exception", "error", "error_data", "backtrace", "failed_at"])
      }).pipe(Effect.provide(app())))

    it.live("a fan-out's errors decode back into the action's error class; without a Schema they are plain data", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Worker.make({ queues: ["pay"], concurrency: 2 })
        const typed = yield* actions.fanOut(charge, [{ sku: "A1" }, { sku: "A2" }])
        const status = yield* actions.awaitFanOut(typed, { timeout: "10 seconds" })
        assert.strictEqual(status.failed, 2)
        const failures = status.errors.map((e) => e.failure)
        assert.isTrue(failures.every((f) => f instanceof PaymentDeclined))
        assert.deepStrictEqual(failures.map((f) => f?.sku), ["A1", "A2"])
        assert.deepStrictEqual(status.errors.map((e) => [e.exception, e.error]), [
          ["PaymentDeclined", "{\"sku\":\"A1\",\"reason\":\"card expired\"}"],
          ["PaymentDeclined", "{\"sku\":\"A2\",\"reason\":\"card expired\"}"]
        ])
        const plain = yield* actions.awaitFanOut(yield* actions.fanOut(pick, [{ sku: "C3" }]), { timeout: "10 seconds" })
        assert.deepStrictEqual(plain.errors.map((e): ReadonlyArray<unknown> => [e.exception, e.error, e.failure]), [["OutOfStock", "{\"sku\":\"C3\"}", { _tag: "OutOfStock", sku: "C3" }]])
      }).pipe(Effect.scoped, Effect.provide(app())))
  })
}
