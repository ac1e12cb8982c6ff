/**
 * The hooks in force: the application's (`layer`), after the runtime's own tracing hook, which is there
 * whenever the application has a tracer that records spans (an OTLP exporter, a test tracer...). The hook
 * types are in `domain/Hooks.ts`, re-exported here.
 *
 * @example
 * // every job runs with its tenant in the logs; enqueues without a tenant are refused
 * const tenants: JobHooks.Hook = {
 *   name: "tenants",
 *   onEnqueue: () => Effect.map(CurrentTenant, (tenant) => ({ tenant })),
 *   aroundJob: (job, run) => Effect.annotateLogs(run, "tenant", job.job.meta.headers?.tenant ?? "none")
 * }
 * JobHooks.layer([tenants])
 *
 * Tracing samples parent-based (a job whose trace was not sampled makes no span and passes that on), and
 * {@link layerTracing} sets the ratio of the traces that start at a job or a send; {@link TraceState} carries
 * a W3C `tracestate` (see `docs/observability.md`).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Hooks from "../domain/Hooks.ts"
import * as Tracing from "../internal/Tracing.ts"

/** @category models */
export type Hook = Hooks.Hook
/** @category models */
export type Enqueueing = Hooks.Enqueueing
/** @category models */
export type Send = Hooks.Send
/** @category models */
export type Running = Hooks.Running
/** @category models */
export type Finished = Hooks.Finished
/** @category models */
export type TracingOptions = Tracing.Options

/**
 * The `tracestate` a span's annotations may carry (Effect's spans have none of their own): put it in the
 * annotations of the external span an incoming request continues, and jobs enqueued under it carry it on.
 *
 * @category models
 */
export const TraceState = Tracing.TraceState

/**
 * The application's hooks, in order (none unless a {@link layer} sets them).
 *
 * @category services
 */
export const JobHooks = Context.Reference<ReadonlyArray<Hooks.Hook>>("effect-resque/JobHooks", { defaultValue: () => [] })

/**
 * How the runtime's tracing hook samples (see {@link layerTracing}); every root trace unless a layer sets it.
 *
 * @category services
 */
export const TracingSettings = Context.Reference<Tracing.Options>("effect-resque/JobHooks/Tracing", { defaultValue: () => ({}) })

/**
 * Sets how the runtime's tracing hook samples, e.g. `JobHooks.layerTracing({ rootSampleRatio: 0.1 })`: one
 * trace in ten that start at a job or a send is recorded, and every job of a trace follows where it started
 * (the W3C `sampled` flag). Provide it below `Resque.layer` and the worker, like {@link layer}. Without it,
 * every trace is recorded (when a tracer that records spans is in place).
 *
 * @category layers
 */
export const layerTracing = (options: Tracing.Options): Layer.Layer<never> => Layer.succeed(TracingSettings, options)

/**
 * Sets the application's hooks; they compose in list order (the first one's `aroundJob` is the outermost).
 * A hook may be given as an Effect that builds it (`JobMetrics.hook` captures the metric registry). Provide
 * it below `Resque.layer` and the worker (`Layer.provideMerge`), like the Redis layer.
 *
 * @category layers
 */
export const layer = (hooks: ReadonlyArray<Hooks.Hook | Effect.Effect<Hooks.Hook>>): Layer.Layer<never> =>
  Layer.effect(JobHooks, Effect.forEach(hooks, (hook) => (Effect.isEffect(hook) ? hook : Effect.succeed(hook))))

/**
 * The hooks the runtime applies, composed once: tracing first when spans are recorded, then the
 * application's. With neither, every function is `undefined` and enqueue and the worker skip them.
 *
 * @category constructors
 */
export const composed: Effect.Effect<Hooks.Composed> = Effect.gen(function*() {
  const hooks = yield* JobHooks
  const traced = yield* Tracing.enabled
  const all = traced ? [Tracing.make(yield* TracingSettings), ...hooks] : hooks
  return all.length === 0 ? Hooks.none : Hooks.compose(all)
})
