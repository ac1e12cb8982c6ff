/**
 * Fan-outs as an operator sees them: the ones in Redis, one's counts and state, and its children in pages.
 *
 * There is no index of fan-outs (a fan-out is its two keys, `fanout:{id}` and `fanout:{id}:outcomes`, which
 * expire together), so listing them walks the keyspace with `SCAN`, in bounded steps: one listing makes at
 * most {@link scanCalls} `SCAN` calls of {@link scanCount} keys and hands back a cursor to go on from, then
 * reads the counts of what it found in one pipeline. Its cost grows with the size of the keyspace, not of the
 * fan-outs; the list is sorted newest first within what one call found.
 *
 * A fan-out's children: `all` is one round trip whatever the fan-out's size (`HMGET` of the page's
 * indexes); `completed`, `failed`, `duplicate` and `pending` read the whole outcomes hash once (one round trip, about
 * 80 bytes per finished child) to find the page. Results and errors are given as stored: encoded by the
 * child action's `output` and `error` Schemas, which is what JSON can carry.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as FanOut from "../domain/FanOut.ts"
import type * as Ops from "../domain/Operations.ts"
import type { Context } from "./Operations.ts"
import { page } from "./OperationsListing.ts"

/** `SCAN` calls one listing makes at most. */
export const scanCalls = 10

/** Keys each `SCAN` call examines (its `COUNT`). */
export const scanCount = 1000

/** The meta-hash fields a summary reads, in `HMGET` order. */
const metaFields = ["total", "completed", "failed", "actions", "queues", "createdAt", "done", "onComplete", "onCompleteQueue", "duplicate"] as const

const parseList = (raw: unknown): ReadonlyArray<string> => {
  if (typeof raw !== "string") return []
  try {
    const parsed: unknown = JSON.parse(raw)
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : []
  } catch {
    return []
  }
}

const numberOr = (raw: unknown, fallback: number): number => {
  const n = typeof raw === "string" || typeof raw === "number" ? Number(raw) : Number.NaN
  return Number.isFinite(n) ? n : fallback
}

/** The action named at the start of an `onComplete` payload prefix (`{"class":"name",...`). */
const completionAction = (prefix: string): string | null => {
  const match = /^\{"class":("(?:[^"\\]|\\.)*")/.exec(prefix)
  if (match === null) return null
  try {
    const name: unknown = JSON.parse(match[1]!)
    return typeof name === "string" ? name : null
  } catch {
    return null
  }
}

/** A summary from the meta hash's fields (in {@link metaFields} order) and its PTTL; undefined if it is not a fan-out. */
const summaryOf = (fanOutId: string, values: ReadonlyArray<unknown>, pttl: unknown): Ops.FanOutSummary | undefined => {
  const [total, completed, failed, actions, queues, createdAt, done, onComplete, onCompleteQueue, duplicate] = values
  if (total === null || total === undefined) return undefined
  const counts = { total: numberOr(total, 0), completed: numberOr(completed, 0), failed: numberOr(failed, 0), duplicate: numberOr(duplicate, 0) }
  const ttl = numberOr(pttl, -1)
  const finished = counts.completed + counts.failed + counts.duplicate
  return {
    fanOutId,
    ...counts,
    pending: Math.max(0, counts.total - finished),
    done: finished >= counts.total,
    actionNames: parseList(actions),
    queues: parseList(queues),
    createdAt: numberOr(createdAt, 0),
    doneAt: done === null || done === undefined ? null : numberOr(done, 0),
    expiresInMs: ttl >= 0 ? ttl : null,
    onComplete: typeof onComplete === "string" && typeof onCompleteQueue === "string"
      ? { action: completionAction(onComplete), queue: onCompleteQueue, enqueued: done !== null && done !== undefined }
      : null
  }
}

/** One child from its index and stored outcome (none: pending). */
const childOf = (index: number, raw: unknown): Ops.FanOutChild => {
  const outcome = typeof raw === "string" ? FanOut.decodeOutcome(raw) : undefined
  if (outcome === undefined) return { index, status: "pending", action: null, inputs: null }
  if (outcome.duplicateOf !== undefined) return { index, status: "duplicate", action: outcome.action, inputs: outcome.inputs, duplicateOf: outcome.duplicateOf }
  if (outcome.ok) return { index, status: "completed", action: outcome.action, inputs: outcome.inputs, result: outcome.value }
  const error = typeof outcome.value === "string" && outcome.value.length > 0 ? outcome.value : outcome.exception ?? "Error"
  return {
    index,
    status: "failed",
    action: outcome.action,
    inputs: outcome.inputs,
    exception: outcome.exception ?? "Error",
    error,
    ...(outcome.data === undefined ? {} : { data: outcome.data })
  }
}

