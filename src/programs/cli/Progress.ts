/**
 * A live progress display for a fan-out: completed / failed / total and the rate, redrawn in place on a
 * terminal (one line per second otherwise), on stderr so stdout keeps only the final JSON summary. Polls
 * the counts only (one HMGET a tick); the full status is read once, at the end.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { FanOutNotFound } from "../../domain/FanOut.ts"
import { Actions } from "../../layers/Actions.ts"
import { Redis } from "../../layers/Redis.ts"
import { Quiet } from "./Shared.ts"

interface Counts {
  readonly total: number
  readonly completed: number
  readonly failed: number
  /** Unique children not written because another job held their claim (shown when not 0). */
  readonly duplicate?: number
}

const width = 24

/** One progress line. @category rendering */
export const render = (counts: Counts, elapsedMs: number): string => {
  const duplicate = counts.duplicate ?? 0
  const finished = counts.completed + counts.failed + duplicate
  const ratio = counts.total === 0 ? 1 : Math.min(1, finished / counts.total)
  const filled = Math.round(ratio * width)
  const rate = elapsedMs > 0 ? (finished * 1000) / elapsedMs : 0
  const eta = rate > 0 && finished < counts.total ? ` eta ${Math.ceil((counts.total - finished) / rate)}s` : ""
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${finished}/${counts.total} ` +
    `completed ${counts.completed} failed ${counts.failed}${duplicate > 0 ? ` duplicate ${duplicate}` : ""} ${rate.toFixed(1)}/s${eta}`
}

/**
 * Shows progress until every child of the fan-out has an outcome (or the fan-out disappears), then returns
 * a summary: the counts, the time taken, the rate and the failed children.
 *
 * @category programs
 */
export const watch = (fanOutId: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const actions = yield* Actions
    const quiet = yield* Quiet
    const tty = process.stderr.isTTY === true
    const started = yield* Clock.currentTimeMillis
    const read = redis.send<ReadonlyArray<string | null>>("hmget", redis.keys.fanOut(fanOutId), "total", "completed", "failed", "duplicate")
    let lastLine = ""
    let lastPrinted = 0
    const show = (line: string, now: number, final: boolean) =>
      Effect.sync(() => {
        if (quiet) return
        if (tty) process.stderr.write(`\r\x1b[K${line}${final ? "\n" : ""}`)
        else if (final || (line !== lastLine && now - lastPrinted >= 1000)) {
          process.stderr.write(`${line}\n`)
          lastPrinted = now
        }
        lastLine = line
      })
    // ends when every child has an outcome or the fan-out is gone (its keys expire): bounded by its TTL
    while (true) {
      const [total, completed, failed, duplicate] = yield* read
      if (total === null || total === undefined) return yield* new FanOutNotFound({ fanOutId })
      const counts = { total: Number(total), completed: Number(completed ?? 0), failed: Number(failed ?? 0), duplicate: Number(duplicate ?? 0) }
      const now = yield* Clock.currentTimeMillis
      const done = counts.completed + counts.failed + counts.duplicate >= counts.total
      yield* show(render(counts, now - started), now, done)
      if (done) break
      yield* Effect.sleep("200 millis")
    }
    const status = yield* actions.fanOutStatus(fanOutId)
    const elapsedMs = (yield* Clock.currentTimeMillis) - started
    return {
      fanOutId,
      total: status.total,
      completed: status.completed,
      failed: status.failed,
      ...(status.duplicate > 0 ? { duplicate: status.duplicate, duplicates: status.duplicates } : {}),
      elapsedMs,
      perSecond: elapsedMs > 0 ? Math.round(((status.completed + status.failed + status.duplicate) * 1000 / elapsedMs) * 10) / 10 : 0,
      errors: status.errors
    }
  })
