/**
 * Inspection and management commands, on the shared Redis: `status`, `queue`, `failed`, `fanout-status`,
 * `workers`, `pause`/`resume` (a queue), `recurring`, and a job's `status ID` / `cancel ID` (`JobControl.ts`). Each prints a readable table, or the data as JSON with `--json`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { Actions } from "../../layers/Actions.ts"
import { Operations } from "../../layers/Operations.ts"
import * as JobControl from "./JobControl.ts"
import { type App, BadArgument, handler, printJson, printRaw, sharedRedis, Wide } from "./Shared.ts"
import * as Table from "./Table.ts"

/** `--json`: the data instead of a table. @category flags */
export const jsonFlag = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print the data as JSON instead of a table"))

/** Runs `f` with the Operations service on the shared Redis. @category combinators */
export const withOperations = <A, E, R>(
  app: App,
  command: string,
  f: (ops: Operations["Service"]) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const redis = yield* sharedRedis(command)
    return yield* Effect.flatMap(Operations, f).pipe(Effect.provide(app.runtime(redis)))
  })

/** Prints `data` as JSON, or the tables `text` renders from it (cells whole with `--wide`). @category output */
export const show = <A>(json: boolean, data: A, text: (data: A, table: Table.Renderer) => string) =>
  json ? printJson(data) : Effect.flatMap(Wide, (wide) => printRaw(text(data, Table.renderer({ wide }))))

const status = (app: App) =>
  Command.make("status", {
    id: Argument.String("id").pipe(Argument.withDescription("A job's id (from `enqueue --track`): where that job stands"), Argument.optional),
    json: jsonFlag
  }, ({ id, json }) =>
    Option.isSome(id) ? handler(JobControl.showStatus(app, id.value, json)) : handler(withOperations(app, "status", (ops) =>
      Effect.gen(function*() {
        const details = yield* ops.taskDetails
        const failed = yield* ops.failedCount
        yield* show(json, { ...details, failedJobs: failed }, (d, t) =>
          [
            Table.section("QUEUES", t.render(["queue", "jobs", "state"], Object.entries(d.queues).map(([name, q]) => [name, q.length, q.paused ? "paused" : "running"]))),
            Table.section("WORKERS", t.render(
              ["worker", "queues", "processed", "failed", "working on"],
              d.workers.map((w) => [w.name, w.queues.join(","), w.processed, w.failed, w.workingOn ? `${w.workingOn.job.action ?? "?"} ${t.cell(w.workingOn.job.inputs)}` : "idle"])
            )),
            Table.section("TOTALS", t.render(
              ["processed", "failed", "failed jobs kept", "scheduler leader"],
              [[d.stats.processed, d.stats.failed, d.failedJobs, d.leader ?? "none"]]
            ))
          ].join("\n\n"))
      })))
  ).pipe(Command.withDescription("Overview: queues and their lengths, workers and what they run, counters, scheduler leader; with a job id, where that job stands"))

const queue = (app: App) =>
  Command.make("queue", {
    name: Argument.String("name").pipe(Argument.withDescription("Queue name")),
    limit: Flag.Int("limit").pipe(Flag.withDefault(50), Flag.withDescription("Show at most this many jobs (default 50)")),
    json: jsonFlag
  }, ({ name, limit, json }) =>
    handler(withOperations(app, "queue", (ops) =>
      Effect.gen(function*() {
        const length = yield* ops.length(name)
        const jobs = limit > 0 ? yield* ops.queued(name, 0, limit - 1) : []
        yield* show(json, { queue: name, length, jobs }, (d, t) =>
          Table.section(
            `QUEUE ${d.queue}: ${d.length} job${d.length === 1 ? "" : "s"}${d.length > d.jobs.length ? ` (first ${d.jobs.length} shown)` : ""}`,
            t.render(["#", "action", "inputs", "fan-out"], d.jobs.map((j, i) => [i, j.action ?? j.corrupt ?? "?", j.inputs, j.fanOut ? `${j.fanOut}#${j.index ?? "?"}` : "-"]), "(empty)")
          ))
      })))
  ).pipe(Command.withDescription("List the jobs waiting in a queue"))

/** What `failed` and `failed list` show: a page of the failed list, newest first unless `--oldest-first`. */
interface FailedListing {
  readonly json: boolean
  readonly limit: number
  readonly offset: number
  readonly oldestFirst: boolean
}

