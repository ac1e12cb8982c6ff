/**
 * What the registered actions have been doing: per action its runs, failures, mean duration and last run
 * (one round trip for all of them); per recurring action also when its waiting copy is due (two round trips
 * for all of them: the chains' markers and stats, then where each live copy waits).
 *
 * The last run is what the `actionStats` worker middleware records (`lastAt`, `lastOk`); the next run is the
 * delayed second of the chain's waiting copy, found by its payload, which is deterministic given the chain's
 * token (the same way `stopRecurrentAction` finds it).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import * as ActionEntry from "./ActionEntry.ts"
import type { Context } from "./Operations.ts"
import * as OperationsRecurring from "./OperationsRecurring.ts"
import * as Recurrence from "./Recurrence.ts"
import * as Recurring from "./Recurring.ts"

const asRecord = (reply: unknown): Readonly<Record<string, unknown>> =>
  typeof reply === "object" && reply !== null && !Array.isArray(reply) ? (reply as Record<string, unknown>) : {}

/** The last run from `lastAt` and `lastOk` (absent before the first run that recorded it). */
const lastRunOf = (lastAt: unknown, lastOk: unknown): Ops.LastRun | null => {
  const at = Number(lastAt)
  return lastAt === undefined || lastAt === null || !Number.isFinite(at) ? null : { at, ok: String(lastOk) === "1" }
}

/** The activity operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context
  const entries = [...context.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const recurringEntries = entries.filter(ActionEntry.recurs)

  const actionActivity = Effect.gen(function*() {
    if (entries.length === 0) return []
    const hashes = yield* redis.pipeline(entries.map((e) => ["hgetall", keys.actionStats(e.name)] as const))
    return entries.map((entry, i): Ops.ActionActivity => {
      const h = asRecord(hashes[i])
      const runs = Resque.count(h["runs"])
      const durationMs = Resque.count(h["durationMs"])
      return {
        action: entry.name,
        description: entry.action.description,
        queue: entry.queue,
        frequencyMs: entry.frequencyMillis ?? null,
        runs,
        failures: Resque.count(h["failures"]),
        durationMs,
        meanDurationMs: runs > 0 ? durationMs / runs : null,
        lastRun: lastRunOf(h["lastAt"], h["lastOk"])
      }
    })
  })

  /** Where a live chain's waiting copy is: the seconds it is delayed at, and whether it waits in its queue. */
  const whereWaiting = (live: ReadonlyArray<{ readonly entry: ActionEntry.Recurring; readonly token: string }>) =>
    Effect.gen(function*() {
      if (live.length === 0) return []
      // the chain's inputs are its Schema's defaults, as the leader starts it (they decode, or it never started)
      const payloads = yield* Effect.forEach(live, ({ entry, token }) =>
        OperationsRecurring.chainOf(entry).pipe(
          Effect.map((chain) => Recurring.payload(chain.queue, chain.action, chain.inputs, token)),
          Effect.orElseSucceed(() => "")
        ))
      const replies = yield* redis.pipeline(live.flatMap(({ entry }, i) => [
        ["smembers", keys.timestamps(payloads[i]!)],
        ["lpos", keys.queue(entry.queue), payloads[i]!]
      ] as const))
      return live.map((_, i) => {
        const seconds = (Array.isArray(replies[2 * i]) ? (replies[2 * i] as ReadonlyArray<unknown>) : [])
          .map((m) => Number(String(m).slice("delayed:".length)))
          .filter(Number.isFinite)
        return { nextRunAt: seconds.length === 0 ? null : Math.min(...seconds) * 1000, queued: replies[2 * i + 1] !== null }
      })
    })

  const recurringDetails = Effect.gen(function*() {
    if (recurringEntries.length === 0) return []
    const replies = yield* redis.pipeline(recurringEntries.flatMap((e) => [
      ["get", keys.recurring(e.name)],
      ["exists", keys.recurringStopped(e.name)],
      ["hmget", keys.actionStats(e.name), "lastAt", "lastOk"]
    ] as const))
    const chains = recurringEntries.map((entry, i) => {
      const token = replies[3 * i]
      const last = replies[3 * i + 2]
      const [lastAt, lastOk] = Array.isArray(last) ? last : []
      return {
        entry,
        token: typeof token === "string" ? token : undefined,
        stopped: Resque.count(replies[3 * i + 1]) > 0,
        lastRun: lastRunOf(lastAt, lastOk)
      }
    })
    const live = chains.flatMap((c) => (c.token === undefined ? [] : [{ entry: c.entry, token: c.token }]))
    const waiting = yield* whereWaiting(live)
    return chains.map((c): Ops.RecurringDetails => {
      const at = c.token === undefined ? undefined : waiting[live.findIndex((l) => l.entry === c.entry)]
      return {
        action: c.entry.name,
        queue: c.entry.queue,
        frequencyMs: c.entry.frequencyMillis ?? 0,
        schedule: Recurrence.describe(c.entry.recurrence),
        stopped: c.stopped,
        live: c.token !== undefined,
        nextRunAt: at?.nextRunAt ?? null,
        queued: at?.queued ?? false,
        lastRun: c.lastRun
      }
    })
  })

  return { actionActivity, recurringDetails }
}
