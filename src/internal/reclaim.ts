/**
 * Reclaiming the jobs of dead workers. A worker that stops pinging for longer than the stuck-worker timeout
 * is unregistered, and the job it was working on follows the same path as a job that failed: the action's
 * retry policy re-enqueues it (attempt + 1, with the policy's delay), otherwise it is failed with "worker
 * died"; either way the outcome goes through the worker middlewares (fan-out) in the same transaction.
 *
 * Each worker is reclaimed in one `WATCH`ed MULTI: if the worker pings again or another scheduler reclaims
 * it first, the transaction aborts and nothing is recorded twice. This replaces node-resque's
 * `forceCleanWorker`, which deletes `worker:NAME` instead of the working-on key `worker:NAME:QUEUES` (leaving
 * the record behind) and writes the failed entry in a separate step from anything we would record.
 */
import { Clock, Effect } from "effect"
import type { Redis as IORedis } from "ioredis"
import type { RetryPolicy } from "../domain/Action.ts"
import type { RedisError } from "../domain/Errors.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Payload from "../domain/Payload.ts"
import type { ActionRegistry } from "../layers/ActionRegistry.ts"
import { addPush, addPushAt, call, exec } from "../layers/Queue.ts"
import type { Middleware } from "../layers/WorkerMiddleware.ts"
import { nextAttempt } from "./retry.ts"

export interface Options {
  /** A dedicated connection: `WATCH` state is per connection. */
  readonly connection: IORedis
  readonly keys: Keys
  readonly registry: ActionRegistry["Service"]
  readonly middlewares: ReadonlyArray<Middleware>
  readonly timeoutMillis: number
  /** The policy for jobs whose action has none (`retryStuckJobs`); undefined: such jobs fail. */
  readonly fallbackPolicy: RetryPolicy | undefined
  /** Recorded in the failed entry's backtrace. */
  readonly scheduler: string
}

/** One reclaimed worker: its job (if it had one) and whether that job was re-enqueued. */
export interface Reclaimed {
  readonly worker: string
  readonly action: string | undefined
  readonly retried: boolean
}

interface Ping {
  readonly time: number
}

const readPing = (raw: string | null): Ping | undefined => {
  if (raw === null) return undefined
  try {
    const json: unknown = JSON.parse(raw)
    if (typeof json !== "object" || json === null) return undefined
    const time: unknown = Reflect.get(json, "time")
    return typeof time === "number" ? { time } : undefined
  } catch {
    return undefined
  }
}

interface WorkingOn {
  readonly queue: string
  readonly payload: unknown
}

const readWorkingOn = (raw: string | null): WorkingOn | undefined => {
  if (raw === null) return undefined
  try {
    const json: unknown = JSON.parse(raw)
    if (typeof json !== "object" || json === null) return { queue: "", payload: raw }
    const queue: unknown = Reflect.get(json, "queue")
    return { queue: typeof queue === "string" ? queue : "", payload: Reflect.get(json, "payload") }
  } catch {
    return { queue: "", payload: raw }
  }
}

/**
 * Registered workers as `{name, queues}`, from the workers set (one round trip, however large the keyspace:
 * node-resque SCANs every key for pings instead). A member is `NAME:QUEUES`; names may hold one colon
 * (`host:pid.N`), so, as node-resque reads them, three or more parts mean the first two are the name.
 */
const registered = (connection: IORedis, keys: Keys) =>
  Effect.map(call("read workers", () => connection.smembers(keys.workers)), (members) =>
    members.map((member) => {
      const parts = member.split(":")
      const nameParts = parts.length >= 3 ? 2 : 1
      return { name: parts.slice(0, nameParts).join(":"), queues: parts.slice(nameParts).join(":") }
    }))

/**
 * Finds registered workers whose ping is older than the timeout and reclaims each. Returns what was reclaimed.
 */
