/**
 * Tracing across the queue, as a hook (`domain/Hooks.ts`), following OpenTelemetry's messaging conventions:
 *
 * - **Producer.** Each send (one enqueue, or a whole fan-out) is a `send <queue>` span of kind `producer`;
 *   every job it writes gets the span's W3C `traceparent` in its `_job` headers (never in its inputs).
 * - **Consumer.** The worker runs each job in a `process <queue>` span of kind `consumer`. A plain job, a
 *   retry and a fan-out's `onComplete` **continue** the producer's trace (the span's parent is the producer
 *   span), so an HTTP request that enqueues and the job it caused are one trace, and attempt 2 is in the same
 *   trace as attempt 1. A fan-out child and the next copy of a recurring action start a trace of their own
 *   and **link** to the producer (the fan-out's send span, or the previous run): a 10 000-child fan-out is
 *   10 000 small traces that each point at the parent, not one trace too big for any viewer, and a recurring
 *   action is not one trace that grows forever. A job without a `traceparent` (a foreign producer) starts a
 *   trace of its own.
 *
 * Only spans that the application's tracer records are made: the runtime installs this hook only when a
 * tracer other than Effect's default (which exports nothing) is in place.
 *
 * @since 0.3.0
 */
import { Effect, Tracer } from "effect"
import type * as Hooks from "../domain/Hooks.ts"
import type * as Job from "../domain/Job.ts"

/** `messaging.system`: the Resque protocol is the messaging system. */
export const system = "resque"

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
 * starts a trace of its own).
 *
 * @category decoding
 */
export const fromTraceparent = (header: string | undefined): Tracer.ExternalSpan | undefined => {
  if (header === undefined) return undefined
  const match = traceparentPattern.exec(header)
  if (match === null) return undefined
  const [, traceId = "", spanId = "", flags = ""] = match
  if (traceId === "00000000000000000000000000000000" || spanId === "0000000000000000") return undefined
  return Tracer.externalSpan({ traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 })
}

/** Whether a job's span links to its producer instead of continuing its trace. */
const links = (job: Job.ParsedJob): boolean => job.meta.fanOut !== undefined || job.meta.recurrence !== undefined

const producerAttributes = (send: Hooks.Send): Record<string, unknown> => {
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

const consumerAttributes = (running: Hooks.Running): Record<string, unknown> => {
  const { job } = running
  const attributes: Record<string, unknown> = {
    "messaging.system": system,
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
    "messaging.destination.name": running.queue,
    "messaging.message.id": running.jobId,
    "messaging.client.id": running.worker,
    "resque.action": job.action,
    "resque.attempt": running.attempt
  }
  if (job.meta.fanOut !== undefined) {
    attributes["resque.fan_out.id"] = job.meta.fanOut
    attributes["resque.fan_out.index"] = job.meta.index
  }
  if (job.meta.recurrence !== undefined) attributes["resque.recurring"] = true
  return attributes
}

/**
 * The tracing hook.
 *
 * @category hooks
 */
export const hook: Hooks.Hook = {
  name: "tracing",
  aroundEnqueue: (send, enqueue) =>
    Effect.withSpan(enqueue, `send ${send.queue}`, { kind: "producer", attributes: producerAttributes(send), captureStackTrace: false }),
  // the producer span is the current one: aroundEnqueue runs every onEnqueue of its send inside it
  onEnqueue: () =>
    Effect.map(Effect.option(Effect.currentSpan), (span) => (span._tag === "Some" ? { traceparent: traceparent(span.value) } : undefined)),
  aroundJob: (running, run) => {
    const producer = fromTraceparent(running.job.meta.headers?.["traceparent"])
    const attributes = consumerAttributes(running)
    // no stack trace per span: the job's span is made once per job, its place in the code is always the same
    const options: Tracer.SpanOptions = producer === undefined
      ? { kind: "consumer", root: true, attributes, captureStackTrace: false }
      : links(running.job)
      ? { kind: "consumer", root: true, links: [{ span: producer, attributes: {} }], attributes, captureStackTrace: false }
      : { kind: "consumer", parent: producer, attributes, captureStackTrace: false }
    // the next copy of a recurring action links to this run
    const body = running.job.meta.recurrence === undefined ? run : Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
      if (span._tag === "Some") running.successorHeaders = { traceparent: traceparent(span.value) }
      return run
    })
    return Effect.withSpan(body, `process ${running.queue}`, options)
  }
}

/**
 * Whether spans are recorded: a tracer other than Effect's default, which exports nothing, is in place.
 *
 * @category hooks
 */
export const enabled: Effect.Effect<boolean> = Effect.map(Effect.tracer, (tracer) => tracer !== Tracer.nativeTracer)
