/**
 * Operations on queues, delayed jobs and locks: list, count, find and remove jobs. Listings are one or two
 * round trips whatever their size (a pipeline, never one call per item); removing a fan-out child gives it an
 * outcome, so its parent still finishes.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import * as FanOutEngine from "./FanOutEngine.ts"
import { type ActionRef, byName, type Context, jobMatcher, nameOf, scan, strings } from "./Operations.ts"
import * as OperationsScripts from "./OperationsScripts.ts"

/** The queue operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  /**
   * The delayed copies of a job, found by value (`jobMatcher`) in the whole schedule: the stored payloads and
   * the seconds each is at. One ZRANGE and one pipeline per 1000 seconds, as `allDelayed`.
   */
  const findDelayed = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.gen(function*() {
      const entry = yield* context.entry(nameOf(action))
      const matches = yield* jobMatcher(context, action, { inputs, forQueue: queue ?? entry.queue })
      const seconds = yield* scheduleSeconds
      const found = new Map<string, Array<number>>()
      for (let i = 0; i < seconds.length; i += 1000) {
        const chunk = seconds.slice(i, i + 1000)
        const lists = yield* redis.pipeline(chunk.map((s) => ["lrange", keys.delayed(s), 0, -1]))
        chunk.forEach((s, j) => {
          for (const raw of new Set(strings(lists[j]))) {
            if (matches(raw)) found.set(raw, [...(found.get(raw) ?? []), s])
          }
        })
      }
      return found
    })

  const scheduledAt = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.map(findDelayed(action, inputs, queue), (found) => [...found.values()].flat().map((s) => s * 1000).sort((a, b) => a - b))

  const delDelayed = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.gen(function*() {
      const found = yield* findDelayed(action, inputs, queue)
      const removed: Array<number> = []
      // one script per distinct stored payload: usually one, one per client that wrote its own spelling
      for (const payload of found.keys()) removed.push(...yield* redis.eval(OperationsScripts.delDelayed, { keys, payload }))
      return removed.map((s) => s * 1000).sort((a, b) => a - b)
    })

  const queues = Effect.gen(function*() {
    const names = yield* redis.send<ReadonlyArray<string>>("smembers", keys.queues)
    if (names.length === 0) return []
    const replies = yield* redis.pipeline([["hkeys", keys.paused], ...names.map((name) => ["llen", keys.queue(name)] as const)])
    const paused = new Set(strings(replies[0]))
    return names.map((name, i): Ops.QueueInfo => ({ name, length: Resque.count(replies[i + 1]), paused: paused.has(name) })).sort(byName)
  })

  const queued = (queue: string, start: number, stop: number) =>
    Effect.map(
      redis.send<ReadonlyArray<string>>("lrange", keys.queue(queue), start, stop),
      (raws) => raws.map((raw) => Ops.queuedJob(raw, queue))
    )

  const length = (queue: string) => redis.send<number>("llen", keys.queue(queue))

  /** Gives removed fan-out children an outcome, so their parents still finish. */
  const recordRemoved = (payloads: ReadonlyArray<string>, reason: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => FanOutEngine.recordRemoved(context, payloads, reason, now))

  const del = (queue: string, action: ActionRef, inputs?: unknown) =>
    Effect.gen(function*() {
      const matches = yield* jobMatcher(context, action, { inputs })
      const raws = yield* redis.send<ReadonlyArray<string>>("lrange", keys.queue(queue), 0, -1)
      const targets = [...new Set(raws.filter(matches))]
      if (targets.length === 0) return 0
      const removed = yield* redis.multi(targets.map((raw) => ["lrem", keys.queue(queue), 0, raw]))
      yield* recordRemoved(targets.filter((_, i) => Resque.count(removed[i]) > 0), `removed from queue ${queue}`)
      return removed.reduce((sum: number, n) => sum + Resque.count(n), 0)
    })

  const delQueue = (queue: string) =>
    Effect.gen(function*() {
      const [raws] = yield* redis.multi([["lrange", keys.queue(queue), 0, -1], ["del", keys.queue(queue)], ["srem", keys.queues, queue]])
      const removed = strings(raws)
      yield* recordRemoved(removed, `removed with queue ${queue}`)
      return removed.length
    })

  /** Delayed lists for the given times (seconds), one pipeline; empty (already promoted) times dropped. */
  const delayedLists = (seconds: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      if (seconds.length === 0) return []
      const lists = yield* redis.pipeline(seconds.map((s) => ["lrange", keys.delayed(s), 0, -1]))
      return seconds.flatMap((s, i): ReadonlyArray<Ops.DelayedJobs> => {
        const raws = strings(lists[i])
        return raws.length === 0 ? [] : [{ at: s * 1000, jobs: raws.map((raw) => Ops.queuedJob(raw, "")) }]
      })
    })

  const scheduleSeconds = Effect.map(
    redis.send<ReadonlyArray<string>>("zrange", keys.delayedSchedule, 0, -1),
    (members) => members.map(Number).filter(Number.isFinite)
  )

  const timestamps = Effect.gen(function*() {
    const seconds = yield* scheduleSeconds
    if (seconds.length === 0) return []
    const lengths = yield* redis.pipeline(seconds.map((s) => ["llen", keys.delayed(s)]))
    return seconds.filter((_, i) => Resque.count(lengths[i]) > 0).map((s) => s * 1000)
  })

  const delayedAt = (at: number) =>
    Effect.map(
      redis.send<ReadonlyArray<string>>("lrange", keys.delayed(Math.round(at / 1000)), 0, -1),
      (raws) => raws.map((raw) => Ops.queuedJob(raw, ""))
    )

  const allDelayed = Effect.gen(function*() {
    const seconds = yield* scheduleSeconds
    const chunks: Array<ReadonlyArray<number>> = []
    for (let i = 0; i < seconds.length; i += 1000) chunks.push(seconds.slice(i, i + 1000))
    const lists = yield* Effect.forEach(chunks, delayedLists)
    return lists.flat()
  })

  const locks = Effect.gen(function*() {
    const found = [...new Set([...(yield* scan(context, keys.key("lock:*"))), ...(yield* scan(context, keys.key("workerslock:*")))])].sort()
    if (found.length === 0) return []
    const values = yield* redis.send<ReadonlyArray<string | null>>("mget", ...found)
    const prefix = keys.key("")
    return found.flatMap((key, i): ReadonlyArray<Ops.LockInfo> => {
      const value = values[i]
      return value === null || value === undefined ? [] : [{ key: key.slice(prefix.length), value }]
    })
  })

  const delLock = (key: string) => Effect.map(redis.send<number>("del", keys.key(key)), (n) => n > 0)

  return { scheduledAt, delDelayed, queues, queued, length, del, delQueue, timestamps, delayedAt, allDelayed, locks, delLock }
}
