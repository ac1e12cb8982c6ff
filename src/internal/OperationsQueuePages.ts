/**
 * Queues and the delayed schedule in pages, and single jobs taken out of them by their listed id and
 * position: remove one queued job, run a delayed job now, remove a delayed job. A removed fan-out child gets a
 * `Removed` outcome, so its parent still finishes.
 *
 * Costs: a queue page is one round trip (`MULTI` of `LLEN` and `LRANGE`), a delayed page two (the schedule's
 * page of seconds, then one pipeline of their lists, at most {@link perSecond} jobs each), a single job one
 * read to find it (two if it moved) and one write (plus one when it was a fan-out child).
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { CorruptPayload, JobNotFound } from "../domain/Errors.ts"
import * as Job from "../domain/Job.ts"
import * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import { delayedSecond } from "./Enqueue.ts"
import * as FanOutEngine from "./FanOutEngine.ts"
import { type Context, strings } from "./Operations.ts"
import { listedAt, locate, page } from "./OperationsListing.ts"
import * as OperationsPageScripts from "./OperationsPageScripts.ts"

/** Jobs listed per second of the delayed schedule. */
export const perSecond = 20

/** The list name of a delayed second in errors: `delayed:<ms>`. */
const delayedList = (second: number) => `delayed:${second * 1000}`

/** The paged queue and delayed-schedule operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  /** Gives a removed fan-out child an outcome, so its parent still finishes. */
  const recordRemoved = (raw: string, reason: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => FanOutEngine.recordRemoved(context, [raw], reason, now))

  const queuedPage = (queue: string, offsetInput?: number, limitInput?: number) =>
    Effect.gen(function*() {
      const { offset, limit } = page(offsetInput, limitInput)
      const [length, reply] = yield* redis.multi([["llen", keys.queue(queue)], ["lrange", keys.queue(queue), offset, offset + limit - 1]])
      const jobs = strings(reply).map((raw, k): Ops.ListedJob => ({ ...Ops.queuedJob(raw, queue), ...listedAt(raw, offset + k) }))
      return { queue, length: Resque.count(length), offset, limit, jobs } satisfies Ops.QueuePage
    })

  const removeQueued = (queue: string, at: Ops.ListedAt) =>
    Effect.gen(function*() {
      const raw = yield* locate(redis, keys.queue(queue), queue, at)
      const removed = yield* redis.send<number>("lrem", keys.queue(queue), 1, raw)
      if (removed === 0) return yield* new JobNotFound({ list: queue, id: at.id })
      yield* recordRemoved(raw, `removed from queue ${queue}`)
      return Ops.queuedJob(raw, queue)
    })

  const delayedPage = (offsetInput?: number, limitInput?: number) =>
    Effect.gen(function*() {
      const { offset, limit } = page(offsetInput, limitInput)
      const [times, members] = yield* redis.multi([
        ["zcard", keys.delayedSchedule],
        ["zrange", keys.delayedSchedule, offset, offset + limit - 1]
      ])
      const seconds = strings(members).map(Number).filter(Number.isFinite)
      const lists = seconds.length === 0
        ? []
        : yield* redis.pipeline(seconds.flatMap((s) => [["llen", keys.delayed(s)], ["lrange", keys.delayed(s), 0, perSecond - 1]] as const))
      const entries = seconds.flatMap((second, i): ReadonlyArray<Ops.DelayedEntry> => {
        const count = Resque.count(lists[2 * i])
        const raws = strings(lists[2 * i + 1])
        return count === 0 ? [] : [{
          at: second * 1000,
          count,
          jobs: raws.map((raw, k) => ({ ...Ops.queuedJob(raw, ""), ...listedAt(raw, k) }))
        }]
      })
      return { times: Resque.count(times), offset, limit, entries } satisfies Ops.DelayedPage
    })

  /** Takes the delayed job listed at `at` in the second of `atMillis` out; with `runNow`, onto its queue. */
  const takeDelayed = (atMillis: number, at: Ops.ListedAt, runNow: boolean) =>
    Effect.gen(function*() {
      const second = delayedSecond(atMillis)
      const raw = yield* locate(redis, keys.delayed(second), delayedList(second), at)
      const parsed = Job.parse(raw)
      if (runNow && (Result.isFailure(parsed) || parsed.success.queue === "")) {
        return yield* new CorruptPayload({ detail: `delayed job has no queue to run on: ${raw.slice(0, 200)}` })
      }
      const runOn = runNow && Result.isSuccess(parsed) ? parsed.success.queue : undefined
      const taken = yield* redis.eval(OperationsPageScripts.takeDelayed, { keys, second, payload: raw, runOn })
      if (!taken) return yield* new JobNotFound({ list: delayedList(second), id: at.id })
      if (!runNow) yield* recordRemoved(raw, `removed from the delayed schedule at ${new Date(second * 1000).toISOString()}`)
      return Ops.queuedJob(raw, runOn ?? "")
    })

  const runDelayedNow = (atMillis: number, at: Ops.ListedAt) => takeDelayed(atMillis, at, true)
  const removeDelayedJob = (atMillis: number, at: Ops.ListedAt) => takeDelayed(atMillis, at, false)

  return { queuedPage, removeQueued, delayedPage, runDelayedNow, removeDelayedJob }
}
