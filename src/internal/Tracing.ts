/**
 * Tracing across the queue, as a hook (`domain/Hooks.ts`), following OpenTelemetry's messaging conventions:
 *
 * - **Producer.** Each send (one enqueue, or a whole fan-out) is a `send <queue>` span of kind `producer`;
 *   every job it writes gets the span's W3C `traceparent` (and the trace's `tracestate`, when it has one) in
 *   its `_job` headers (never in its inputs).
 * - **Consumer.** The worker runs each job in a `process <queue>` span of kind `consumer`. A plain job, a
 *   retry and a fan-out's `onComplete` **continue** the producer's trace (the span's parent is the producer
 *   span), so an HTTP request that enqueues and the job it caused are one trace, and attempt 2 is in the same
 *   trace as attempt 1. A fan-out child and the next copy of a recurring action start a trace of their own
 *   and **link** to the producer (the fan-out's send span, or the previous run): a 10 000-child fan-out is
 *   10 000 small traces that each point at the parent, not one trace too big for any viewer, and a recurring
 *   action is not one trace that grows forever. A job without a `traceparent` (a foreign producer) starts a
 *   trace of its own.
 * - **Sampling**, decided once where a trace starts and carried by the W3C `sampled` flag ({@link Options}):
 *   a job or a send whose parent is not sampled makes no span at all (not even an unexported one) and passes
 *   the trace on with flag `00`, so nothing downstream records it either; where a trace starts (a send outside
 *   any span, a job without trace context, each run of a recurring action) the root ratio decides.
 *
 * Only spans that the application's tracer records are made: the runtime installs this hook only when a
 * tracer other than Effect's default (which exports nothing) is in place.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import * as Hex from "effect/encoding/Hex"
import type * as Hooks from "../domain/Hooks.ts"
import type * as Job from "../domain/Job.ts"

/** `messaging.system`: the Resque protocol is the messaging system. */
export const system = "resque"

/**
 * How the tracing hook samples.
 *
 * @category models
 */
export interface Options {
  /**
   * The fraction (0 to 1) of **root** traces recorded: those that start here, for a send outside any span, a
   * job without trace context (written by another Resque client) and each run of a recurring action. Every
   * other job follows its parent's decision (the W3C `sampled` flag of its `traceparent`), as OpenTelemetry's
   * parent-based sampler does, so a trace is recorded whole or not at all. Default `1` (every root trace): a
   * tracer that records spans is there to record them. Lower it where the per-job cost of exporting spans
   * matters (`docs/observability.md`, "What it costs"): a job that is not sampled costs about what it costs
   * with tracing off. Values outside 0..1 are clamped; `NaN` counts as 1.
   */
  readonly rootSampleRatio?: number | undefined
}

/** The headers tracing owns in a job's `_job` headers: they never make two jobs different (a delayed job's dedupe). */
export const headerNames: ReadonlyArray<string> = ["traceparent", "tracestate"]

/**
 * `encode` of a job's metadata without its trace headers (what makes it the same job as another send of it),
 * or `undefined` when it has none (then the payload itself is that).
 */
export const withoutTraceHeaders = <A>(meta: Job.JobMeta | undefined, encode: (meta: Job.JobMeta | undefined) => A): A | undefined => {
  const headers = meta?.headers
  if (headers === undefined || !headerNames.some((name) => name in headers)) return undefined
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !headerNames.includes(name)))
  const { headers: _headers, ...rest } = meta as Job.JobMeta
  return encode(Object.keys(kept).length === 0 ? rest : { ...rest, headers: kept })
}

/**
 * The W3C `tracestate` of a trace, when a span's annotations carry one. Effect's spans have no `tracestate`:
 * an application that reads one from an incoming request puts it in the parent span's annotations
 * (`Tracer.externalSpan({ ..., annotations: Context.make(TraceState, value) })`); enqueues under that span
 * carry it in the job's headers, and the job's span has it in its parent's annotations again.
 *
 * @category models
 */
