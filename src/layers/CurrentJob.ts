/**
 * The job the current fiber runs, for an action's `run`: its id and its progress report. A tracked job
 * (`track`) gets its own: `CurrentJob.progress(0.4)` or `CurrentJob.progress({ value: 40, data: { step:
 * "resize" } })` writes the latest report to the job's record (one round trip: `HSET` + `PEXPIRE` in a
 * MULTI), where `jobStatus` and the CLI's `jobs status` read it. Elsewhere (an untracked job, a direct
 * `Actions.run`) there is no record to keep it: the id is undefined and a report is checked, then dropped,
 * at no cost.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { InvalidProgress, maxProgressBytes, type Progress } from "../domain/JobControl.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Connection } from "../internal/Connection.ts"

/** @category models */
export interface Service {
  /** The job's id; undefined outside a tracked job. */
  readonly id: string | undefined
  /**
   * Reports progress: a number, or `{ value?, data? }` (small JSON data). Best effort: a Redis failure is
   * logged, not failed; a report that cannot be kept fails with {@link InvalidProgress}.
   */
  readonly progress: (progress: number | Progress) => Effect.Effect<void, InvalidProgress>
}

/** A report as the JSON it is kept as, or why it cannot be. */
const encode = (progress: number | Progress): { readonly json: string } | InvalidProgress => {
  const report: Progress = typeof progress === "number" ? { value: progress } : progress
  if (report.value !== undefined && !Number.isFinite(report.value)) {
    return new InvalidProgress({ detail: `value ${String(report.value)} is not a finite number` })
  }
  let json: string | undefined
  try {
    json = JSON.stringify(report)
  } catch (error) {
    return new InvalidProgress({ detail: `not JSON (${error instanceof Error ? error.message : String(error)})` })
  }
  if (json === undefined) return new InvalidProgress({ detail: "not JSON" })
  if (json.length > maxProgressBytes) return new InvalidProgress({ detail: `${json.length} bytes, more than ${maxProgressBytes}` })
  return { json }
}

const checked = (progress: number | Progress): Effect.Effect<string, InvalidProgress> => {
  const encoded = encode(progress)
  return encoded instanceof InvalidProgress ? Effect.fail(encoded) : Effect.succeed(encoded.json)
}

const outside: Service = { id: undefined, progress: (progress) => Effect.asVoid(checked(progress)) }

/**
 * The current job (outside a tracked job: no id, reports dropped).
 *
 * @category services
 */
export const CurrentJob = Context.Reference<Service>("effect-resque/CurrentJob", { defaultValue: () => outside })

/**
 * Reports the current job's progress (see {@link Service.progress}).
 *
 * @category accessors
 */
export const progress = (report: number | Progress): Effect.Effect<void, InvalidProgress> =>
  Effect.gen(function*() {
    const job = yield* CurrentJob
    return yield* job.progress(report)
  })

/**
 * The current job of a tracked job `id` whose record is kept `ttlMillis`.
 *
 * @category constructors
 */
export const make = (options: { readonly redis: Connection; readonly keys: Keys; readonly id: string; readonly ttlMillis: number }): Service => {
  const key = options.keys.job(options.id)
  return {
    id: options.id,
    progress: (report) =>
      Effect.flatMap(checked(report), (json) =>
        options.redis.multi([["hset", key, "progress", json], ["pexpire", key, options.ttlMillis]]).pipe(
          Effect.catch((error) => Effect.logWarning(`could not record the progress of job ${options.id}`, error)),
          Effect.asVoid
        ))
  }
}