export const reclaimStuckWorkers = (options: Options): Effect.Effect<ReadonlyArray<Reclaimed>, RedisError> =>
  Effect.gen(function*() {
    const { connection, keys } = options
    const workers = yield* registered(connection, keys)
    if (workers.length === 0) return []
    const raws = yield* call("read worker pings", () => connection.mget(...workers.map((w) => keys.ping(w.name))))
    const now = yield* Clock.currentTimeMillis
    const reclaimed: Array<Reclaimed> = []
    for (const [i, worker] of workers.entries()) {
      const ping = readPing(raws[i] ?? null)
      // a registered worker without a ping is left alone (node-resque's own workers ping only once started)
      if (ping === undefined || !isStale(ping, now, options.timeoutMillis)) continue
      const result = yield* reclaimWorker(options, worker.name, worker.queues)
      if (result !== undefined) reclaimed.push(result)
    }
    return reclaimed
  })

const isStale = (ping: Ping, nowMillis: number, timeoutMillis: number) => nowMillis - ping.time * 1000 > timeoutMillis

/** Reclaims one worker atomically; undefined when it pinged again or someone else reclaimed it first. */
const reclaimWorker = (options: Options, worker: string, queues: string) =>
  Effect.gen(function*() {
    const { connection, keys } = options
    const pingKey = keys.ping(worker)
    const workingKey = keys.working(worker, queues)
    yield* call("watch dead worker", () => connection.watch(workingKey, pingKey))
    const [rawPing, rawWorking] = yield* call("read dead worker", () => connection.mget(pingKey, workingKey))
    const now = yield* Clock.currentTimeMillis
    const ping = readPing(rawPing ?? null)
    if (ping === undefined || !isStale(ping, now, options.timeoutMillis)) {
      yield* call("unwatch", () => connection.unwatch())
      return undefined
    }
    const tx = connection.multi()
    tx.srem(keys.workers, `${worker}:${queues}`)
      .del(pingKey, workingKey, keys.started(worker, queues), keys.stat("failed", worker), keys.stat("processed", worker))
    const workingOn = readWorkingOn(rawWorking ?? null)
    let action: string | undefined
    let retried = false
    if (workingOn !== undefined) {
      const seconds = Math.round(now / 1000) - ping.time
      const parsed = Payload.fromObject(workingOn.payload, workingOn.queue)
      const job = parsed._tag === "Success" ? parsed.success : undefined
      action = job?.action
      const entry = job === undefined ? undefined : options.registry.entries.get(job.action)
      const next = job === undefined || entry === undefined
        ? undefined
        : yield* nextAttempt(entry.action.retry ?? options.fallbackPolicy, job, job.queue)
      const outcome = Outcome.failure({
        exception: "WorkerDied",
        error: `worker died: ${worker} sent no ping for ${seconds} s`,
        backtrace: [`reclaimed by scheduler ${options.scheduler}`],
        final: next === undefined,
        durationMs: 0
      })
      tx.incr(keys.stat("failed"))
      if (next !== undefined && job !== undefined) {
        retried = true
        if (next.delayMillis <= 0) addPush(tx, keys, job.queue, [next.payload])
        else addPushAt(tx, keys, now + next.delayMillis, next.payload)
      } else if (outcome._tag === "Failure") {
        tx.rpush(keys.failed, JSON.stringify({
          worker,
          queue: workingOn.queue,
          payload: workingOn.payload,
          exception: outcome.exception,
          error: outcome.error,
          backtrace: outcome.backtrace,
          failed_at: new Date(now).toString()
        }))
      }
      if (job !== undefined) {
        for (const middleware of options.middlewares) {
          middleware.onComplete({ job, outcome, worker }, tx, { client: connection, keys, now })
        }
      }
    }
    const replies = yield* exec(`reclaim dead worker ${worker}`, tx).pipe(
      Effect.map((replies): ReadonlyArray<unknown> | undefined => replies),
      // EXEC answers null when a watched key changed: the worker pinged or another scheduler got there first
      Effect.catchIf((error) => error.cause === "transaction aborted", () => Effect.succeed(undefined))
    )
    if (replies === undefined) return undefined
    return { worker, action, retried }
  }).pipe(Effect.ensuring(call("unwatch", () => options.connection.unwatch()).pipe(Effect.ignore)))
