/**
 * The actions the observability tests run on one queue: `echo` returns its number, `flaky` fails its first
 * attempt and succeeds on its retry (the attempt counter is `tries`, reset by each test).
 */
import { Effect, Ref, Schedule, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"

export const observedActions = (queue: string) => {
  const tries = Ref.makeUnsafe(0)
  const echo = Action.make({
    name: "echo",
    description: "Returns its number",
    inputs: Schema.Struct({ n: Schema.Finite }),
    run: ({ n }) => Effect.succeed(n),
    task: { queue }
  })
  const flaky = Action.make({
    name: "flaky",
    description: "Fails its first attempt",
    inputs: Schema.Struct({}),
    run: () => Effect.flatMap(Ref.getAndUpdate(tries, (n) => n + 1), (n) => (n === 0 ? Effect.fail(new Error("first attempt")) : Effect.succeed("ok"))),
    task: { queue },
    retry: { attempts: 2, schedule: Schedule.spaced(0) }
  })
  return { tries, echo, flaky }
}
