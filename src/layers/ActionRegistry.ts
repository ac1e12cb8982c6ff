/**
 * The registry of actions a runtime knows: built once from a list of definitions (duplicate names and
 * schedules that do not parse are rejected), each compiled (`internal/ActionEntry.ts`) with the application's services it needs captured,
 * so the worker, the command line and direct calls run any action by name.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type * as Action from "../domain/Action.ts"
import { DuplicateAction, type InvalidSchedule, UnknownAction } from "../domain/Errors.ts"
import * as ActionEntry from "../internal/ActionEntry.ts"
import * as Recurrence from "../internal/Recurrence.ts"

/**
 * The action registry service.
 *
 * @category services
 */
export class ActionRegistry extends Context.Service<ActionRegistry, {
  readonly entries: ReadonlyMap<string, ActionEntry.Entry>
  readonly get: (name: string) => Effect.Effect<ActionEntry.Entry, UnknownAction>
}>()("effect-resque/ActionRegistry") {}

/**
 * Builds the registry, capturing the services `R` of the fiber that builds it: the application's services
 * the actions need (the runtime layer says which: those of the actions' `run`, but the runtime's own).
 *
 * @category constructors
 */
export const make = <R = never>(
  actions: ReadonlyArray<Action.Any>
): Effect.Effect<ActionRegistry["Service"], DuplicateAction | InvalidSchedule, R> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const entries = new Map<string, ActionEntry.Entry>()
    for (const action of actions) {
      if (entries.has(action.name)) return yield* new DuplicateAction({ action: action.name })
      const recurrence = Recurrence.fromTask(action.name, action.task)
      if (Result.isFailure(recurrence)) return yield* recurrence.failure
      entries.set(action.name, ActionEntry.make(action as Action.Any<R>, context, recurrence.success))
    }
    return ActionRegistry.of({
      entries,
      get: (name) => {
        const entry = entries.get(name)
        return entry === undefined ? Effect.fail(new UnknownAction({ action: name })) : Effect.succeed(entry)
      }
    })
  })

/**
 * The registry layer; `R` is what it captures (see {@link make}).
 *
 * @category layers
 */
export const layer = <R = never>(actions: ReadonlyArray<Action.Any>): Layer.Layer<ActionRegistry, DuplicateAction | InvalidSchedule, R> =>
  Layer.effect(ActionRegistry, make<R>(actions))
