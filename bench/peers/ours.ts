/**
 * Our side of the benchmark: the runtime as a user builds it (Runtime layer on the live Redis layer, under
 * the run's prefix as namespace), a no-op action, `Actions.enqueue`, `fanOut`, `fanOutStatus` and the
 * `Worker` pool with its default middlewares (per-action stats and the fan-out recorder).
 */
import { Effect, Layer, PubSub, Schema } from "effect"
import type { Redis as IORedis } from "ioredis"
import * as Action from "../../src/domain/Action.ts"
import { Actions } from "../../src/layers/Actions.ts"
import { ResqueQueue } from "../../src/layers/Queue.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as Runtime from "../../src/layers/Runtime.ts"
import * as Worker from "../../src/layers/Worker.ts"
import { type Checks, chunks, startWindow, type Window } from "../lib/child.ts"
import type { CaseInput } from "../lib/protocol.ts"

export const QUEUE = "bench"

export const queueKey = (input: CaseInput): string => `${input.prefix}:queue:${QUEUE}`

/** The no-op action; `onRun` lets a case note when the first job starts. */
export const makeNoop = (onRun: () => void = () => {}) =>
  Action.make({
    name: "noop",
    description: "Does nothing (benchmark)",
    inputs: Schema.Struct({ i: Schema.Finite }),
    run: () => Effect.sync(onRun),
    task: { queue: QUEUE }
  })

/** The runtime core on the run's Redis, under its prefix. */
export const layer = (input: CaseInput, onRun?: () => void) =>
  Runtime.layer({ actions: [makeNoop(onRun)] }).pipe(
    Layer.provideMerge(Redis.layer({ url: input.redisUrl, namespace: input.prefix }))
  )

/** Runs a program on the runtime layer, as a promise. */
export const run = <A, E>(input: CaseInput, program: Effect.Effect<A, E, Runtime.Services | Redis.Redis>, onRun?: () => void): Promise<A> =>
  Effect.runPromise(program.pipe(Effect.provide(layer(input, onRun))))

/** Enqueue one at a time with `Actions.enqueue`, timed. */
export const enqueueSingleTimed = (input: CaseInput, harness: IORedis) =>
  run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const window = startWindow(harness)
    for (let i = 0; i < input.n; i++) yield* actions.enqueue("noop", { i })
    return yield* Effect.promise(() => window.end())
  }))

/** Pre-fills the queue with `n` plain jobs (one MULTI per 100). */
const prefillPlain = (n: number) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    const queue = yield* ResqueQueue
    for (const batch of chunks(Array.from({ length: n }, (_, i) => i), 100)) {
      const payloads = yield* Effect.forEach(batch, (i) => Effect.map(actions.prepare("noop", { i }), (job) => job.payload))
      yield* queue.push(QUEUE, payloads)
    }
  })

/**
 * Processes `n` pre-filled jobs with the Worker (`concurrency` slots), timed from the first job started to
 * the n-th completion written (the worker publishes its event after the completion MULTI).
 */
export const processTimed = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  let window: Window | undefined
  const onRun = () => {
    if (window === undefined) window = startWindow(harness)
  }
  const concurrency = input.params["concurrency"] ?? 25
  const counted = await run(input, Effect.gen(function*() {
    yield* prefillPlain(input.n)
    return yield* Effect.scoped(Effect.gen(function*() {
      const worker = yield* Worker.make({ queues: [QUEUE], concurrency })
      const events = yield* PubSub.subscribe(worker.events)
      let succeeded = 0
      let failed = 0
      while (succeeded + failed < input.n) {
        for (const event of yield* PubSub.takeAll(events)) {
          if (event.outcome._tag === "Success") succeeded++
          else failed++
        }
      }
      const measured = yield* Effect.promise(() => (window as Window).end())
      return { succeeded, failed, measured }
    }))
  }), onRun)
  checks.equal("succeeded", counted.succeeded, input.n)
  checks.equal("failed", counted.failed, 0)
  checks.equal("jobs left", await harness.llen(queueKey(input)), 0)
  checks.equal("stat:processed", Number(await harness.get(`${input.prefix}:stat:processed`)), input.n)
  checks.equal("failed list", await harness.llen(`${input.prefix}:failed`), 0)
  return counted.measured
}

/** Enqueue as a fan-out, timed. */
export const fanOutTimed = (
  _input: CaseInput,
  _harness: IORedis,
  _options: { readonly batchSize: number; readonly inFlight: number }
): Promise<Awaited<ReturnType<Window["end"]>>> => Promise.reject(new Error("fan-out not available yet"))
