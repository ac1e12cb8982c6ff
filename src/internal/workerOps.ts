/**
 * Worker operations of the `Tasks` service: registered workers, what they run, and cleaning workers stuck on
 * a job. Reads are one SMEMBERS plus one pipeline whatever the number of workers.
 *
 * Cleaning replaces node-resque's `cleanOldWorkers`/`forceCleanWorker`, which delete `worker:NAME` instead of
 * the working-on key `worker:NAME:QUEUES` (leaving the record behind) and record nothing beyond the failed
 * list. Here each stuck worker is one WATCHed MULTI, on a connection of its own (WATCH state is per
 * connection): unregister, fail the job, and every worker middleware's writes (fan-out counts, action stats).
 */
import { Clock, Duration, Effect, Option } from "effect"
import type { Redis as IORedis } from "ioredis"
import { RedisError, UnknownWorker } from "../domain/Errors.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Payload from "../domain/Payload.ts"
import * as T from "../domain/Tasks.ts"
import { call, exec } from "../layers/Queue.ts"
import type { Redis } from "../layers/Redis.ts"
import { defineScripts, type Middleware, recordOutcome } from "../layers/WorkerMiddleware.ts"

/** A member of the workers set (`NAME:QUEUES`), split. */
interface Member {
  readonly member: string
  readonly name: string
  readonly queues: string
}

const byName = <A extends { readonly name: string }>(a: A, b: A) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** Builds the worker operations on the runtime's Redis and worker middlewares. */
export const make = (redis: Redis["Service"], middlewares: ReadonlyArray<Middleware>) => {
  const { client, keys } = redis

  const members = Effect.map(
    call("read workers", () => client.smembers(keys.workers)),
    (all): ReadonlyArray<Member> => all.map((member) => ({ member, ...T.workerMember(member) }))
  )

  const workers = Effect.gen(function*() {
    const all = yield* members
    if (all.length === 0) return []
    const tx = client.pipeline()
    for (const w of all) tx.get(keys.started(w.name, w.queues)).get(keys.ping(w.name))
    const replies = yield* exec("read worker records", tx)
    return all.map((w, i): T.WorkerInfo => {
      const started = replies[2 * i]
      const ping = replies[2 * i + 1]
      return {
        name: w.name,
        queues: T.queueList(w.queues),
        startedAt: typeof started === "string" ? T.millis(started) : null,
        lastPingAt: typeof ping === "string" ? T.pingMillis(ping) : null
      }
    }).sort(byName)
  })

  const workingOn = (worker: string) =>
    Effect.gen(function*() {
      const found = (yield* members).find((w) => w.name === worker)
      if (found === undefined) return yield* new UnknownWorker({ worker })
      const raw = yield* call(`read worker ${worker}`, () => client.get(keys.working(found.name, found.queues)))
      return Option.fromNullishOr(T.workingOn(raw, worker))
    })

  /** Busy workers with their records: one SMEMBERS and one pipeline. */
  const busy = Effect.gen(function*() {
    const all = yield* members
    if (all.length === 0) return []
    const tx = client.pipeline()
    for (const w of all) tx.get(keys.working(w.name, w.queues))
    const raws = yield* exec("read working-on records", tx)
    return all.flatMap((member, i) => {
      const raw = raws[i]
      const record = T.workingOn(typeof raw === "string" ? raw : null, member.name)
      return record === null ? [] : [{ member, record }]
    }).sort((a, b) => byName(a.member, b.member))
  })

  const allWorkingOn = Effect.map(busy, (all) => all.map((w) => w.record))

  /**
   * Fails a stuck worker's job and unregisters it in one WATCHed MULTI (3 round trips: WATCH, GET, MULTI/EXEC);
   * false if the worker moved on. The connection is this call's own and closed after it, so a failure midway
   * leaves no WATCH behind.
   */
  const cleanOne = (connection: IORedis, member: Member, w: T.WorkingOn) =>
    Effect.gen(function*() {
      const workingKey = keys.working(member.name, member.queues)
      yield* call("watch stuck worker", () => connection.watch(workingKey))
      const current = yield* call("read stuck worker", () => connection.get(workingKey))
      if (current !== w.raw) {
        yield* call("unwatch", () => connection.unwatch())
        return false
      }
      const now = yield* Clock.currentTimeMillis
      const ranFor = now - (w.runAt ?? now)
      const outcome = Outcome.failure({
        exception: "WorkerTimeout",
        error: `stuck: worker ${w.worker} ran this job for ${Math.round(ranFor / 1000)} s; failed by cleanOldWorkers`,
        backtrace: [`cleaned at ${new Date(now).toISOString()}`, "Tasks.cleanOldWorkers"],
        final: true,
        durationMs: ranFor
      })
      const tx = connection.multi()
        .incr(keys.stat("failed"))
        .srem(keys.workers, member.member)
        .del(workingKey, keys.ping(member.name), keys.started(member.name, member.queues))
        .del(keys.stat("failed", member.name), keys.stat("processed", member.name))
      if (outcome._tag === "Failure") {
        tx.rpush(keys.failed, JSON.stringify({
          worker: w.worker,
          queue: w.queue,
          payload: w.payload,
          exception: outcome.exception,
          error: outcome.error,
          backtrace: outcome.backtrace,
          failed_at: new Date(now).toString()
        }))
      }
      const parsed = Payload.fromObject(w.payload, w.queue)
      if (parsed._tag === "Success") {
        recordOutcome(middlewares, { job: parsed.success, outcome, worker: w.worker }, tx, { client: connection, keys, now })
      }
      const replies = yield* call("clean stuck worker", () => tx.exec())
      // null: the watched record changed (the job finished meanwhile); nothing was written
      if (replies === null) return false
      const failed = replies.find(([error]) => error !== null)
      if (failed) return yield* new RedisError({ op: "clean stuck worker", cause: failed[0] })
      return true
    })

  const cleanOldWorkers = (age: Duration.Input) =>
    Effect.gen(function*() {
      const ageMillis = Duration.toMillis(age)
      const now = yield* Clock.currentTimeMillis
      const stale = (yield* busy).filter(({ record }) => record.runAt !== null && now - record.runAt > ageMillis)
      if (stale.length === 0) return []
      return yield* Effect.scoped(Effect.gen(function*() {
        const connection = yield* redis.connect
        defineScripts(middlewares, connection)
        const cleaned: Array<T.WorkingOn> = []
        for (const { member, record } of stale) {
          if (yield* cleanOne(connection, member, record)) cleaned.push(record)
        }
        return cleaned
      }))
    })

  return { members, workers, workingOn, allWorkingOn, cleanOldWorkers }
}
