/**
 * The overview's throughput sparkline. Resque keeps totals only (`stat:processed`, `stat:failed`), so the
 * dashboard samples them itself: one `MGET` every `every` (default 5 s) by a fiber in the dashboard's scope,
 * the last `keep` samples (default 120, ten minutes) in memory. The graph therefore starts when the dashboard
 * does; a sample that fails (Redis down) is skipped, and the graph shows the gap.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { Operations } from "../../layers/Operations.ts"
import type { Sample } from "./DashboardApi.ts"

/** Sampling options. @category models */
export interface Options {
  readonly every?: Duration.Input
  readonly keep?: number
}

/** The samples so far, oldest first. @category models */
export interface Throughput {
  readonly everyMs: number
  readonly samples: Effect.Effect<ReadonlyArray<Sample>>
}

/**
 * Starts sampling in the current scope.
 *
 * @category constructors
 */
export const make = (operations: Operations["Service"], options: Options = {}) =>
  Effect.gen(function*() {
    const everyMs = Math.max(100, Duration.toMillis(options.every ?? "5 seconds"))
    const keep = Math.max(2, Math.floor(options.keep ?? 120))
    const samples: Array<Sample> = []
    const sample = Effect.gen(function*() {
      const counters = yield* operations.counters
      samples.push({ at: yield* Clock.currentTimeMillis, ...counters })
      if (samples.length > keep) samples.splice(0, samples.length - keep)
    }).pipe(Effect.ignore)
    yield* sample.pipe(Effect.repeat(Schedule.spaced(everyMs)), Effect.forkScoped)
    return { everyMs, samples: Effect.sync(() => samples.slice()) } satisfies Throughput
  })

/**
 * Jobs per second between consecutive samples (processed and failed), for the sparkline; a counter that went
 * down (Resque's stats were reset) counts as 0.
 *
 * @category combinators
 */
export const rates = (samples: ReadonlyArray<Sample>): ReadonlyArray<{ readonly at: number; readonly processed: number; readonly failed: number }> =>
  samples.slice(1).map((s, i) => {
    const previous = samples[i]!
    const seconds = Math.max(0.001, (s.at - previous.at) / 1000)
    return {
      at: s.at,
      processed: Math.max(0, s.processed - previous.processed) / seconds,
      failed: Math.max(0, s.failed - previous.failed) / seconds
    }
  })
