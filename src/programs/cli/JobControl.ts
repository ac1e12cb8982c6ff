/**
 * The job-control commands, on the shared Redis: `status ID` (where one job stands: state, worker,
 * progress, result or error) and `cancel ID`. Jobs are known by the id `enqueue --track` prints.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import type * as JobControl from "../../domain/JobControl.ts"
import { Actions } from "../../layers/Actions.ts"
import { type App, handler, printJson, printRaw, sharedRedis } from "./Shared.ts"
import * as Table from "./Table.ts"

/** The progress of a job as one cell: `40`, `40 {"step":"resize"}`, or the data alone. */
const progressCell = (progress: JobControl.Progress | undefined): string =>
  progress === undefined ? "-" : [progress.value, progress.data === undefined ? undefined : Table.cell(progress.data)].filter((p) => p !== undefined).join(" ")

/** A job's status as a table. */
const render = (s: JobControl.JobStatus): string =>
  Table.section(`JOB ${s.id}`, Table.render(
    ["action", "queue", "state", "worker", "attempt", "progress", "result / error", "enqueued", "finished"],
    [[
      s.action ?? "-",
      s.queue ?? "-",
      s.state,
      s.worker ?? "-",
      s.attempt ?? "-",
      progressCell(s.progress),
      s.state === "succeeded" ? Table.cell(s.result) : s.failure ? `${s.failure.exception}: ${s.failure.message}` : "-",
      Table.time(s.enqueuedAt),
      Table.time(s.finishedAt)
    ]]
  ))

/** Prints where job `id` stands (for `status ID`). @category commands */
export const showStatus = (app: App, id: string, json: boolean) =>
  Effect.gen(function*() {
    const redis = yield* sharedRedis("status")
    const status = yield* Effect.gen(function*() {
      return yield* (yield* Actions).jobStatus(id)
    }).pipe(Effect.provide(app.runtime(redis)))
    yield* json ? printJson(status) : printRaw(render(status))
  })

/** `cancel ID`: removes a waiting job or interrupts a running one; prints what it did. */
const cancel = (app: App) =>
  Command.make("cancel", {
    id: Argument.String("id").pipe(Argument.withDescription("The job id printed by `enqueue --track`"))
  }, ({ id }) =>
    handler(Effect.gen(function*() {
      const redis = yield* sharedRedis("cancel")
      const result = yield* Effect.gen(function*() {
        return yield* (yield* Actions).cancel(id)
      }).pipe(Effect.provide(app.runtime(redis)))
      yield* printJson({ id, result })
    }))
  ).pipe(Command.withDescription("Cancel a tracked job: a queued or delayed one is removed, a running one interrupted (in any process)"))

/** `--track`: keep the job's status and result (for `status ID`, `cancel ID`). */
export const trackFlag = Flag.Boolean("track").pipe(
  Flag.withDefault(false),
  Flag.withDescription("Track the job (status, progress, result kept for 1 hour): prints its id for `status ID` and `cancel ID`")
)

/**
 * The job-control commands besides `status ID` (an argument of `status`).
 *
 * @category commands
 */
export const commands = (app: App) => [cancel(app)] as const
