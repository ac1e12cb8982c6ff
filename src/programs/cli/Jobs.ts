/**
 * The commands that do work: `run` (in-process), `enqueue`, `fanout` (one subcommand per action each, so
 * every action has its own flags and `--help`), and `worker` (`WorkerCommand.ts`).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type * as Action from "../../domain/Action.ts"
import { ActionRegistry } from "../../layers/ActionRegistry.ts"
import { Actions } from "../../layers/Actions.ts"
import * as InputFlags from "./Flags.ts"
import * as JobControl from "./JobControl.ts"
import { watch } from "./Progress.ts"
import * as WorkerCommand from "./WorkerCommand.ts"
import { anyRedis, type App, BadArgument, handler, parseDelay, printJson, printRaw, sharedRedis } from "./Shared.ts"

/**
 * Flag names an input field cannot take (built-in and global flags, and `enqueue`'s own): a field of that name
 * is `--input-NAME`, the same under `run` and `enqueue`.
 */
const globalNames = ["help", "version", "wizard", "completions", "log-level", "redis", "namespace", "quiet", "queue", "in", "at", "track"]

const describe = (action: Action.Any) => {
  const queue = action.task?.queue ?? "default"
  const every = action.task?.frequency === undefined && action.task?.cron === undefined ? "" : ", recurring"
  return `${action.description} (queue ${queue}${every})`
}

/** One subcommand per action, with the action's input flags (when `inputs` is set) and the command's own. */
const perAction = <const Own extends Command.Command.FlagConfig, E, R>(
  app: App,
  own: Own,
  options: { readonly inputs: boolean },
  body: (action: Action.Any, inputs: Record<string, unknown>, flags: Command.Command.Config.InferValue<Own>) => Effect.Effect<void, E, R>
) => {
  const reserved = new Set(globalNames)
  return app.actions.map((action) => {
    const derived = options.inputs ? InputFlags.fromAction(action, reserved) : InputFlags.none
    return Command.make(action.name, { inputs: derived.flags, own }, ({ inputs, own: flags }) =>
      handler(body(action, derived.toInputs(inputs), flags))).pipe(
        Command.withDescription(describe(action)),
        Command.withShortDescription(action.description)
      )
  })
}

/** `run <action> [flags]`: runs in this process and prints the result as JSON. */
const run = (app: App) =>
  Command.make("run").pipe(
    Command.withDescription("Run an action in this process and print its result as JSON on stdout"),
    Command.withSubcommands(perAction(app, {}, { inputs: true }, (action, inputs) =>
      Effect.gen(function*() {
        const redis = yield* anyRedis
        yield* Effect.gen(function*() {
          const entry = yield* (yield* ActionRegistry).get(action.name)
          // run by name: the job gets the same runtime (and Redis) as this command, like a worker's job
          const result = yield* (yield* Actions).run(action.name, inputs)
          yield* printRaw(yield* entry.encodeResult(result))
        }).pipe(Effect.provide(app.runtime(redis)))
      })
    ))
  )

const queueFlag = Flag.String("queue").pipe(Flag.withDescription("Queue to use instead of the action's own"), Flag.optional)

