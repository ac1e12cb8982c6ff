/**
 * Counting round trips in tests: a Redis layer that counts every call of the seam (command, MULTI, pipeline,
 * script) made through it, for assertions on what an operation costs.
 */
import { Effect, Layer } from "effect"
import type { Arg } from "../../src/internal/Connection.ts"
import { Redis } from "../../src/layers/Redis.ts"

/** How many round trips went through a counted layer. */
export interface Counter {
  trips: number
}

/** A Redis layer that counts the round trips made through it in `counter`. */
export const counted = <E>(redis: Layer.Layer<Redis, E>, counter: Counter): Layer.Layer<Redis, E> =>
  Layer.effect(
    Redis,
    Effect.map(Redis, (inner) => {
      const trip = <A, E2>(effect: () => Effect.Effect<A, E2>) =>
        Effect.suspend(() => {
          counter.trips++
          return effect()
        })
      return Redis.of({
        ...inner,
        send: <A>(command: string, ...args: ReadonlyArray<Arg>) => trip(() => inner.send<A>(command, ...args)),
        multi: (commands) => trip(() => inner.multi(commands)),
        pipeline: (commands) => trip(() => inner.pipeline(commands)),
        eval: (script, input) => trip(() => inner.eval(script, input))
      })
    })
  ).pipe(Layer.provide(redis))