export const TraceState = Context.Service<string>("effect-resque/Tracing/TraceState")

/** A version-00 `traceparent`: trace id, span id, flags (later versions may append fields: they are ignored). */
const traceparentPattern = /^[0-9a-e][0-9a-f]-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/

/**
 * A span as a W3C `traceparent` (version 00).
 *
 * @category encoding
 */
export const traceparent = (span: Tracer.AnySpan): string =>
  `00-${span.traceId.padStart(32, "0")}-${span.spanId.padStart(16, "0")}-${span.sampled ? "01" : "00"}`

/**
 * The span a W3C `traceparent` names, or `undefined` when it is missing or malformed (then the job's span
 * starts a trace of its own). A `tracestate` goes in its annotations ({@link TraceState}).
 *
 * @category decoding
 */
export const fromTraceparent = (header: string | undefined, tracestate?: string): Tracer.ExternalSpan | undefined => {
  if (header === undefined) return undefined
  const match = traceparentPattern.exec(header)
  if (match === null) return undefined
  const [, traceId = "", spanId = "", flags = ""] = match
  if (traceId === "00000000000000000000000000000000" || spanId === "0000000000000000") return undefined
  const sampled = (parseInt(flags, 16) & 1) === 1
  return tracestate === undefined || tracestate === ""
    ? Tracer.externalSpan({ traceId, spanId, sampled })
    : Tracer.externalSpan({ traceId, spanId, sampled, annotations: Context.make(TraceState, tracestate) })
}

/** The `tracestate` of the nearest span up the chain whose annotations carry one. */
export const tracestateOf = (span: Tracer.AnySpan): string | undefined => {
  for (let current: Tracer.AnySpan | undefined = span, depth = 0; current !== undefined && depth < 64; depth++) {
    const found = Context.getOrUndefined(current.annotations, TraceState)
    if (found !== undefined) return found
    current = current._tag === "Span" && current.parent._tag === "Some" ? current.parent.value : undefined
  }
  return undefined
}

const noAnnotations: Context.Context<never> = Context.empty()

/**
 * The context of a trace that is not recorded and started here (a root that the ratio left out): ids are
 * drawn only if something reads them (a job it enqueues), so a sampled-out root costs one object.
 */
class Unrecorded implements Tracer.ExternalSpan {
  readonly _tag = "ExternalSpan"
  readonly sampled = false
  readonly annotations = noAnnotations
  private ids: { traceId: string; spanId: string } | undefined = undefined
  /** How many traces this object has stood for (see {@link unrecordedRoots}): its ids are drawn for each. */
  generation = 0
  get traceId(): string {
    return (this.ids ??= { traceId: Hex.random(32), spanId: Hex.random(16) }).traceId
  }
  get spanId(): string {
    return (this.ids ??= { traceId: Hex.random(32), spanId: Hex.random(16) }).spanId
  }
  /** Stands for a new trace: new ids, drawn when read. */
  renew(): this {
    this.ids = undefined
    this.generation++
    return this
  }
}

/**
 * The unrecorded root of each worker slot's current job. A slot runs one job at a time, so one object per slot
 * serves all its sampled-out roots, renewed for each job: the job then runs in the same context as the one
 * before it on the slot ({@link parentedBy}), instead of a context copy and a rebuilt fiber cache per job.
 * A fiber that a job detaches and leaves running sees the slot's next root's ids.
 */
const unrecordedRoots = () => {
  const bySlot = new Map<string, Unrecorded>()
  return (worker: string): Unrecorded => {
    let root = bySlot.get(worker)
    if (root === undefined) {
      root = new Unrecorded()
      if (bySlot.size < 10_000) bySlot.set(worker, root)
    }
    return root.renew()
  }
}

const noLinkAttributes: Readonly<Record<string, unknown>> = {}

/**
 * Runs `run` with `span` as its parent span, reusing the context it made last time on the same context for
 * the same span: a fan-out's sampled-out children on one worker slot then run in one context, and the fiber
 * does not rebuild its context cache for every job (what `Effect.provideService` costs per call).
 */
