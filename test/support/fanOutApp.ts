/**
 * Fan-out test fixtures: child actions (succeeding, failing, healable, gated), an `onComplete` action, the
 * runtime on a backend, and a bounded wait on Redis state (tests poll state with a deadline, never sleep).
 */
import { Effect, Layer, Schedule, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import * as FanOut from "../../src/domain/FanOut.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import * as Resque from "../../src/layers/Resque.ts"

export class Odd extends Schema.TaggedError<Odd>()("Odd", { message: Schema.String }) {}

/** Squares `n`; fails with "odd n" when `failOdd` is set and `n` is odd. */
export const square = Action.make({
  name: "square",
  description: "Squares a number",
  inputs: Schema.Struct({
    n: Schema.Union([Schema.Finite, Schema.FiniteFromString]),
    failOdd: Schema.Boolean.pipe(Schema.withDecodingDefault(Effect.succeed(false)))
  }),
  run: ({ n, failOdd }) => (failOdd && n % 2 !== 0 ? Effect.fail(new Odd({ message: `odd ${n}` })) : Effect.succeed(n * n)),
  task: { queue: "fan" }
})

/** Upper-cases a word; its result is a Date-free object so typed results can be checked. */
export const shout = Action.make({
  name: "shout",
  description: "Upper-cases a word",
  inputs: Schema.Struct({ word: Schema.String }),
  output: Schema.Struct({ loud: Schema.String }),
  run: ({ word }) => Effect.succeed({ loud: word.toUpperCase() }),
  task: { queue: "words" }
})

/** Tokens whose `heal` child succeeds; others fail. Tests add a token to "fix" the cause before a retry. */
export const healed = new Set<string>()

export const heal = Action.make({
  name: "heal",
  description: "Fails until its token is healed",
  inputs: Schema.Struct({ token: Schema.String }),
  run: ({ token }) => (healed.has(token) ? Effect.succeed(`ok ${token}`) : Effect.fail(new Odd({ message: `sick ${token}` }))),
  task: { queue: "fan" }
})

/** Fails its first attempt, then succeeds on the automatic retry. */
export const retried = Action.make({
  name: "retried",
  description: "Fails once, then succeeds",
  inputs: Schema.Struct({ token: Schema.String }),
  run: ({ token }) =>
    Effect.suspend(() => {
      if (healed.has(`retried:${token}`)) return Effect.succeed("second time lucky")
      healed.add(`retried:${token}`)
      return Effect.fail(new Odd({ message: "first attempt" }))
    }),
  task: { queue: "fan" },
  retry: { attempts: 2, schedule: Schedule.spaced("1 millis") }
})

/** A barrier: `gate` children wait until `size` of them are running, then all finish together. */
export const barrier = { size: 2, arrived: 0, release: (): void => {}, opened: Promise.resolve() }
export const resetBarrier = (size: number): void => {
  barrier.size = size
  barrier.arrived = 0
  barrier.opened = new Promise<void>((resolve) => {
    barrier.release = resolve
  })
}

export const gate = Action.make({
  name: "gate",
  description: "Waits for the other gated children, then finishes with them",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) =>
    Effect.promise(() => {
      barrier.arrived++
      if (barrier.arrived >= barrier.size) barrier.release()
      return barrier.opened
    }).pipe(Effect.as(n)),
  timeout: "10 seconds",
  task: { queue: "gated" }
})

/** The onComplete action: receives the fan-out id and the counts. */
export const finished = Action.make({
  name: "finished",
  description: "Runs once a fan-out is done",
  inputs: FanOut.Completion,
  run: (completion) => Effect.succeed(completion),
  task: { queue: "done" }
})

/** A plain action whose inputs are not an object: cannot be a fan-out child. */
export const bare = Action.make({
  name: "bare",
  description: "Takes a bare string",
  inputs: Schema.String,
  run: (s) => Effect.succeed(s),
  task: { queue: "fan" }
})

export const fanOutActions = [square, shout, heal, retried, gate, finished, bare] as const

/** The Resque queue of the fan-out actions on a Redis layer. */
export const app = (redis: Layer.Layer<Redis.Redis, unknown>) =>
  Resque.layer({ actions: fanOutActions }).pipe(Layer.provideMerge(redis))

/** Polls `check` until it returns a value, at most `deadlineMs` (a bounded wait on real state). */
export const eventually = <A, E, R>(check: Effect.Effect<A | undefined, E, R>, deadlineMs = 10_000) =>
  Effect.gen(function*() {
    const start = Date.now()
    while (Date.now() - start < deadlineMs) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.sleep(20)
    }
    return yield* Effect.die(new Error(`condition not met within ${deadlineMs} ms`))
  })
