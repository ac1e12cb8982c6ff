/**
 * The runtime's core in one layer: the action registry, the queue and the Actions facade, on whichever Redis
 * layer is provided (live or in-memory). Workers and a scheduler are layers of their own on top of it, so a
 * producer-only process simply leaves them out.
 *
 * @example
 * const App = Layer.mergeAll(Worker.layer({ queues: ["default"] }), Scheduler.layer()).pipe(
 *   Layer.provideMerge(Runtime.layer({ actions: [greet] })),
 *   Layer.provideMerge(RedisMemory.layer())
 * )
 *
 * @since 0.1.0
 */
import { Cause, Exit, Layer, Runtime as EffectRuntime } from "effect"
import type * as Action from "../domain/Action.ts"
import type { DuplicateAction, RedisError } from "../domain/Errors.ts"
import * as ActionRegistry from "./ActionRegistry.ts"
import * as Actions from "./Actions.ts"
import * as Queue from "./Queue.ts"
import type { Redis } from "./Redis.ts"

/**
 * What to run.
 *
 * @category models
 */
export interface Options<Defs extends ReadonlyArray<Action.Any>> {
  readonly actions: Defs
  readonly actionsOptions?: Actions.Options
}

/** Services the runtime layer provides. @category models */
export type Services = ActionRegistry.ActionRegistry | Queue.ResqueQueue | Actions.Actions

/**
 * The runtime layer.
 *
 * @category layers
 */
export const layer = <const Defs extends ReadonlyArray<Action.Any>>(
  options: Options<Defs>
): Layer.Layer<Services, DuplicateAction | RedisError, Redis | Action.Services<Defs[number]>> =>
  Actions.layer(options.actionsOptions).pipe(
    Layer.provideMerge(Layer.mergeAll(ActionRegistry.layer(options.actions), Queue.layer))
  )

/**
 * A teardown for `NodeRuntime.runMain` that treats a shutdown requested by SIGINT/SIGTERM as a clean stop: an
 * exit caused by interruption alone is code 0 (Effect's default is 130), so process supervisors do not report
 * a drained, unregistered worker as crashed. Anything else is Effect's default.
 *
 * @example
 * Layer.launch(App).pipe(NodeRuntime.runMain({ teardown: Runtime.teardown }))
 *
 * @category running
 */
export const teardown: EffectRuntime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : EffectRuntime.defaultTeardown(exit, onExit)
