/**
 * Workers in pages, the overview a dashboard refreshes, and unregistering workers whose ping went stale.
 *
 * Costs: a workers page is three round trips whatever the number of workers (the workers set; one pipeline
 * of every worker's ping and whether it is busy, for the counts and the filter; one pipeline of the page's
 * start times, records and counters); the overview is two (one `MULTI` of the sets, counters, leader and
 * newest failures; one pipeline of the queue lengths and busy flags).
 *
 * A stale worker's ping is older than the page's threshold: its process is probably gone. The scheduler's
 * leader reclaims such workers on its own after its dead-worker timeout (one hour by default); an operator can
 * do it sooner with `reclaimStaleWorkers`, which runs the same reclaim (the job fails with "worker died", or is
 * retried under its action's policy, through the worker middlewares).
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import { byName, type Context, strings } from "./Operations.ts"
import { listedAt, page } from "./OperationsListing.ts"
import { countersOf, workerCounters } from "./OperationsWorkers.ts"
import * as SchedulerReclaim from "./SchedulerReclaim.ts"

/** Default ping age past which a worker counts as stale: a dozen missed pings at the default 5 s interval. */
export const defaultStaleAfterMillis = 60_000

/** Failures the overview lists. */
export const recentFailures = 5

/** A member of the workers set (`NAME:QUEUES`), split. */
interface Member {
  readonly member: string
  readonly name: string
  readonly queues: string
}

/** The paged worker operations and the overview on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  const members = Effect.map(
    redis.send<ReadonlyArray<string>>("smembers", keys.workers),
    (all): ReadonlyArray<Member> => all.map((member) => ({ member, ...Resque.workerMember(member) })).sort(byName)
  )

  const workerPage = (options: {
    readonly state?: Ops.WorkerState | undefined
    readonly offset?: number | undefined
    readonly limit?: number | undefined
    readonly staleAfter?: Duration.Input | undefined
  } = {}) =>
    Effect.gen(function*() {
      const { offset, limit } = page(options.offset, options.limit, 50)
      const state = options.state ?? "all"
      const staleAfterMs = options.staleAfter === undefined ? defaultStaleAfterMillis : Duration.toMillis(options.staleAfter)
      const now = yield* Clock.currentTimeMillis
      const all = yield* members
      const flags = all.length === 0
        ? []
        : yield* redis.pipeline(all.flatMap((w) => [["get", keys.ping(w.name)], ["exists", keys.working(w.name, w.queues)]] as const))
      const seen = all.map((w, i) => {
        const ping = flags[2 * i]
        const lastPingAt = typeof ping === "string" ? Resque.pingMillis(ping) : null
        return { ...w, lastPingAt, busy: Resque.count(flags[2 * i + 1]) > 0, stale: lastPingAt !== null && now - lastPingAt > staleAfterMs }
      })
      const inState = seen.filter((w) => state === "all" || (state === "busy" ? w.busy : state === "idle" ? !w.busy : w.stale))
      const shown = inState.slice(offset, offset + limit)
      const details = shown.length === 0
        ? []
        : yield* redis.pipeline(shown.flatMap((w) => [
          ["get", keys.started(w.name, w.queues)],
          ["get", keys.working(w.name, w.queues)],
          ...workerCounters(keys, w)
        ] as const))
      const workers = shown.map((w, i): Ops.WorkerDetails => {
        const started = details[6 * i]
        const working = details[6 * i + 1]
        return {
          name: w.name,
          queues: Resque.queueList(w.queues),
          startedAt: typeof started === "string" ? Resque.millis(started) : null,
          lastPingAt: w.lastPingAt,
          ...countersOf(details, 6 * i + 2),
          stale: w.stale,
          workingOn: Ops.workingOn(typeof working === "string" ? working : null, w.name)
        }
      })
      const busy = seen.filter((w) => w.busy).length
      return {
        total: seen.length,
        busy,
        idle: seen.length - busy,
        stale: seen.filter((w) => w.stale).length,
        state,
        staleAfterMs,
        matched: inState.length,
        offset,
        limit,
        workers
      } satisfies Ops.WorkerPage
    })

  const reclaimStaleWorkers = (staleAfter: Duration.Input) =>
    Effect.map(
      SchedulerReclaim.reclaimDeadWorkers({
        redis,
        keys,
        entries: context.entries,
        middlewareWrites: context.middlewareWrites,
        timeoutMillis: Duration.toMillis(staleAfter),
        fallbackPolicy: undefined,
        scheduler: "operations"
      }),
      (reclaimed) => reclaimed.map((r): Ops.ReclaimedWorker => ({ worker: r.worker, action: r.action ?? null, retried: r.retried }))
    )

  const summary = Effect.gen(function*() {
    const [queueNames, workerMembers, leader, processed, failed, failedCount, newest, delayedTimes, pausedNames] = yield* redis.multi([
      ["smembers", keys.queues],
      ["smembers", keys.workers],
      ["get", keys.leaderLock],
      ["get", keys.stat("processed")],
      ["get", keys.stat("failed")],
      ["llen", keys.failed],
      ["lrange", keys.failed, -recentFailures, -1],
      ["zcard", keys.delayedSchedule],
      ["hkeys", keys.paused]
    ])
    const queues = [...strings(queueNames)].sort()
    const workers = strings(workerMembers).map(Resque.workerMember)
    const counts = queues.length + workers.length === 0
      ? []
      : yield* redis.pipeline([
        ...queues.map((q) => ["llen", keys.queue(q)] as const),
        ...workers.map((w) => ["exists", keys.working(w.name, w.queues)] as const)
      ])
    const paused = new Set(strings(pausedNames))
    const busy = workers.filter((_, i) => Resque.count(counts[queues.length + i]) > 0).length
    const total = Resque.count(failedCount)
    const raws = strings(newest)
    return {
      queues: queues.map((name, i): Ops.QueueInfo => ({ name, length: Resque.count(counts[i]), paused: paused.has(name) })),
      stats: { processed: Resque.count(processed), failed: Resque.count(failed) },
      failedCount: total,
      workers: { total: workers.length, busy, idle: workers.length - busy },
      leader: typeof leader === "string" && leader !== "" ? leader : null,
      delayedTimes: Resque.count(delayedTimes),
      recentFailures: raws.map((raw, k) => ({ ...Ops.failedJob(raw), ...listedAt(raw, total - raws.length + k) })).reverse()
    } satisfies Ops.Summary
  })

  /** Resque's global counters: one `MGET`. */
  const counters = Effect.map(
    redis.send<ReadonlyArray<string | null>>("mget", keys.stat("processed"), keys.stat("failed")),
    ([processed, failed]): Ops.Counters => ({ processed: Resque.count(processed), failed: Resque.count(failed) })
  )

  return { workerPage, reclaimStaleWorkers, summary, counters }
}
