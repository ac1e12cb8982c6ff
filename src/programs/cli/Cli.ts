/**
 * Turns an application's actions into its command-line interface. A project writes a tiny `bin` file and
 * gets `run`, `enqueue`, `fanout`, `worker` and the inspection commands for its own actions, each action
 * with flags derived from its input Schema and its own `--help`.
 *
 * @example
 * // bin/jobs.ts
 * import * as Cli from "effect-resque/cli"
 * import { resize, report } from "../src/actions.ts"
 * import { Database } from "../src/Database.ts"
 *
 * Cli.runMain({ name: "jobs", version: "1.0.0", actions: [resize, report], layers: Database.layer })
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Command from "effect/cli/Command"
import type * as Action from "../../domain/Action.ts"
import * as Resque from "../../layers/Resque.ts"
import * as Inspect from "./Inspect.ts"
import * as Jobs from "./Jobs.ts"
import * as Operate from "./Operate.ts"
import { type App, globalFlags } from "./Shared.ts"
import * as Web from "./Web.ts"

/**
 * What the CLI is made of. `layers` provides the services the actions' `run` effects need (required when
 * they need any).
 *
 * @category models
 */
export type Options<Defs extends ReadonlyArray<Action.Any>, E = never> =
  & {
    /** The program name shown in help (your `bin` name). */
    readonly name: string
    readonly version: string
    readonly description?: string
    readonly actions: Defs
    /** Largest payload accepted at enqueue, in bytes. Default 512 KiB. */
    readonly maxPayloadBytes?: number
  }
  & ([Resque.Requirements<Defs>] extends [never] ? { readonly layers?: Layer.Layer<never, E> }
    : { readonly layers: Layer.Layer<Resque.Requirements<Defs>, E> })

/**
 * The root command, for embedding in a larger CLI (`Command.withSubcommands`) or for tests (`Command.runWith`).
 *
 * @category constructors
 */
export const command = <const Defs extends ReadonlyArray<Action.Any>, E = never>(options: Options<Defs, E>) => {
  const services: Layer.Layer<never, unknown> | Layer.Layer<Resque.Requirements<Defs>, unknown> = options.layers ?? Layer.empty
  const app: App = {
    actions: options.actions,
    runtime: (redis) =>
      Resque.layer({ actions: options.actions, ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }) }).pipe(
        // the actions' services: `Resque.Requirements` computes their union, which `layers` provides
        Layer.provide(services as Layer.Layer<Resque.Requirements<Defs>, unknown>),
        Layer.provideMerge(redis)
      )
  }
  const width = Math.max(0, ...options.actions.map((a) => a.name.length))
  const description = options.description ?? "Background jobs on Redis (Resque protocol)"
  const inspect = { group: "Inspect and manage", commands: [...Inspect.commands(app), ...Operate.commands(app)] }
  const dashboard = { group: "Dashboard", commands: [Web.command(app)] }
  // without actions it is an operator's tool: nothing to run, enqueue or work on, only what Redis holds
  if (options.actions.length === 0) {
    return Command.make(options.name).pipe(
      Command.withDescription(description),
      Command.withSubcommands([inspect, dashboard]),
      Command.withGlobalFlags(globalFlags)
    )
  }
  return Command.make(options.name).pipe(
    Command.withDescription(
      [
        description,
        "",
        "ACTIONS (run, enqueue and fanout take one as subcommand; `<command> <action> --help` lists its flags)",
        ...options.actions.map((a) => `  ${a.name.padEnd(width + 2)}${a.description}`)
      ].join("\n")
    ),
    Command.withSubcommands([{ group: "Jobs", commands: Jobs.commands(app) }, inspect, dashboard]),
    Command.withGlobalFlags(globalFlags)
  )
}

/**
 * The CLI program: parses `process.argv` (through the `Stdio` service) and runs the command. Needs only the
 * Node platform services (`NodeServices.layer`); {@link runMain} provides them and handles Ctrl-C.
 *
 * @category constructors
 */
export const make = <const Defs extends ReadonlyArray<Action.Any>, E = never>(options: Options<Defs, E>) =>
  Command.run(command(options), { version: options.version })

/**
 * Runs the CLI as the process's main program: Ctrl-C (SIGINT) or SIGTERM interrupts it and runs every
 * finalizer (a worker finishes its running jobs within the grace period and unregisters), and a failure
 * sets a non-zero exit code.
 *
 * @category running
 */
export const runMain = <const Defs extends ReadonlyArray<Action.Any>, E = never>(options: Options<Defs, E>): void =>
  // a Ctrl-C/SIGTERM that stops a worker is a clean stop: exit 0, not Effect's 130 for an interrupted program
  make(options).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain({ teardown: Resque.teardown }))
