/**
 * The registry of actions a runtime knows. Built once from a list of action definitions (duplicate names are
 * rejected), it captures the services the actions need, so the worker, the CLI and direct calls run any
 * action by name without knowing its types.
 *
 * @since 0.1.0
 */
import { Cause, Context, Duration, Effect, Layer, Result, Schema } from "effect"
import type * as Action from "../domain/Action.ts"
import { DuplicateAction, InvalidInputs, JobTimedOut, ResultNotEncodable, UnknownAction } from "../domain/Errors.ts"

/**
 * One registered action, with its Schema work done once and its services provided.
 *
 * @category models
 */
export interface Entry {
  readonly action: Action.Any
  /** Decodes travelled (encoded) inputs: coercion, defaults, refinements. */
  readonly decode: (inputs: unknown) => Effect.Effect<unknown, InvalidInputs>
  /** Decodes and re-encodes inputs: what is written to a job (canonical, defaults applied). */
  readonly normalize: (inputs: unknown) => Effect.Effect<unknown, InvalidInputs>
  /**
   * `normalize` without the Effect machinery, for bulk enqueue (a fan-out checks thousands of children):
   * `undefined` when the Schema cannot be run synchronously or the inputs fail, so the caller falls back to
   * `normalize` for the exact error.
   */
  readonly normalizeSync: (inputs: unknown) => { readonly value: unknown } | undefined
  /** Runs the action on decoded inputs, with its services and timeout. */
  readonly execute: (decoded: unknown) => Effect.Effect<unknown, unknown>
  /** Encodes a result to a JSON string (with the action's `output` Schema if it has one). */
  readonly encodeResult: (result: unknown) => Effect.Effect<string, ResultNotEncodable>
  /** The recurrence period in ms, if the action recurs. */
  readonly frequencyMillis: number | undefined
}

/**
 * The action registry service.
 *
 * @category services
 */
export class ActionRegistry extends Context.Service<ActionRegistry, {
  readonly entries: ReadonlyMap<string, Entry>
  readonly get: (name: string) => Effect.Effect<Entry, UnknownAction>
}>()("effect-resque/ActionRegistry") {}

const readableIssue = (error: unknown): string => {
  if (Schema.isSchemaError(error)) return error.message
  return error instanceof Error ? error.message : String(error)
}

/** JSON.stringify that reports BigInt and circular values instead of throwing. */
export const toJson = (value: unknown): { readonly ok: true; readonly json: string } | {
  readonly ok: false
  readonly detail: string
} => {
  try {
    return { ok: true, json: JSON.stringify(value) ?? "null" }
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) }
  }
}

const makeEntry = <R>(action: Action.Any<R>, context: Context.Context<R>): Entry => {
  const name = action.name
  const decodeInputs = Schema.decodeUnknownEffect(action.inputs)
  const encodeInputs = Schema.encodeUnknownEffect(action.inputs)
  const decodeSync = Schema.decodeUnknownResult(action.inputs)
  const encodeSync = Schema.encodeUnknownResult(action.inputs)
  const invalid = (error: unknown) => new InvalidInputs({ action: name, detail: readableIssue(error) })
  const decode = (inputs: unknown) => decodeInputs(inputs).pipe(Effect.mapError(invalid))
  const run = action.run as (inputs: unknown) => Effect.Effect<unknown, unknown, R>
  const timeoutMillis = action.timeout === undefined ? undefined : Duration.toMillis(action.timeout)
  const output = action.output
  const encodeOutput = output === undefined ? undefined : Schema.encodeUnknownEffect(output)
  return {
    action,
    decode,
    normalize: (inputs) => decode(inputs).pipe(Effect.flatMap((decoded) => Effect.mapError(encodeInputs(decoded), invalid))),
    normalizeSync: (inputs) => {
      const decoded = decodeSync(inputs)
      if (Result.isFailure(decoded)) return undefined
      const encoded = encodeSync(decoded.success)
      return Result.isFailure(encoded) ? undefined : { value: encoded.success }
    },
    execute: (decoded) => {
      const ran = Effect.suspend(() => run(decoded)).pipe(Effect.provideContext(context))
      if (timeoutMillis === undefined) return ran
      return Effect.timeoutOrElse(ran, {
        duration: timeoutMillis,
        orElse: () => Effect.fail(new JobTimedOut({ action: name, millis: timeoutMillis }))
      })
    },
    encodeResult: (result) =>
      (encodeOutput === undefined ? Effect.succeed(result) : encodeOutput(result)).pipe(
        Effect.mapError((error) => new ResultNotEncodable({ action: name, detail: readableIssue(error) })),
        Effect.flatMap((encoded) => {
          const json = toJson(encoded)
          return json.ok ? Effect.succeed(json.json) : Effect.fail(new ResultNotEncodable({ action: name, detail: json.detail }))
        })
      ),
    frequencyMillis: action.task?.frequency === undefined ? undefined : Duration.toMillis(action.task.frequency)
  }
}

/**
 * Builds the registry from action definitions, capturing the services their `run` effects need.
 *
 * @category constructors
 */
export const make = <const Actions extends ReadonlyArray<Action.Any<never> | Action.Any<unknown>>>(
  actions: Actions
): Effect.Effect<ActionRegistry["Service"], DuplicateAction, Action.Services<Actions[number]>> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<Action.Services<Actions[number]>>()
    const entries = new Map<string, Entry>()
    for (const action of actions) {
      if (entries.has(action.name)) return yield* new DuplicateAction({ action: action.name })
      entries.set(action.name, makeEntry(action as Action.Any<Action.Services<Actions[number]>>, context))
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
 * The registry layer. Its requirements are the union of the services the actions need.
 *
 * @category layers
 */
export const layer = <const Actions extends ReadonlyArray<Action.Any<never> | Action.Any<unknown>>>(
  actions: Actions
): Layer.Layer<ActionRegistry, DuplicateAction, Action.Services<Actions[number]>> => Layer.effect(ActionRegistry, make(actions))

/** The message of a failure cause, for failed-job records. @category utils */
export const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error)
}