const parentedBy = () => {
  const made = new WeakMap<Context.Context<never>, { readonly span: Tracer.AnySpan; readonly context: Context.Context<never> }>()
  return <A, E, R>(run: Effect.Effect<A, E, R>, span: Tracer.AnySpan): Effect.Effect<A, E, R> =>
    Effect.updateContext(run, (context: Context.Context<never>) => {
      const last = made.get(context)
      if (last !== undefined && last.span === span) return last.context as Context.Context<R>
      const next = Context.add(context, Tracer.ParentSpan, span)
      made.set(context, { span, context: next })
      return next as Context.Context<R>
    }) as Effect.Effect<A, E, R>
}

/** A job's producer as its span options take it: continued, or linked (a fan-out child, a recurring run). */
interface Producer {
  readonly span: Tracer.ExternalSpan
  readonly continued: Tracer.SpanOptionsNoTrace
  readonly linked: Tracer.SpanOptionsNoTrace
}

/** The producer of `headers`, remembered for the last pair of headers: a fan-out's children all carry the same. */
const incomingReader = () => {
  let lastHeader: string | undefined
  let lastState: string | undefined
  let last: Producer | undefined
  return (headers: Readonly<Record<string, string>> | undefined): Producer | undefined => {
    const header = headers?.["traceparent"]
    if (header === undefined) return undefined
    const state = headers?.["tracestate"]
    if (header !== lastHeader || state !== lastState) {
      lastHeader = header
      lastState = state
      const span = fromTraceparent(header, state)
      last = span === undefined ? undefined : {
        span,
        continued: { kind: "consumer", parent: span },
        linked: { kind: "consumer", root: true, links: [{ span, attributes: noLinkAttributes }] }
      }
    }
    return last
  }
}

const rootOptions: Tracer.SpanOptionsNoTrace = { kind: "consumer", root: true }

/** The headers of the jobs sent under `span`, remembered for the last span: a fan-out's children share them. */
const outgoingWriter = () => {
  let lastSpan: Tracer.AnySpan | undefined
  let last: Readonly<Record<string, string>> | undefined
  let lastGeneration = -1
  return (span: Tracer.AnySpan): Readonly<Record<string, string>> | undefined => {
    // a slot's unrecorded root is one object for many traces: its generation tells them apart
    const generation = span instanceof Unrecorded ? span.generation : -1
    if (span === lastSpan && generation === lastGeneration) return last
    lastSpan = span
    lastGeneration = generation
    // a span of a fiber with tracing disabled has no ids to pass on
    if (span._tag === "Span" && span.spanId === "noop") return (last = undefined)
    const state = tracestateOf(span)
    last = state === undefined ? { traceparent: traceparent(span) } : { traceparent: traceparent(span), tracestate: state }
    return last
  }
}

const sendAttributes = (send: Hooks.Send): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "messaging.system": system,
    "messaging.operation.name": "send",
    "messaging.operation.type": "send",
    "messaging.destination.name": send.queue,
    "resque.action": send.action
  }
  if (send.kind === "fanOut") {
    attributes["messaging.batch.message_count"] = send.count
    attributes["resque.fan_out.id"] = send.fanOutId
  }
  if (send.at !== undefined) attributes["resque.scheduled_at"] = send.at
  return attributes
}

/** The consumer span's attributes, set on the span directly (no record built per job). */
const setProcessAttributes = (span: Tracer.Span, running: Hooks.Running): void => {
  const { job } = running
  span.attribute("messaging.system", system)
  span.attribute("messaging.operation.name", "process")
  span.attribute("messaging.operation.type", "process")
  span.attribute("messaging.destination.name", running.queue)
  span.attribute("messaging.message.id", running.jobId)
  span.attribute("messaging.client.id", running.worker)
  span.attribute("resque.action", job.action)
  span.attribute("resque.attempt", running.attempt)
  if (job.meta.fanOut !== undefined) {
    span.attribute("resque.fan_out.id", job.meta.fanOut)
    span.attribute("resque.fan_out.index", job.meta.index)
  }
  if (job.meta.recurrence !== undefined) span.attribute("resque.recurring", true)
}

