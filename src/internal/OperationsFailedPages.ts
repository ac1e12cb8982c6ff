/**
 * The failed list in pages: newest first (or oldest first), with an exact filter by action and error tag,
 * finding a listed record again, and retrying or removing every record a filter matches.
 *
 * Costs, for a list of any size:
 * - a page without a filter is one round trip (`MULTI` of `LLEN` and one `LRANGE`);
 * - a page with a filter examines at most {@link scanBudget} records, {@link scanChunk} per round trip (so at
 *   most 4), and says where the next page starts: the filter runs here, exactly, on the decoded records (a
 *   cheap text test skips the records that cannot match before any is decoded);
 * - a bulk retry or removal reads the list once, {@link bulkChunk} records per round trip, and takes the
 *   matches of each chunk out with one script (`takeFailed`): 2 round trips per 1 000 records, Redis busy a
 *   few milliseconds at a time, never one `LREM` scan per record. Records appended while it runs (a retried
 *   job failing again) are left for the next run, so it always ends.
 *
 * @since 0.2.0
 */
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Ops from "../domain/Operations.ts"
import type { Context } from "./Operations.ts"
import { listedAt, locate, page } from "./OperationsListing.ts"
import * as OperationsPageScripts from "./OperationsPageScripts.ts"

/** Records examined by one filtered page at most. */
export const scanBudget = 10_000

/** Records read per round trip by a filtered page. */
export const scanChunk = 2_500

/** Records read per round trip by a bulk retry or removal. */
export const bulkChunk = 1_000

/** The options of a failed-list page. */
export interface FailedQuery {
  readonly offset?: number | undefined
  readonly limit?: number | undefined
  readonly order?: Ops.FailedOrder | undefined
  readonly action?: string | undefined
  readonly exception?: string | undefined
}

/** The filter with its empty parts left out. */
const filterOf = (query: { readonly action?: string | undefined; readonly exception?: string | undefined }): Ops.FailedFilter => ({
  ...(query.action === undefined || query.action === "" ? {} : { action: query.action }),
  ...(query.exception === undefined || query.exception === "" ? {} : { exception: query.exception })
})

const isEmpty = (filter: Ops.FailedFilter) => filter.action === undefined && filter.exception === undefined

/**
 * The filter as a test on stored records: a text test first (the JSON strings of the wanted values must
 * appear in the record), then the exact test on the decoded record.
 */
const matcher = (filter: Ops.FailedFilter) => {
  const needles = [filter.action, filter.exception].filter((v): v is string => v !== undefined).map((v) => JSON.stringify(v))
  return (raw: string): Ops.FailedJob | undefined => {
    for (const needle of needles) if (!raw.includes(needle)) return undefined
    const job = Ops.failedJob(raw)
    if (filter.action !== undefined && job.action !== filter.action) return undefined
    if (filter.exception !== undefined && job.exception !== filter.exception) return undefined
    return job
  }
}

/** What a retry re-enqueues: the record's queue and its payload exactly as stored (metadata kept). */
const retryOf = (job: Ops.FailedJob) => {
  const payload = typeof job.payload === "string" ? job.payload : JSON.stringify(job.payload) ?? ""
  return job.queue === "" || payload === "" || job.payload === null ? undefined : { queue: job.queue, payload }
}

const listed = (raw: string, position: number): Ops.ListedFailedJob => ({ ...Ops.failedJob(raw), ...listedAt(raw, position) })

