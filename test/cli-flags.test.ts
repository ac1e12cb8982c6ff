/**
 * Flag derivation from an input Schema, beyond the demo actions the binary tests use: booleans (switches),
 * optional fields, JSON-valued fields, numeric literal choices, enums, kebab-case names, and a field whose
 * name collides with a command flag. Parsed in-process with `Command.runWith`; the values must then decode
 * with the action's own Schema (the command line of an application: test/cli.test.ts runs it as a process).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { type CliError, Command } from "effect/cli"
import { TestConsole } from "effect/testing"
import * as Action from "../src/domain/Action.ts"
import * as InputFlags from "../src/programs/cli/Flags.ts"

enum Color {
  Red = "red",
  Blue = "blue"
}

const job = Action.make({
  name: "job",
  description: "Every kind of field",
  inputs: Schema.Struct({
    count: Schema.Int.annotate({ description: "How many" }),
    dryRun: Schema.Boolean,
    verbose: Schema.optional(Schema.Boolean),
    tags: Schema.Array(Schema.String),
    queue: Schema.String,
    level: Schema.Literals([1, 2, 3]),
    color: Schema.Enum(Color).pipe(Schema.withDecodingDefault(Effect.succeed(Color.Red)))
  }),
  run: () => Effect.void
})

const parse = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const derived = InputFlags.fromAction(job, new Set(["queue"]))
    let parsed: Record<string, unknown> | undefined
    const command = Command.make("job", { inputs: derived.flags }, ({ inputs }) =>
      Effect.sync(() => {
        parsed = derived.toInputs(inputs)
      }))
    yield* Command.runWith(command, { version: "0", renderErrors: false })(args)
    return parsed
    // the help printed with a parse error goes to a test console, not into the test output
  }).pipe(Effect.provide(Layer.merge(NodeServices.layer, TestConsole.layer)))

/** Parse errors come wrapped in ShowHelp (the parser prints help with them). */
const messageOf = (error: CliError.CliError): string =>
  error._tag === "ShowHelp" ? error.errors.map((e) => e.message).join("\n") : error.message

const required = ["--count", "3", "--tags", "[\"a\",\"b\"]", "--input-queue", "q", "--level", "2"]

describe("flags derived from an input Schema", () => {
  it.live("types each flag from the field's encoded side; the result decodes with the Schema", () =>
    Effect.gen(function*() {
      const inputs = yield* parse([...required, "--dry-run", "--color", "blue"])
      assert.deepStrictEqual(inputs, { count: 3, dryRun: true, tags: ["a", "b"], queue: "q", level: 2, color: "blue" })
      assert.deepStrictEqual(Schema.decodeUnknownSync(job.inputs)(inputs), {
        count: 3, dryRun: true, tags: ["a", "b"], queue: "q", level: 2, color: Color.Blue
      })
    }))

  it.live("an absent switch is false, absent optional fields are left out (the Schema applies its defaults)", () =>
    Effect.gen(function*() {
      const inputs = yield* parse(required)
      assert.deepStrictEqual(inputs, { count: 3, dryRun: false, tags: ["a", "b"], queue: "q", level: 2 })
      assert.strictEqual(Schema.decodeUnknownSync(job.inputs)(inputs).color, Color.Red)
    }))

  it.live("required fields, choices and JSON values are checked by the parser", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(parse(["--count", "3"]))
      assert.include(messageOf(missing), "--tags")
      const choice = yield* Effect.flip(parse([...required.slice(0, 6), "--level", "7"]))
      assert.include(messageOf(choice), "--level")
      const json = yield* Effect.flip(parse(["--count", "3", "--tags", "[oops", "--input-queue", "q", "--level", "1"]))
      assert.include(messageOf(json), "not valid JSON")
    }))

  it.live("one flag per top-level field; names in kebab-case", () =>
    Effect.sync(() => {
      const derived = InputFlags.fromAction(job, new Set(["queue"]))
      assert.deepStrictEqual(Object.keys(derived.flags), ["count", "dryRun", "verbose", "tags", "queue", "level", "color"])
      assert.strictEqual(InputFlags.kebab("dryRun"), "dry-run")
      assert.strictEqual(InputFlags.kebab("max_width"), "max-width")
    }))
})