const failedList = (app: App, { json, limit, offset, oldestFirst }: FailedListing) =>
  withOperations(app, "failed", (ops) =>
    Effect.gen(function*() {
      if (limit < 1 || offset < 0) return yield* new BadArgument({ detail: "--limit must be at least 1 and --offset at least 0" })
      const page = yield* ops.failedPage({ offset, limit, order: oldestFirst ? "oldest" : "newest" })
      yield* show(json, { count: page.total, order: page.order, offset: page.offset, jobs: page.jobs }, (d, t) =>
        Table.section(
          `FAILED JOBS: ${d.count}, ${d.order} first${d.count > d.jobs.length ? ` (${d.jobs.length} shown from ${d.offset}; --offset for more)` : ""}`,
          t.render(
            ["#", "action", "queue", "error", "failed at", "worker"],
            d.jobs.map((j) => [j.position, j.action ?? "?", j.queue, `${j.exception}: ${j.error}`, Table.time(j.failedAt), j.worker])
          )
        ))
    }))

const failedAt = (ops: Operations["Service"], index: number) =>
  Effect.gen(function*() {
    if (!Number.isInteger(index) || index < 0) return yield* new BadArgument({ detail: "the failed-job number must be 0 or more (see `failed list`)" })
    const [job] = yield* ops.failed(index, index)
    if (job === undefined) return yield* new BadArgument({ detail: `no failed job #${index} (see \`failed list\`)` })
    return job
  })

const indexArgument = Argument.Int("n").pipe(Argument.withDescription("The job's number (#) in `failed list`"))
const limitFlag = Flag.Int("limit").pipe(Flag.withDefault(50), Flag.withDescription("Show at most this many (default 50, at most 500)"))
const listingFlags = {
  json: jsonFlag,
  limit: limitFlag,
  offset: Flag.Int("offset").pipe(Flag.withDefault(0), Flag.withDescription("Skip this many first (default 0): the next page")),
  oldestFirst: Flag.Boolean("oldest-first").pipe(Flag.withDefault(false), Flag.withDescription("Oldest first instead of newest first"))
}

const failed = (app: App) =>
  Command.make("failed", listingFlags, (flags) => handler(failedList(app, flags))).pipe(
    Command.withDescription("Failed jobs: list them (the default), retry or remove one, or retry them all"),
    Command.withSubcommands([
      Command.make("list", listingFlags, (flags) => handler(failedList(app, flags))).pipe(
        Command.withDescription("List failed jobs, newest first, in pages; # is a job's place in the list (0 the oldest)")
      ),
      Command.make("retry", { n: indexArgument }, ({ n }) =>
        handler(withOperations(app, "failed retry", (ops) =>
          Effect.gen(function*() {
            const job = yield* failedAt(ops, n)
            yield* ops.retryAndRemoveFailed(job)
            yield* printJson({ retried: 1, action: job.action, queue: job.queue })
          })))
      ).pipe(Command.withDescription("Re-enqueue failed job n on its queue and remove it from the failed list")),
      Command.make("retry-all", {}, () =>
        handler(withOperations(app, "failed retry-all", (ops) => Effect.flatMap(ops.retryAllFailed(), (retried) => printJson({ retried }))))
      ).pipe(Command.withDescription("Re-enqueue every failed job")),
      Command.make("remove", { n: indexArgument }, ({ n }) =>
        handler(withOperations(app, "failed remove", (ops) =>
          Effect.gen(function*() {
            const job = yield* failedAt(ops, n)
            yield* ops.removeFailed(job)
            yield* printJson({ removed: 1, action: job.action, queue: job.queue })
          })))
      ).pipe(Command.withDescription("Remove failed job n without retrying it"))
    ])
  )

const fanoutStatus = (app: App) =>
  Command.make("fanout-status", {
    id: Argument.String("id").pipe(Argument.withDescription("The fan-out id printed by `fanout`")),
    json: jsonFlag
  }, ({ id, json }) =>
    handler(withOperations(app, "fanout-status", () =>
      Effect.gen(function*() {
        const s = yield* (yield* Actions).fanOutStatus(id)
        yield* show(json, s, (d, t) =>
          [
            Table.section(`FAN-OUT ${d.fanOutId} (${d.actionNames.join(", ")}) ${d.done ? "done" : "running"}`, t.render(
              ["total", "completed", "failed", ...(d.duplicate > 0 ? ["duplicate"] : []), "pending", "created"],
              [[d.total, d.completed, d.failed, ...(d.duplicate > 0 ? [d.duplicate] : []), d.pending, Table.time(d.createdAt)]]
            )),
            Table.section("FAILED CHILDREN", t.render(["#", "action", "inputs", "error"], d.errors.map((e) => [e.index, e.action, e.inputs, e.error]))),
            ...(d.duplicates.length === 0 ? [] : [
              Table.section("DUPLICATE CHILDREN (another job held their key)", t.render(
                ["#", "action", "inputs", "job"],
                d.duplicates.map((c) => [c.index, c.action, c.inputs, c.jobId])
              ))
            ])
          ].join("\n\n"))
      })))
  ).pipe(Command.withDescription("Where a fan-out stands: counts and failed children (--json adds every result)"))

