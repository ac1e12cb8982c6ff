/**
 * An action compiled for the runtime: its Schema work prepared once (decode, normalize, encode the result,
 * encode and decode its errors), its timeout applied, and the application's services it needs captured, so
 * the worker, the command line and direct calls run any action by name without knowing its types.
 *
 * The runtime's own services (enqueue, fan-out, operations) are not captured: they are built after the
 * actions, so whoever runs an entry hands them over (`execute(decoded, runtime)`). That is what lets an
 * action's `run` use the runtime that runs it.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Action from "../domain/Action.ts"
import { InvalidInputs, JobTimedOut, ResultNotEncodable } from "../domain/Errors.ts"
import * as JobError from "../domain/JobError.ts"
import type * as Recurrence from "./Recurrence.ts"

/**
 * One compiled action.
 *
 * @category models
 */
export interface Entry {
  readonly action: Action.Any
  readonly name: string
  /** The queue its jobs go to unless told otherwise: `task.queue`, else `default`. */
  readonly queue: string
  /** The recurrence period in ms, if the action recurs every `frequency` (not for a cron schedule). */
  readonly frequencyMillis: number | undefined
  /** When it recurs (`frequency` or `cron`), if it does. */
  readonly recurrence: Recurrence.Recurrence | undefined
  /** Decodes travelled (encoded) inputs: coercion, defaults, refinements. */
  readonly decode: (inputs: unknown) => Effect.Effect<unknown, InvalidInputs>
  /**
   * `decode` without the Effect machinery, for the worker's hot path: the decoded inputs, or `undefined` when
   * the Schema cannot settle them synchronously or they fail (then `decode` gives the exact outcome).
   */
  readonly decodeSync: (inputs: unknown) => { readonly value: unknown } | undefined
  /** Decodes and re-encodes inputs: what is written to a job (canonical, defaults applied). */
  readonly normalize: (inputs: unknown) => Effect.Effect<unknown, InvalidInputs>
  /**
   * `normalize` without the Effect machinery, for bulk enqueue (a fan-out checks thousands of children):
   * `undefined` when the Schema cannot be run synchronously or the inputs fail, so the caller falls back to
   * `normalize` for the exact error.
   */
  readonly normalizeSync: (inputs: unknown) => { readonly value: unknown } | undefined
  /**
   * Runs the action on decoded inputs, with its timeout, the application's services it captured and the
   * runtime's services given as `runtime`.
   */
  readonly execute: (decoded: unknown, runtime: Context.Context<never>) => Effect.Effect<unknown, unknown>
  /**
   * `execute` in two halves, for a caller that runs many jobs in one fiber: `runBare` is the run with its
   * timeout and without its context, which `contextFor(runtime)` is (built once per runtime), so the caller
   * can provide it without merging contexts for every job.
   */
  readonly runBare: (decoded: unknown) => Effect.Effect<unknown, unknown>
  readonly contextFor: (runtime: Context.Context<never>) => Context.Context<never>
  /** Encodes a result to a JSON string (with the action's `output` Schema if it has one). */
  readonly encodeResult: (result: unknown) => Effect.Effect<string, ResultNotEncodable>
  /** `encodeResult` without the Effect machinery: the JSON, or `undefined` when only `encodeResult` can tell. */
  readonly encodeResultSync: (result: unknown) => string | undefined
  /** Decodes a stored (JSON) result with the `output` Schema; the value as it is without one. */
  readonly decodeResult: (stored: unknown) => Result.Result<unknown, string>
  /** An error as data: encoded by the `error` Schema when it accepts it, else its plain fields (or undefined). */
  readonly encodeError: (error: unknown) => unknown
  /** Stored error data, decoded by the `error` Schema when there is one (the data as it is otherwise). */
  readonly decodeError: (data: unknown) => unknown
}

/** An entry of an action that recurs. */
export type Recurring = Entry & { readonly recurrence: Recurrence.Recurrence }

/** Whether an entry's action recurs (a `frequency` or a `cron`). @category guards */
export const recurs = (entry: Entry): entry is Recurring => entry.recurrence !== undefined

/** The readable message of a Schema failure (or of anything thrown). */
export const issueMessage = (error: unknown): string => (Schema.isSchemaError(error) ? error.message : JobError.message(error))

/**
 * `JSON.stringify` that reports BigInt and circular values instead of throwing.
 *
 * @category encoding
 */
export const toJson = (value: unknown): Result.Result<string, string> => {
  try {
    return Result.succeed(JSON.stringify(value) ?? "null")
  } catch (error) {
    return Result.fail(error instanceof Error ? error.message : String(error))
  }
}

/**
 * Applies an action's timeout to a run: past it the run is interrupted and fails with {@link JobTimedOut}.
 *
 * @category combinators
 */
export const withTimeout = (action: { readonly name: string; readonly timeout?: Duration.Input | undefined }) => {
  if (action.timeout === undefined) return <A, E, R>(effect: Effect.Effect<A, E, R>) => effect
  const millis = Duration.toMillis(action.timeout)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | JobTimedOut, R> =>
    Effect.timeoutOrElse(effect, {
      duration: millis,
      orElse: () => Effect.fail(new JobTimedOut({ action: action.name, millis }))
    })
}

