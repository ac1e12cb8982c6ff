/**
 * The demo's actions (also the actions of the example command line the CLI tests build): a plain computation,
 * a job with choices and defaults (every field described, so `--help` explains it), and a recurring heartbeat.
 */
import { Clock, Effect, Schema } from "effect"
import { Action } from "../src/index.ts"

/** A number given as JSON number or as text (CLI flags, query strings). */
const NumberInput = Schema.Union([Schema.Finite, Schema.FiniteFromString])

/**
 * Adds two numbers.
 *
 * @category actions
 */
export const add = Action.make({
  name: "add",
  description: "Adds two numbers",
  inputs: Schema.Struct({
    a: NumberInput.annotate({ description: "First number" }),
    b: NumberInput.pipe(Schema.withDecodingDefault(Effect.succeed(0))).annotate({ description: "Second number (default 0)" })
  }),
  run: ({ a, b }) => Effect.succeed(a + b),
  task: { queue: "math" }
})

const Format = Schema.Literals(["png", "jpeg", "webp"])

/**
 * Pretends to resize an image: computes the new size and a plausible byte count after a short pause.
 *
 * @category actions
 */
export const resize = Action.make({
  name: "resize",
  description: "Resizes an image to a width, keeping its aspect ratio",
  inputs: Schema.Struct({
    url: Schema.String.annotate({ description: "Address of the source image" }),
    width: NumberInput.pipe(
      Schema.check(Schema.isInt(), Schema.isGreaterThan(0)),
      Schema.withDecodingDefault(Effect.succeed(640))
    ).annotate({ description: "Target width in pixels (default 640)" }),
    format: Format.pipe(Schema.withDecodingDefault(Effect.succeed("webp" as const))).annotate({
      description: "Output format (default webp)"
    })
  }),
  run: ({ url, width, format }) =>
    Effect.gen(function*() {
      yield* Effect.sleep("20 millis")
      const height = Math.round((width * 3) / 4)
      const factor = format === "png" ? 3 : format === "jpeg" ? 1 : 0.7
      return { url, width, height, format, bytes: Math.round(width * height * factor / 10) }
    }),
  task: { queue: "images" }
})

/**
 * A recurring action: the scheduler's leader enqueues it every minute; it reports the time it ran.
 *
 * @category actions
 */
export const heartbeat = Action.make({
  name: "heartbeat",
  description: "Recurring: logs that the system is alive, once a minute",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.logInfo("heartbeat")
      return { at: new Date(now).toISOString() }
    }),
  task: { queue: "default", frequency: "1 minute" }
})

/**
 * The demo actions, as a registry would take them.
 *
 * @category actions
 */
export const demoActions = [add, resize, heartbeat] as const