const workers = (app: App) =>
  Command.make("workers", { json: jsonFlag }, ({ json }) =>
    handler(withOperations(app, "workers", (ops) =>
      Effect.gen(function*() {
        const list = yield* ops.workers
        const busy = yield* ops.allWorkingOn
        const data = list.map((w) => ({ ...w, workingOn: busy.find((b) => b.worker === w.name) ?? null }))
        yield* show(json, data, (d, t) =>
          Table.section(`WORKERS: ${d.length}`, t.render(
            ["worker", "queues", "started", "last ping", "working on"],
            d.map((w) => [w.name, w.queues.join(","), Table.time(w.startedAt), Table.time(w.lastPingAt), w.workingOn ? `${w.workingOn.job.action ?? "?"} since ${Table.time(w.workingOn.runAt)}` : "idle"])
          )))
      })))
  ).pipe(Command.withDescription("Registered workers, their queues, last ping and current job"))

/** Whether an action recurs: a `frequency` or a `cron`. */
const recursTask = (action: { readonly task?: { readonly frequency?: unknown; readonly cron?: unknown } | undefined }) =>
  action.task?.frequency !== undefined || action.task?.cron !== undefined

const recurring = (app: App) => {
  const names = app.actions.filter(recursTask).map((a) => a.name)
  const actionArgument = Argument.Literals("action", names).pipe(Argument.withDescription("A recurring action"))
  const list = (json: boolean) =>
    withOperations(app, "recurring", (ops) =>
      Effect.flatMap(ops.recurring, (all) =>
        show(json, all, (d, t) =>
          Table.section("RECURRING ACTIONS", t.render(
            ["action", "queue", "schedule", "state"],
            d.map((r) => [r.action, r.queue, r.schedule, r.stopped ? "stopped" : r.live ? "running" : "not started (a scheduler starts it)"])
          )))))
  return Command.make("recurring", { json: jsonFlag }, ({ json }) => handler(list(json))).pipe(
    Command.withDescription("Recurring actions: list them (the default), stop or start one"),
    Command.withSubcommands([
      Command.make("list", { json: jsonFlag }, ({ json }) => handler(list(json))).pipe(Command.withDescription("List recurring actions and their state")),
      Command.make("stop", { action: actionArgument }, ({ action }) =>
        handler(withOperations(app, "recurring stop", (ops) => Effect.flatMap(ops.stopRecurrentAction(action), printJson)))
      ).pipe(Command.withDescription("Stop a recurring action: its queued and delayed copies are removed, none is started until `start`")),
      Command.make("start", { action: actionArgument }, ({ action }) =>
        handler(withOperations(app, "recurring start", (ops) =>
          Effect.flatMap(ops.startRecurrentAction(action), (started) => printJson({ action, started }))))
      ).pipe(Command.withDescription("Resume a stopped recurring action (enqueues a copy now unless one is live)"))
    ])
  )
}

const queueArgument = Argument.String("queue").pipe(Argument.withDescription("A queue's name"))

const pause = (app: App) =>
  Command.make("pause", { queue: queueArgument }, ({ queue }) =>
    handler(withOperations(app, "pause", (ops) => Effect.flatMap(ops.pauseQueue(queue), (changed) => printJson({ queue, paused: true, changed }))))
  ).pipe(Command.withDescription("Pause a queue: workers take none of its jobs (they stay queued) until `resume`; survives restarts"))

const resume = (app: App) =>
  Command.make("resume", { queue: queueArgument }, ({ queue }) =>
    handler(withOperations(app, "resume", (ops) => Effect.flatMap(ops.resumeQueue(queue), (changed) => printJson({ queue, paused: false, changed }))))
  ).pipe(Command.withDescription("Resume a paused queue: workers take its jobs again at once"))

/**
 * The inspection commands.
 *
 * @category commands
 */
export const commands = (app: App) => {
  const always = [status(app), queue(app), failed(app), fanoutStatus(app), workers(app), pause(app), resume(app), ...JobControl.commands(app)] as const
  // recurring actions are the application's: an operator's tool without actions has none to list
  return app.actions.some(recursTask) ? [...always, recurring(app)] : always
}