const resultCodec = (action: Action.Any) => {
  const output = action.output
  if (output === undefined) {
    return {
      encodeSync: (result: unknown): Result.Result<unknown, unknown> => Result.succeed(result),
      encode: (result: unknown) => Effect.succeed(result),
      decode: (stored: unknown) => Result.succeed(stored)
    }
  }
  const encode = Schema.encodeUnknownEffect(output)
  const encodeSync = Schema.encodeUnknownResult(output)
  const decode = Schema.decodeUnknownResult(output)
  return {
    encodeSync: (result: unknown): Result.Result<unknown, unknown> => encodeSync(result),
    encode: (result: unknown) => encode(result),
    decode: (stored: unknown) => Result.mapError(decode(stored), (error) => error.message)
  }
}

const errorCodec = (action: Action.Any) => {
  const schema = action.error
  if (schema === undefined) return { encode: JobError.plainData, decode: (data: unknown) => data }
  const encode = Schema.encodeUnknownResult(schema)
  const decode = Schema.decodeUnknownResult(schema)
  return {
    encode: (error: unknown) => {
      const encoded = encode(error)
      return Result.isSuccess(encoded) ? encoded.success : JobError.plainData(error)
    },
    decode: (data: unknown) => {
      const decoded = decode(data)
      return Result.isSuccess(decoded) ? decoded.success : data
    }
  }
}

/**
 * Compiles an action, capturing `context` (the application's services its `run` needs).
 *
 * @category constructors
 */
export const make = <R>(action: Action.Any<R>, context: Context.Context<R>, recurrence?: Recurrence.Recurrence): Entry => {
  const name = action.name
  const decodeInputs = Schema.decodeUnknownEffect(action.inputs)
  const encodeInputs = Schema.encodeUnknownEffect(action.inputs)
  const decodeSync = Schema.decodeUnknownResult(action.inputs)
  const encodeSync = Schema.encodeUnknownResult(action.inputs)
  const invalid = (error: unknown) => new InvalidInputs({ action: name, detail: issueMessage(error) })
  // the synchronous Schema path first (a job's inputs rarely need more); the Effect path for the exact error,
  // or for a Schema that cannot run synchronously
  const decode = (inputs: unknown): Effect.Effect<unknown, InvalidInputs> => {
    const fast = decodeSync(inputs)
    return Result.isSuccess(fast) ? Effect.succeed(fast.success) : Effect.mapError(decodeInputs(inputs), invalid)
  }
  // `run`'s requirements are the captured context and the runtime's services, both provided in `execute`
  const run = action.run as (inputs: unknown) => Effect.Effect<unknown, unknown>
  const timed = withTimeout(action)
  const contexts = new WeakMap<Context.Context<never>, Context.Context<never>>()
  const withRuntime = (runtime: Context.Context<never>): Context.Context<never> => {
    let merged = contexts.get(runtime)
    if (merged === undefined) {
      merged = Context.merge(runtime, context as Context.Context<never>)
      contexts.set(runtime, merged)
    }
    return merged
  }
  const results = resultCodec(action)
  const errors = errorCodec(action)
  return {
    action,
    name,
    queue: action.task?.queue ?? "default",
    frequencyMillis: recurrence?._tag === "Every" ? recurrence.millis : undefined,
    recurrence,
    decode,
    decodeSync: (inputs) => {
      const fast = decodeSync(inputs)
      return Result.isSuccess(fast) ? { value: fast.success } : undefined
    },
    normalize: (inputs) => Effect.flatMap(decode(inputs), (decoded) => Effect.mapError(encodeInputs(decoded), invalid)),
    normalizeSync: (inputs) => {
      const decoded = decodeSync(inputs)
      if (Result.isFailure(decoded)) return undefined
      const encoded = encodeSync(decoded.success)
      return Result.isFailure(encoded) ? undefined : { value: encoded.success }
    },
    execute: (decoded, runtime) => timed(Effect.suspend(() => run(decoded))).pipe(Effect.provideContext(withRuntime(runtime))),
    runBare: (decoded) => timed(Effect.suspend(() => run(decoded))),
    contextFor: withRuntime,
    encodeResult: (result) => {
      const json = (encoded: unknown) => {
        const text = toJson(encoded)
        return Result.isSuccess(text) ? Effect.succeed(text.success) : Effect.fail(new ResultNotEncodable({ action: name, detail: text.failure }))
      }
      const fast = results.encodeSync(result)
      return Result.isSuccess(fast)
        ? json(fast.success)
        : results.encode(result).pipe(
          Effect.mapError((error) => new ResultNotEncodable({ action: name, detail: issueMessage(error) })),
          Effect.flatMap(json)
        )
    },
    encodeResultSync: (result) => {
      const encoded = results.encodeSync(result)
      if (Result.isFailure(encoded)) return undefined
      const text = toJson(encoded.success)
      return Result.isSuccess(text) ? text.success : undefined
    },
    decodeResult: results.decode,
    encodeError: errors.encode,
    decodeError: errors.decode
  }
}