const asRecord = (reply: unknown): Readonly<Record<string, unknown>> =>
  typeof reply === "object" && reply !== null && !Array.isArray(reply) ? (reply as Record<string, unknown>) : {}

/** The fan-out operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context
  const prefix = keys.fanOut("")

  const summaries = (ids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      if (ids.length === 0) return []
      const replies = yield* redis.pipeline(ids.flatMap((id) => [["hmget", keys.fanOut(id), ...metaFields], ["pttl", keys.fanOut(id)]] as const))
      return ids.flatMap((id, i) => {
        const values = replies[2 * i]
        const summary = summaryOf(id, Array.isArray(values) ? values : [], replies[2 * i + 1])
        return summary === undefined ? [] : [summary]
      })
    })

  const fanOuts = (options: { readonly cursor?: string | undefined; readonly limit?: number | undefined } = {}) =>
    Effect.gen(function*() {
      const { limit } = page(0, options.limit, 50)
      const found = new Set<string>()
      let cursor = options.cursor !== undefined && /^\d+$/.test(options.cursor) ? options.cursor : "0"
      let scannedKeys = 0
      for (let call = 0; call < scanCalls; call++) {
        const [next, batch] = yield* redis.send<readonly [string, ReadonlyArray<string>]>("scan", cursor, "MATCH", `${prefix}*`, "COUNT", scanCount)
        scannedKeys += batch.length
        // `fanout:{id}` and `fanout:{id}:outcomes` both match: the meta hash is the one with a `total` (checked below)
        for (const key of batch) found.add(key.endsWith(":outcomes") ? key.slice(prefix.length, -":outcomes".length) : key.slice(prefix.length))
        cursor = String(next)
        if (cursor === "0" || found.size >= limit) break
      }
      const list = [...(yield* summaries([...found]))].sort((a, b) => b.createdAt - a.createdAt || (a.fanOutId < b.fanOutId ? -1 : 1))
      return { fanOuts: list, cursor: cursor === "0" ? null : cursor, scannedKeys } satisfies Ops.FanOutList
    })

  const fanOutSummary = (fanOutId: string) =>
    Effect.flatMap(summaries([fanOutId]), ([summary]) =>
      summary === undefined ? Effect.fail(new FanOut.FanOutNotFound({ fanOutId })) : Effect.succeed(summary))

  const fanOutChildren = (
    fanOutId: string,
    options: { readonly status?: Ops.ChildStatus | undefined; readonly offset?: number | undefined; readonly limit?: number | undefined } = {}
  ) =>
    Effect.gen(function*() {
      const { offset, limit } = page(options.offset, options.limit)
      const status = options.status ?? "all"
      const meta = ["hmget", keys.fanOut(fanOutId), "total"] as const
      const indexes = Array.from({ length: limit }, (_, k) => offset + k)
      const [counts, outcomes] = yield* redis.pipeline(
        status === "all" ? [meta, ["hmget", keys.fanOutOutcomes(fanOutId), ...indexes]] : [meta, ["hgetall", keys.fanOutOutcomes(fanOutId)]]
      )
      const [total] = (Array.isArray(counts) ? counts : []).map((v) => (v === null ? undefined : numberOr(v, 0)))
      if (total === undefined) return yield* new FanOut.FanOutNotFound({ fanOutId })
      const result = (matched: number, children: ReadonlyArray<Ops.FanOutChild>): Ops.FanOutChildren =>
        ({ fanOutId, status, matched, offset, limit, children })
      if (status === "all") {
        const values = Array.isArray(outcomes) ? outcomes : []
        return result(total, indexes.filter((index) => index < total).map((index, k) => childOf(index, values[k])))
      }
      const stored = asRecord(outcomes)
      if (status === "pending") {
        const pending: Array<number> = []
        for (let index = 0; index < total; index++) if (stored[String(index)] === undefined) pending.push(index)
        return result(pending.length, pending.slice(offset, offset + limit).map((index) => childOf(index, undefined)))
      }
      const wanted = status === "completed" ? "o" : status === "duplicate" ? "d" : "e"
      const matching = Object.keys(stored)
        .filter((field) => String(stored[field]).startsWith(wanted))
        .map(Number)
        .filter(Number.isInteger)
        .sort((a, b) => a - b)
      return result(matching.length, matching.slice(offset, offset + limit).map((index) => childOf(index, stored[String(index)])))
    })

  return { fanOuts, fanOutSummary, fanOutChildren }
}