/** The paged failed-list operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  /** Reads head indexes `from..to` (inclusive). */
  const range = (from: number, to: number) =>
    to < from ? Effect.succeed([] as ReadonlyArray<string>) : redis.send<ReadonlyArray<string>>("lrange", keys.failed, from, to)

  const unfiltered = (order: Ops.FailedOrder, offset: number, limit: number) =>
    Effect.gen(function*() {
      const [length, reply] = yield* redis.multi([
        ["llen", keys.failed],
        order === "newest" ? ["lrange", keys.failed, -(offset + limit), -(offset + 1)] : ["lrange", keys.failed, offset, offset + limit - 1]
      ])
      const total = Number(length ?? 0)
      const raws = Array.isArray(reply) ? reply.map(String) : []
      const jobs = order === "newest"
        ? raws.reverse().map((raw, k) => listed(raw, total - 1 - offset - k))
        : raws.map((raw, k) => listed(raw, offset + k))
      return { total, jobs, scanned: jobs.length, next: offset + limit < total ? offset + limit : null }
    })

  const filtered = (order: Ops.FailedOrder, offset: number, limit: number, filter: Ops.FailedFilter) =>
    Effect.gen(function*() {
      const test = matcher(filter)
      const total = yield* redis.send<number>("llen", keys.failed)
      const jobs: Array<Ops.ListedFailedJob> = []
      let scanned = 0
      // head indexes are stable while the scan runs (new records are appended): positions come from `total`
      while (scanned < scanBudget && offset + scanned < total && jobs.length < limit) {
        const count = Math.min(scanChunk, scanBudget - scanned, total - offset - scanned)
        const first = offset + scanned
        const raws = order === "newest"
          ? [...(yield* range(total - first - count, total - 1 - first))].reverse()
          : yield* range(first, first + count - 1)
        let k = 0
        for (; k < raws.length && jobs.length < limit; k++) {
          const raw = raws[k]!
          const job = test(raw)
          if (job === undefined) continue
          const position = order === "newest" ? total - 1 - (first + k) : first + k
          jobs.push({ ...job, ...listedAt(raw, position) })
        }
        scanned += k
        if (raws.length < count) break
      }
      const next = offset + scanned < total ? offset + scanned : null
      return { total, jobs, scanned, next }
    })

  const failedPage = (query: FailedQuery = {}) =>
    Effect.gen(function*() {
      const { offset, limit } = page(query.offset, query.limit)
      const order = query.order ?? "newest"
      const filter = filterOf(query)
      const found = isEmpty(filter) ? yield* unfiltered(order, offset, limit) : yield* filtered(order, offset, limit, filter)
      return { ...found, order, offset, limit, filter } satisfies Ops.FailedPage
    })

  /** The failed record listed at `at` (1 round trip, 2 if it moved), decoded. */
  const findFailed = (at: Ops.ListedAt) => Effect.map(locate(redis, keys.failed, "failed", at), Ops.failedJob)

  /**
   * Retries (re-enqueues and removes) or removes every failed record the filter matches; without a filter a
   * removal is one `DEL`.
   */
  const failedWhere = (mode: "retry" | "remove", filterInput: Ops.FailedFilter = {}) =>
    Effect.gen(function*() {
      const filter = filterOf(filterInput)
      if (mode === "remove" && isEmpty(filter)) {
        const [length] = yield* redis.multi([["llen", keys.failed], ["del", keys.failed]])
        const n = Number(length ?? 0)
        return { matched: n, done: n, skipped: 0, notRetryable: 0 } satisfies Ops.FailedBulk
      }
      const test = isEmpty(filter) ? (raw: string) => Ops.failedJob(raw) : matcher(filter)
      const tombstone = `effect-resque:taken:${randomUUID()}`
      let remaining = yield* redis.send<number>("llen", keys.failed)
      let start = 0
      let matched = 0
      let done = 0
      let skipped = 0
      let notRetryable = 0
      while (start < remaining) {
        const raws = yield* range(start, Math.min(start + bulkChunk, remaining) - 1)
        if (raws.length === 0) break
        const records: Array<OperationsPageScripts.TakenRecord> = []
        raws.forEach((raw, k) => {
          const job = test(raw)
          if (job === undefined) return
          matched++
          if (mode === "remove") return records.push({ index: start + k, record: raw })
          const retry = retryOf(job)
          if (retry === undefined) notRetryable++
          else records.push({ index: start + k, record: raw, retry })
        })
        let taken = 0
        if (records.length > 0) {
          const replies = yield* redis.eval(OperationsPageScripts.takeFailed, { keys, tombstone, records })
          taken = replies.filter(Boolean).length
        }
        done += taken
        skipped += records.length - taken
        // the taken records are gone: the next chunk starts that much closer to the head
        start += raws.length - taken
        remaining -= taken
      }
      return { matched, done, skipped, notRetryable } satisfies Ops.FailedBulk
    })

  return { failedPage, findFailed, failedWhere }
}
