/**
 * Compile-time checks of the fan-out API: `npx tsc -p .` fails if a `@ts-expect-error` line stops being an
 * error (wrong child inputs are rejected, optional arguments are options objects, results and errors are
 * typed by the action). The calls are built, never run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import * as FanOut from "../src/domain/FanOut.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Odd, shout, square } from "./support/fanOutApp.ts"

/** An action that declares its error Schema: its fan-out errors carry the error decoded, typed `Odd`. */
const picky = Action.make({
  name: "picky",
  description: "Fails with a typed error",
  inputs: Schema.Struct({ n: Schema.Finite }),
  output: Schema.Struct({ kept: Schema.Finite }),
  error: Odd,
  run: ({ n }) => (n % 2 === 0 ? Effect.succeed({ kept: n }) : Effect.fail(new Odd({ message: `odd ${n}` }))),
  task: { queue: "fan" }
})

const typed = Effect.gen(function*() {
  const actions = yield* Actions
  // single action: inputs typed by the Schema's encoded side (n: number | string, failOdd optional)
  yield* actions.fanOut(square, [{ n: 1 }, { n: "2", failOdd: true }])
  yield* actions.fanOut(square, [{ n: 1 }], { queue: "q", batchSize: 10 })
  // @ts-expect-error n must be a number or a numeric string
  yield* actions.fanOut(square, [{ n: true }])
  // @ts-expect-error missing n
  yield* actions.fanOut(square, [{}])
  // @ts-expect-error inputs of another action
  yield* actions.fanOut(shout, [{ n: 1 }])
  // @ts-expect-error the queue is an option, not a positional argument
  yield* actions.fanOut(square, [{ n: 1 }], "q")
  // by name: checked at run time only
  yield* actions.fanOut("square", [{ anything: 1 }], { queue: "q" })
  // unique children: the key function sees the child's encoded inputs, typed
  yield* actions.fanOut(shout, [{ word: "a" }], { unique: { key: ({ word }) => word.toLowerCase(), mode: "until-started" } })
  yield* actions.fanOut(shout, [{ word: "a" }], { unique: false })
  // @ts-expect-error shout's inputs have no n
  yield* actions.fanOut(shout, [{ word: "a" }], { unique: { key: ({ n }) => String(n) } })
  // @ts-expect-error not a mode
  yield* actions.fanOut(shout, [{ word: "a" }], { unique: { mode: "forever" } })
  const withDuplicates = yield* actions.fanOutStatus(yield* actions.fanOut(shout, [{ word: "a" }]))
  const holder: string | undefined = withDuplicates.duplicates[0]?.jobId
  const duplicateInputs: { readonly word: string } | undefined = withDuplicates.duplicates[0]?.inputs
  const duplicateCount: number = withDuplicates.duplicate
  void [holder, duplicateInputs, duplicateCount]

  // multi action: each child checked against its own action
  yield* actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: shout, inputs: { word: "a" }, queue: "q" }])
  // @ts-expect-error shout takes { word: string }
  yield* actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: shout, inputs: { n: 1 } }])
  yield* actions.fanOut([FanOut.job(square, { n: 1 }), FanOut.job(shout, { word: "a" }, { queue: "q" })])
  // @ts-expect-error job() checks inputs too
  FanOut.job(shout, { word: 1 })
  // @ts-expect-error job() takes its queue in an options object
  FanOut.job(shout, { word: "a" }, "q")

  // results typed by the fan-out's result: its action's output (and encoded inputs)
  const shouted = yield* actions.fanOut(shout, [{ word: "a" }])
  const status: FanOut.FanOutStatus<{ readonly loud: string }, { readonly word: string }> = yield* actions.fanOutStatus(shouted)
  const louds: ReadonlyArray<string> = status.results.map((r) => r.result.loud)
  const words: ReadonlyArray<string> = status.results.map((r) => r.inputs.word)
  const squared = yield* actions.fanOut(square, [{ n: 1 }])
  const squares: ReadonlyArray<number> = (yield* actions.awaitFanOut(squared, { timeout: "1 second" })).results.map((r) => r.result)
  // @ts-expect-error square's results are numbers
  const wrong: ReadonlyArray<string> = (yield* actions.fanOutStatus(squared)).results.map((r) => r.result)
  // @ts-expect-error awaitFanOut is typed by the result as well
  const wrongAwait: ReadonlyArray<string> = (yield* actions.awaitFanOut(squared)).results.map((r) => r.result)

  // errors typed by the action: `failure` by its `error` Schema
  const pickyResult = yield* actions.fanOut(picky, [{ n: 1 }, { n: 2 }])
  const pickyStatus = yield* actions.fanOutStatus(pickyResult)
  const kept: ReadonlyArray<number> = pickyStatus.results.map((r) => r.result.kept)
  const failure: Odd | undefined = pickyStatus.errors[0]?.failure
  const failureMessage: string | undefined = pickyStatus.errors[0]?.failure?.message
  const tags: ReadonlyArray<string> = pickyStatus.errors.map((e) => e.exception)
  // @ts-expect-error a failure is an Odd, not a string
  const notText: string | undefined = pickyStatus.errors[0]?.failure
  const awaited = yield* actions.awaitFanOut(pickyResult, { timeout: "1 second", maxPollInterval: "50 millis" })
  const awaitedFailure: Odd | undefined = awaited.errors[0]?.failure
  // @ts-expect-error awaited failures are typed too
  const awaitedWrong: number | undefined = awaited.errors[0]?.failure
  // @ts-expect-error the inputs of an error are the action's encoded inputs
  const badInputs: string = pickyStatus.errors[0]!.inputs.n

  // by id: typed by `options.action`, untyped without it
  const byId: FanOut.FanOutStatus<{ readonly loud: string }, { readonly word: string }> = yield* actions.fanOutStatus("id", { action: shout })
  const awaitedById: ReadonlyArray<number> = (yield* actions.awaitFanOut("id", { timeout: "1 second", action: square })).results.map((r) =>
    r.result
  )
  const pickyById: Odd | undefined = (yield* actions.fanOutStatus("id", { action: picky })).errors[0]?.failure
  // @ts-expect-error the action is given in an options object
  yield* actions.fanOutStatus("id", shout)
  // @ts-expect-error awaitFanOut takes the action in its options too
  yield* actions.awaitFanOut("id", square, { timeout: "1 second" })
  // @ts-expect-error typed by options.action: square's results are numbers
  const wrongById: ReadonlyArray<string> = (yield* actions.fanOutStatus("id", { action: square })).results.map((r) => r.result)
  const untyped: FanOut.FanOutStatus = yield* actions.fanOutStatus("id")
  const untypedAwait: FanOut.FanOutStatus = yield* actions.awaitFanOut("id", { timeout: "1 second" })
  // @ts-expect-error without an action the results are unknown
  const untypedResults: ReadonlyArray<number> = (yield* actions.fanOutStatus("id")).results.map((r) => r.result)
  // a multi-action fan-out's result is untyped: its status is too
  const multi = yield* actions.fanOut([FanOut.job(square, { n: 1 }), FanOut.job(shout, { word: "a" })])
  const multiStatus: FanOut.FanOutStatus = yield* actions.fanOutStatus(multi)
  return [
    status,
    louds,
    words,
    squares,
    wrong,
    wrongAwait,
    kept,
    failure,
    failureMessage,
    tags,
    notText,
    awaitedFailure,
    awaitedWrong,
    badInputs,
    byId,
    awaitedById,
    pickyById,
    wrongById,
    untyped,
    untypedAwait,
    untypedResults,
    multiStatus
  ] as const
})

describe("fan-out types", () => {
  it("the typed program builds (the checks are done by tsc)", () => {
    assert.isTrue(Effect.isEffect(typed))
  })
})
