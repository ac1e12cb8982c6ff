/**
 * When a recurring action runs: every `frequency`, or at the times of a cron expression (Effect's `Cron`,
 * in a time zone). Each run is due at a time of the schedule and its successor is due at the schedule's next
 * time after it, not a period after the run ended, so runs do not drift. Runs missed while nothing ran them
 * are not replayed: the successor of a late run is the schedule's first time after that run ended.
 *
 * @since 0.3.0
 */
import * as Cron from "effect/Cron"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import type * as Action from "../domain/Action.ts"
import { InvalidSchedule } from "../domain/Errors.ts"

/**
 * A recurring action's schedule.
 *
 * @category models
 */
export type Recurrence =
  | { readonly _tag: "Every"; readonly millis: number }
  | { readonly _tag: "Cron"; readonly cron: Cron.Cron; readonly expression: string; readonly timeZone: string | undefined }

/**
 * The schedule of an action's task, if it recurs: `frequency` or `cron` (with `timeZone`), not both. A cron
 * expression has 5 fields (minute first) or 6 (second first); a time zone is an IANA name (default UTC).
 *
 * @category constructors
 */
export const fromTask = (action: string, task: Action.Task | undefined): Result.Result<Recurrence | undefined, InvalidSchedule> => {
  if (task === undefined) return Result.succeed(undefined)
  const invalid = (detail: string) => Result.fail(new InvalidSchedule({ action, detail }))
  if (task.frequency !== undefined) {
    if (task.cron !== undefined) return invalid("give `frequency` or `cron`, not both")
    if (task.timeZone !== undefined) return invalid("`timeZone` applies to `cron` only")
    const millis = Duration.toMillis(task.frequency)
    if (!Number.isFinite(millis) || millis <= 0) return invalid(`frequency must be a positive duration, got ${String(millis)} ms`)
    return Result.succeed({ _tag: "Every", millis })
  }
  if (task.cron === undefined) return task.timeZone === undefined ? Result.succeed(undefined) : invalid("`timeZone` applies to `cron` only")
  if (Cron.isCron(task.cron)) {
    if (task.timeZone !== undefined) return invalid("a parsed Cron carries its own time zone: give `timeZone` to Cron.parse")
    return Result.succeed({ _tag: "Cron", cron: task.cron, expression: Cron.format(task.cron, { includeSeconds: true }), timeZone: undefined })
  }
  const parsed = Cron.parse(task.cron, task.timeZone ?? "UTC")
  if (Result.isFailure(parsed)) {
    return invalid(`${parsed.failure.message}: ${JSON.stringify(parsed.failure.input)}`)
  }
  return Result.succeed({ _tag: "Cron", cron: parsed.success, expression: task.cron, timeZone: task.timeZone })
}

/** {@link fromTask} for a task known to be valid (tests, fixtures): throws its error otherwise. */
export const fromTaskUnsafe = (action: string, task: Action.Task): Recurrence => {
  const recurrence = fromTask(action, task)
  if (Result.isFailure(recurrence)) throw recurrence.failure
  if (recurrence.success === undefined) throw new InvalidSchedule({ action, detail: "the task does not recur" })
  return recurrence.success
}

/** When a chain's first run is due, started at `now`: at once for a frequency, the next cron time for a cron. */
export const firstRun = (recurrence: Recurrence, now: number): number =>
  recurrence._tag === "Every" ? now : Cron.next(recurrence.cron, now).getTime()

/**
 * When the successor of a run due at `due` (undefined: not known, a copy from an older version) is due, the
 * run having ended at `now`: the schedule's next time after `due`, or, when that has passed already (the
 * run was late or long), its first time after `now` (missed runs are not replayed).
 */
export const nextRun = (recurrence: Recurrence, due: number | undefined, now: number): number => {
  if (recurrence._tag === "Cron") return Cron.next(recurrence.cron, Math.max(due ?? now, now)).getTime()
  const { millis } = recurrence
  if (due === undefined) return now + millis
  const next = due + millis
  return next > now ? next : due + millis * (Math.floor((now - due) / millis) + 1)
}

/** About the longest a run waits for its successor from `now`: what a chain's marker must outlive. */
export const periodMillis = (recurrence: Recurrence, now: number): number => {
  if (recurrence._tag === "Every") return recurrence.millis
  const next = Cron.next(recurrence.cron, now)
  return Cron.next(recurrence.cron, next).getTime() - now
}

/** The schedule as text: `every 5s`, `cron 0 9 * * * (Europe/Paris)`. */
export const describe = (recurrence: Recurrence): string =>
  recurrence._tag === "Every"
    ? `every ${Duration.format(Duration.millis(recurrence.millis))}`
    : `cron ${recurrence.expression}${recurrence.timeZone === undefined ? "" : ` (${recurrence.timeZone})`}`