/** Clamps a ratio into 0..1 (`NaN` and `undefined` count as 1). */
const ratioOf = (ratio: number | undefined): number => ratio === undefined || Number.isNaN(ratio) ? 1 : Math.min(1, Math.max(0, ratio))

/**
 * The tracing hook.
 *
 * @category hooks
 */
export const make = (options: Options = {}): Hooks.Hook => {
  const ratio = ratioOf(options.rootSampleRatio)
  /** Whether a trace that starts here is recorded. */
  const sampleRoot = ratio >= 1 ? () => true : ratio <= 0 ? () => false : () => Math.random() < ratio
  const incoming = incomingReader()
  const outgoing = outgoingWriter()
  const withParent = parentedBy()
  const unrecordedRoot = unrecordedRoots()

  // the job runs under its span: `provideService` alone (`withSpan` also sets a stack frame, a second context)
  const processSpan = <A, E, R>(running: Hooks.Running, run: Effect.Effect<A, E, R>, options: Tracer.SpanOptionsNoTrace, successor: boolean) =>
    Effect.useSpan(`process ${running.queue}`, options, (span) => {
      setProcessAttributes(span, running)
      // the next copy of a recurring action links to this run
      if (successor) running.successorHeaders = outgoing(span)
      return Effect.provideService(run, Tracer.ParentSpan, span)
    })

  return {
    name: "tracing",
    aroundEnqueue: (send, enqueue) =>
      Effect.withFiber((fiber) => {
        // tracing turned off here (`Effect.withTracerEnabled(false)`): no span and no trace context, as
        // Effect's own clients propagate none there
        if (!fiber.cache.tracerEnabled) return enqueue
        const parent = fiber.cache.span
        // a parent that is not sampled: no span, its context goes on with flag 00 (`onEnqueue`)
        if (parent !== undefined && !parent.sampled) return enqueue
        // a trace starting here that the ratio leaves out: its jobs carry a context that says so
        if (parent === undefined && !sampleRoot()) return Effect.provideService(enqueue, Tracer.ParentSpan, new Unrecorded())
        return Effect.useSpan(
          `send ${send.queue}`,
          { kind: "producer", attributes: sendAttributes(send) },
          (span) => Effect.provideService(enqueue, Tracer.ParentSpan, span)
        )
      }),
    // the producer span (or the unrecorded context) is the current one: `aroundEnqueue` runs every onEnqueue
    // of its send inside it, so a fan-out's children share one header object
    onEnqueue: () =>
      Effect.withFiberSucceed((fiber) => {
        const span = fiber.cache.span
        return span === undefined || !fiber.cache.tracerEnabled ? undefined : outgoing(span)
      }),
    aroundJob: (running, run) => {
      const { meta } = running.job
      const producer = incoming(meta.headers)
      if (meta.recurrence !== undefined) {
        // each run of a recurring action is a root; it links to the run before when that one was recorded
        if (!sampleRoot()) return withParent(run, unrecordedRoot(running.worker))
        return processSpan(running, run, producer !== undefined && producer.span.sampled ? producer.linked : rootOptions, true)
      }
      if (producer === undefined) {
        // a job from another producer starts a trace
        if (!sampleRoot()) return withParent(run, unrecordedRoot(running.worker))
        return processSpan(running, run, rootOptions, false)
      }
      // not sampled where its trace started: no span, and what it enqueues says so too
      if (!producer.span.sampled) return withParent(run, producer.span)
      return processSpan(running, run, meta.fanOut !== undefined ? producer.linked : producer.continued, false)
    }
  }
}

/**
 * Whether spans are recorded: a tracer other than Effect's default, which exports nothing, is in place.
 *
 * @category hooks
 */
export const enabled: Effect.Effect<boolean> = Effect.map(Effect.tracer, (tracer) => tracer !== Tracer.nativeTracer)
