/**
 * Operations on the failed list: count, list, remove and retry. A record is matched by its exact stored
 * string, as Resque does; a retry removes the record and re-enqueues its original payload (`_job` metadata,
 * such as a fan-out child's id and index, kept) in one script, so a record is never re-enqueued twice.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { CorruptPayload, FailedJobNotFound } from "../domain/Errors.ts"
import * as Ops from "../domain/Operations.ts"
import type { Context } from "./Operations.ts"
import * as OperationsScripts from "./OperationsScripts.ts"

/** Records retried per script call by `retryAllFailed`. */
const retryBatch = 500

/** What a retry writes: the record's queue and its payload exactly as stored (metadata kept). */
const retryOf = (job: Ops.FailedJob): OperationsScripts.Retry | undefined => {
  const payload = typeof job.payload === "string" ? job.payload : JSON.stringify(job.payload) ?? ""
  return job.queue === "" || payload === "" || job.payload === null ? undefined : { record: job.raw, queue: job.queue, payload }
}

/** The failed-list operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  const failedCount = redis.send<number>("llen", keys.failed)

  const failed = (start: number, stop: number) =>
    Effect.map(redis.send<ReadonlyArray<string>>("lrange", keys.failed, start, stop), (raws) => raws.map(Ops.failedJob))

  const removeFailed = (job: Ops.FailedJob) =>
    Effect.flatMap(redis.send<number>("lrem", keys.failed, 1, job.raw), (n) =>
      n > 0 ? Effect.void : Effect.fail(new FailedJobNotFound({ action: job.action, raw: job.raw })))

  const retryAndRemoveFailed = (job: Ops.FailedJob) =>
    Effect.gen(function*() {
      const retry = retryOf(job)
      if (retry === undefined) {
        return yield* new CorruptPayload({ detail: `failed record has no queue or payload to retry: ${job.raw.slice(0, 200)}` })
      }
      const [done] = yield* redis.eval(OperationsScripts.retryFailed, { keys, retries: [retry] })
      if (done !== true) return yield* new FailedJobNotFound({ action: job.action, raw: job.raw })
    })

  const retryAllFailed = (filter: (job: Ops.FailedJob) => boolean = () => true) =>
    Effect.gen(function*() {
      const retries = (yield* failed(0, -1)).flatMap((job) => {
        const retry = filter(job) ? retryOf(job) : undefined
        return retry === undefined ? [] : [retry]
      })
      let retried = 0
      for (let i = 0; i < retries.length; i += retryBatch) {
        const done = yield* redis.eval(OperationsScripts.retryFailed, { keys, retries: retries.slice(i, i + retryBatch) })
        retried += done.filter(Boolean).length
      }
      return retried
    })

  return { failedCount, failed, removeFailed, retryAndRemoveFailed, retryAllFailed }
}