/** `enqueue <action> [flags] [--queue q] [--in 5m | --at ISO]`. */
const enqueue = (app: App) =>
  Command.make("enqueue").pipe(
    Command.withDescription("Enqueue an action as a background job (now, after a delay, or at a time)"),
    Command.withSubcommands(perAction(app, {
      queue: queueFlag,
      in: Flag.String("in").pipe(Flag.withMetavar("delay"), Flag.withDescription("Run after a delay: 30s, 5m, 2h, 1d"), Flag.optional),
      at: Flag.String("at").pipe(Flag.withMetavar("time"), Flag.withDescription("Run at a time (ISO 8601)"), Flag.optional),
      track: JobControl.trackFlag
    }, { inputs: true }, (action, inputs, flags) =>
      Effect.gen(function*() {
        const queue = Option.getOrUndefined(flags.queue)
        if (Option.isSome(flags.in) && Option.isSome(flags.at)) {
          return yield* new BadArgument({ detail: "give either --in or --at, not both" })
        }
        let at: number | undefined
        if (Option.isSome(flags.in)) {
          const delay = parseDelay(flags.in.value)
          if (delay === undefined) return yield* new BadArgument({ detail: `--in: cannot read "${flags.in.value}" as a delay (try 30s, 5m, 2h)` })
          at = (yield* Clock.currentTimeMillis) + delay
        } else if (Option.isSome(flags.at)) {
          at = Date.parse(flags.at.value)
          if (Number.isNaN(at)) return yield* new BadArgument({ detail: `--at: cannot read "${flags.at.value}" as a date (use ISO 8601)` })
        }
        const redis = yield* sharedRedis("enqueue")
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          const options = { ...(queue === undefined ? {} : { queue }), ...(flags.track ? { track: true } : {}) }
          const job = at === undefined
            ? yield* actions.enqueue(action.name, inputs, options)
            : yield* actions.enqueueAt(at, action.name, inputs, options)
          yield* Effect.logInfo(`enqueued ${job.action} on ${job.queue}`)
          yield* printJson({
            ...(job.tracked ? { id: job.id } : {}),
            action: job.action,
            queue: job.queue,
            ...(at === undefined ? {} : { at: new Date(at).toISOString() }),
            payload: JSON.parse(job.payload)
          })
        }).pipe(Effect.provide(app.runtime(redis)))
      })
    ))
  )

/** Reads a JSONL file: one JSON value per non-empty line. */
const readJsonLines = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new BadArgument({ detail: `--inputs: cannot read ${path}: ${error.message}` }))
    )
    const values: Array<unknown> = []
    const lines = text.split(/\r?\n/)
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim()
      if (line.length === 0) continue
      try {
        values.push(JSON.parse(line))
      } catch (error) {
        return yield* new BadArgument({ detail: `${path} line ${i + 1} is not JSON: ${error instanceof Error ? error.message : String(error)}` })
      }
    }
    return values
  })

/** `fanout <action> --inputs file.jsonl [--queue q] [--batch-size n] [--wait]`. */
const fanout = (app: App) =>
  Command.make("fanout").pipe(
    Command.withDescription("Enqueue one child job per line of a JSONL file, tracked as one fan-out"),
    Command.withSubcommands(perAction(app, {
      file: Flag.String("inputs").pipe(Flag.withMetavar("file.jsonl"), Flag.withDescription("One JSON object of inputs per line")),
      queue: queueFlag,
      batchSize: Flag.Int("batch-size").pipe(Flag.withDefault(100), Flag.withDescription("Children written per round trip (default 100)")),
      wait: Flag.Boolean("wait").pipe(Flag.withDefault(false), Flag.withDescription("Show progress until every child has finished, then the summary"))
    }, { inputs: false }, (action, _inputs, flags) =>
      Effect.gen(function*() {
        if (flags.batchSize < 1) return yield* new BadArgument({ detail: "--batch-size must be at least 1" })
        const lines = yield* readJsonLines(flags.file)
        const redis = yield* sharedRedis("fanout")
        yield* Effect.gen(function*() {
          const queue = Option.getOrUndefined(flags.queue)
          const jobs = lines.map((inputs) => (queue === undefined ? { action: action.name, inputs } : { action: action.name, inputs, queue }))
          const result = yield* (yield* Actions).fanOut(jobs, { batchSize: flags.batchSize })
          yield* Effect.logInfo(`fan-out ${result.fanOutId}: ${result.enqueued} of ${lines.length} children enqueued`)
          for (const error of result.errors) yield* Effect.logWarning(`line ${error.index + 1}: ${error.message}`)
          if (!flags.wait) return yield* printJson(result)
          const summary = yield* watch(result.fanOutId)
          yield* printJson({ ...summary, enqueueErrors: result.errors })
        }).pipe(Effect.provide(app.runtime(redis)))
      })
    ))
  )

/**
 * The work commands.
 *
 * @category commands
 */
export const commands = (app: App) => [run(app), enqueue(app), fanout(app), WorkerCommand.command(app)] as const
