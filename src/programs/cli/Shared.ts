/**
 * What every CLI command shares: the global flags (`--redis`, `--namespace`, `-q`), the choice of Redis
 * (a shared server for anything that outlives the process, the in-memory one only where that is harmless),
 * the runtime layer on it, logging to stderr (stdout is for results), and readable errors.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as CliError from "effect/cli/CliError"
import * as Flag from "effect/cli/Flag"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import type * as Action from "../../domain/Action.ts"
import * as JobError from "../../domain/JobError.ts"
import * as Redis from "../../layers/Redis.ts"
import * as RedisMemory from "../../layers/RedisMemory.ts"
import type * as Resque from "../../layers/Resque.ts"

/** `--redis URL`, falling back to `REDIS_URL`. @category flags */
export const RedisUrl = GlobalFlag.Setting("redis")({
  flag: Flag.String("redis").pipe(
    Flag.withMetavar("url"),
    Flag.withDescription("Redis URL, default $REDIS_URL. Commands that read or write shared state need one (`run` alone can use an in-memory Redis)"),
    Flag.withFallbackConfig(Config.String("REDIS_URL")),
    Flag.optional
  )
})

/** `--namespace NS`, falling back to `RESQUE_NAMESPACE`, default `resque`. @category flags */
export const Namespace = GlobalFlag.Setting("namespace")({
  flag: Flag.String("namespace").pipe(
    Flag.withDescription("Redis key namespace, default $RESQUE_NAMESPACE or resque"),
    Flag.withFallbackConfig(Config.String("RESQUE_NAMESPACE")),
    Flag.optional
  )
})

/** `-q/--quiet`: no logs, only results. @category flags */
export const Quiet = GlobalFlag.Setting("quiet")({
  flag: Flag.Boolean("quiet").pipe(
    Flag.withAlias("q"),
    Flag.withDefault(false),
    Flag.withDescription("Silence logs: only results are printed (pipe them to jq)")
  )
})

/** `--wide`: table cells are not cut. @category flags */
export const Wide = GlobalFlag.Setting("wide")({
  flag: Flag.Boolean("wide").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Do not cut table cells: full error texts, inputs and names")
  )
})

/** The global flags, in the order help lists them. @category flags */
export const globalFlags = [RedisUrl, Namespace, Quiet, Wide] as const

/**
 * A command that needs state shared between processes was run without a Redis URL.
 *
 * @category errors
 */
export class RedisRequired extends Data.TaggedError("RedisRequired")<{ readonly command: string }> {
  override get message(): string {
    return `${this.command} needs a shared Redis: pass --redis URL or set REDIS_URL ` +
      `(an in-memory Redis lives inside one process, so no worker or other command would ever see its state)`
  }
}

/**
 * Bad command-line input that the flag parser cannot see (a JSONL line, a duration...).
 *
 * @category errors
 */
export class BadArgument extends Data.TaggedError("BadArgument")<{ readonly detail: string }> {
  override get message(): string {
    return this.detail
  }
}

/**
 * The user's application, as the CLI sees it: its actions and how to build the runtime on a Redis layer.
 *
 * @category models
 */
export interface App {
  readonly actions: ReadonlyArray<Action.Any>
  /** The Resque queue (registry, Actions, Operations) and the Redis it runs on, the application's own layers provided. */
  readonly runtime: (redis: Layer.Layer<Redis.Redis, unknown>) => Layer.Layer<Resque.Services | Redis.Redis, unknown>
}

const redisLayer = (url: string, namespace: Option.Option<string>) =>
  Redis.layerConfig({ url, ...(Option.isSome(namespace) ? { namespace: namespace.value } : {}) })

/**
 * The shared Redis, or a {@link RedisRequired} failure naming the command.
 *
 * @category redis
 */
export const sharedRedis = (command: string) =>
  Effect.gen(function*() {
    const url = yield* RedisUrl
    if (Option.isNone(url)) return yield* new RedisRequired({ command })
    return redisLayer(url.value, yield* Namespace)
  })

/**
 * The shared Redis if one is configured, else a private in-memory one (for `run`, which needs no one else).
 *
 * @category redis
 */
export const anyRedis = Effect.gen(function*() {
  const url = yield* RedisUrl
  const namespace = yield* Namespace
  if (Option.isSome(url)) return redisLayer(url.value, namespace)
  return RedisMemory.layer(Option.isSome(namespace) ? { namespace: namespace.value } : {})
})

/**
 * The text to show for an error: its message, or, for an error without one (a tagged error declared with
 * fields only), its tag and fields.
 */
export const messageOf = (error: unknown): string => {
  const message = JobError.message(error)
  return message === JobError.tag(error) || message.startsWith("{") ? JobError.format(error) : message
}

/**
 * Wraps a command handler: logs go to stderr (silenced by `-q`), and a failure is shown as its readable
 * message (no stack trace) with a non-zero exit code.
 *
 * @category combinators
 */
export const handler = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const quiet = yield* Quiet
    const logged = Effect.provideService(effect, Logger.LogToStderr, true)
    return yield* (quiet ? Effect.provideService(logged, References.MinimumLogLevel, "None") : logged).pipe(
      Effect.mapError((error) => new CliError.UserError({ cause: error, userMessage: messageOf(error) }))
    )
  })

/** Prints a value as one line of JSON on stdout. @category output */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value))

/** Prints a result that is already JSON text on stdout. @category output */
export const printRaw = (text: string) => Console.log(text)

const units: Record<string, number> = {
  ms: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000
}

/**
 * Parses a delay such as `5m`, `30s`, `1.5h`, `500ms` or `2 minutes` into milliseconds.
 *
 * @category parsing
 */
export const parseDelay = (text: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(text)
  if (!match) return undefined
  const unit = (match[2] ?? "ms").toLowerCase()
  const factor = units[unit]
  return factor === undefined ? undefined : Number(match[1]) * factor
}
