/**
 * The Resque queue of an application: its actions (the registry), the `Actions` facade and the `Operations`
 * API, on whichever Redis layer is provided (live or in-memory). Workers and a scheduler are layers of their
 * own on top of it, so a producer-only process simply leaves them out.
 *
 * Its requirements are the services the actions' `run` effects need, except the runtime's own
 * (`Actions.Provided`): an action that enqueues, fans out or inspects the queue is given the runtime that
 * runs it.
 *
 * @example
 * const App = Layer.mergeAll(Worker.layer({ queues: ["default"] }), JobScheduler.layer()).pipe(
 *   Layer.provideMerge(Resque.layer({ actions: [greet] })),
 *   Layer.provideMerge(RedisMemory.layer())
 * )
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Action from "../domain/Action.ts"
import type { DuplicateAction, InvalidSchedule } from "../domain/Errors.ts"
import * as ActionRegistry from "./ActionRegistry.ts"
import * as Actions from "./Actions.ts"
import * as Operations from "./Operations.ts"
import type { Redis } from "./Redis.ts"

/**
 * What the queue runs.
 *
 * @category models
 */
export interface Options<Defs extends ReadonlyArray<Action.Any>> extends Actions.Options {
  readonly actions: Defs
}

/** Services the layer provides. @category models */
export type Services = ActionRegistry.ActionRegistry | Actions.Actions | Operations.Operations

/**
 * The services an application must provide for these actions: those their `run` effects need, but the
 * runtime's own.
 *
 * @category models
 */
export type Requirements<Defs extends ReadonlyArray<Action.Any>> = Exclude<Action.Services<Defs[number]>, Actions.Provided>

/**
 * The layer.
 *
 * @category layers
 */
export const layer = <const Defs extends ReadonlyArray<Action.Any>>(
  options: Options<Defs>
): Layer.Layer<Services, DuplicateAction | InvalidSchedule, Redis | Requirements<Defs>> =>
  Actions.layer(options).pipe(
    Layer.provideMerge(Operations.layer),
    Layer.provideMerge(ActionRegistry.layer<Requirements<Defs>>(options.actions))
  )

/**
 * A teardown for `NodeRuntime.runMain` that treats a shutdown requested by SIGINT/SIGTERM as a clean stop: an
 * exit caused by interruption alone is code 0 (Effect's default is 130), so process supervisors do not report
 * a drained, unregistered worker as crashed. Anything else is Effect's default.
 *
 * @example
 * Layer.launch(App).pipe(NodeRuntime.runMain({ teardown: Resque.teardown }))
 *
 * @category running
 */
export const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)
