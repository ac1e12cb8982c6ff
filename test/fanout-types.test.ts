/**
 * Compile-time checks of the fan-out API: `npx tsc -p .` fails if a `@ts-expect-error` line stops being an
 * error (wrong child inputs are rejected, results are typed by the action). The calls are built, never run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as FanOut from "../src/domain/FanOut.ts"
import { Actions } from "../src/layers/Actions.ts"
import { job } from "../src/programs/fanOut.ts"
import { shout, square } from "./support/fanOutApp.ts"

const typed = Effect.gen(function*() {
  const actions = yield* Actions
  // single action: inputs typed by the Schema's encoded side (n: number | string, failOdd optional)
  yield* actions.fanOut(square, [{ n: 1 }, { n: "2", failOdd: true }])
  // @ts-expect-error n must be a number or a numeric string
  yield* actions.fanOut(square, [{ n: true }])
  // @ts-expect-error missing n
  yield* actions.fanOut(square, [{}])
  // @ts-expect-error inputs of another action
  yield* actions.fanOut(shout, [{ n: 1 }])
  // by name: checked at run time only
  yield* actions.fanOut("square", [{ anything: 1 }])

  // multi action: each child checked against its own action
  yield* actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: shout, inputs: { word: "a" }, queue: "q" }])
  // @ts-expect-error shout takes { word: string }
  yield* actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: shout, inputs: { n: 1 } }])
  yield* actions.fanOut([job(square, { n: 1 }), job(shout, { word: "a" }, "q")])
  // @ts-expect-error job() checks inputs too
  job(shout, { word: 1 })

  // results typed by the action given to fanOutStatus / awaitFanOut
  const status: FanOut.FanOutStatus<{ readonly loud: string }, { readonly word: string }> = yield* actions.fanOutStatus("id", shout)
  const squares: ReadonlyArray<number> = (yield* actions.awaitFanOut("id", square, { timeout: "1 second" })).results.map((r) => r.result)
  // @ts-expect-error square's results are numbers
  const wrong: ReadonlyArray<string> = (yield* actions.fanOutStatus("id", square)).results.map((r) => r.result)
  const untyped: FanOut.FanOutStatus = yield* actions.fanOutStatus("id")
  return [status, squares, wrong, untyped] as const
})

describe("fan-out types", () => {
  it("the typed program builds (the checks are done by tsc)", () => {
    assert.isTrue(Effect.isEffect(typed))
  })
})
