/**
 * Operating commands, on the shared Redis: `delayed` (the schedule, by due time), `stats` (counters and per
 * action runs, failures and durations), `del` (jobs of an action from a queue), `delete-queue`, `locks` and
 * `clean-workers` (reclaim the jobs of dead workers now). Each prints a table, or the data with `--json`.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { jsonFlag, show, withOperations } from "./Inspect.ts"
import { type App, BadArgument, handler, parseDelay, printJson } from "./Shared.ts"
import * as Table from "./Table.ts"

const queueArgument = Argument.String("queue").pipe(Argument.withDescription("A queue's name"))
const offsetFlag = Flag.Int("offset").pipe(Flag.withDefault(0), Flag.withDescription("Skip this many first (default 0)"))
const limitFlag = Flag.Int("limit").pipe(Flag.withDefault(50), Flag.withDescription("Show at most this many (default 50)"))

const delayed = (app: App) =>
  Command.make("delayed", { offset: offsetFlag, limit: limitFlag, json: jsonFlag }, ({ offset, limit, json }) =>
    handler(withOperations(app, "delayed", (ops) =>
      Effect.gen(function*() {
        const page = yield* ops.delayedPage({ offset, limit })
        yield* show(json, page, (d, t) =>
          Table.section(
            `DELAYED: ${d.times} due time${d.times === 1 ? "" : "s"}${d.times > d.entries.length ? ` (${d.offset}..${d.offset + d.entries.length - 1} shown)` : ""}`,
            t.render(
              ["due at", "jobs", "action", "queue", "inputs"],
              d.entries.flatMap((e) => e.jobs.map((j, i) => [i === 0 ? Table.time(e.at) : "", i === 0 ? e.count : "", j.action ?? j.corrupt ?? "?", j.queue, j.inputs])),
              "(nothing scheduled)"
            )
          ))
      })))
  ).pipe(Command.withDescription("Delayed jobs by due time, soonest first (the first 20 of each second)"))

const stats = (app: App) =>
  Command.make("stats", { json: jsonFlag }, ({ json }) =>
    handler(withOperations(app, "stats", (ops) =>
      Effect.gen(function*() {
        const counters = yield* ops.stats
        const actions = counters.actions.map((a) => ({ ...a, meanDurationMs: a.runs === 0 ? null : Math.round(a.durationMs / a.runs * 10) / 10 }))
        yield* show(json, { ...counters, actions }, (d, t) =>
          [
            Table.section("TOTALS", t.render(["processed", "failed", "handed back"], [[d.processed, d.failed, d.handedBack]])),
            Table.section("ACTIONS", t.render(
              ["action", "runs", "failures", "mean ms", "total ms"],
              d.actions.map((a) => [a.action, a.runs, a.failures, a.meanDurationMs ?? "-", Math.round(a.durationMs)])
            )),
            Table.section("WORKERS", t.render(["worker", "processed", "failed"], d.workers.map((w) => [w.name, w.processed, w.failed])))
          ].join("\n\n"))
      })))
  ).pipe(Command.withDescription("Counters: processed and failed, per action (runs, failures, durations) and per worker"))

const del = (app: App) =>
  Command.make("del", {
    queue: queueArgument,
    action: Argument.String("action").pipe(Argument.withDescription("The action whose jobs to remove")),
    inputs: Flag.String("inputs").pipe(Flag.withMetavar("json"), Flag.withDescription("Only the jobs with these inputs (JSON, checked by the action's Schema)"), Flag.optional)
  }, ({ queue, action, inputs }) =>
    handler(withOperations(app, "del", (ops) =>
      Effect.gen(function*() {
        let wanted: unknown
        if (Option.isSome(inputs)) {
          try {
            wanted = JSON.parse(inputs.value)
          } catch (error) {
            return yield* new BadArgument({ detail: `--inputs is not JSON: ${error instanceof Error ? error.message : String(error)}` })
          }
        }
        const removed = yield* (Option.isSome(inputs) ? ops.del(queue, action, wanted) : ops.del(queue, action))
        yield* printJson({ queue, action, removed })
      })))
  ).pipe(Command.withDescription("Remove an action's jobs from a queue (all of them, or those with --inputs)"))

const deleteQueue = (app: App) =>
  Command.make("delete-queue", { queue: queueArgument }, ({ queue }) =>
    handler(withOperations(app, "delete-queue", (ops) => Effect.flatMap(ops.delQueue(queue), (removed) => printJson({ queue, removed }))))
  ).pipe(Command.withDescription("Delete a queue and every job in it (fan-out children among them count as removed)"))

const locks = (app: App) =>
  Command.make("locks", { json: jsonFlag }, ({ json }) =>
    handler(withOperations(app, "locks", (ops) =>
      Effect.flatMap(ops.locks, (all) => show(json, all, (d, t) => Table.section(`LOCKS: ${d.length}`, t.render(["key", "value"], d.map((l) => [l.key, l.value])))))))
  ).pipe(Command.withDescription("Locks (lock:* and workerslock:* keys, as node-resque's plugins write them) and their values"))

const cleanWorkers = (app: App) =>
  Command.make("clean-workers", {
    olderThan: Flag.String("older-than").pipe(Flag.withMetavar("duration"), Flag.withDefault("1m"), Flag.withDescription("Reclaim workers silent this long (default 1m; never less than 3 of a worker's ping intervals)")),
    json: jsonFlag
  }, ({ olderThan, json }) =>
    handler(withOperations(app, "clean-workers", (ops) =>
      Effect.gen(function*() {
        const ms = parseDelay(olderThan)
        if (ms === undefined || ms <= 0) return yield* new BadArgument({ detail: `--older-than: cannot read "${olderThan}" as a duration (try 30s, 5m)` })
        const reclaimed = yield* ops.reclaimStaleWorkers(Duration.millis(ms))
        yield* show(json, reclaimed, (d, t) =>
          Table.section(`RECLAIMED WORKERS: ${d.length}`, t.render(
            ["worker", "job", "outcome"],
            d.map((r) => [r.worker, r.action ?? "(idle)", r.action === null ? "-" : r.retried ? "re-enqueued" : "failed (WorkerDied)"])
          )))
      })))
  ).pipe(Command.withDescription("Unregister workers that stopped pinging and retry or fail the job each was running"))

/**
 * The operating commands.
 *
 * @category commands
 */
export const commands = (app: App) => [delayed(app), stats(app), del(app), deleteQueue(app), locks(app), cleanWorkers(app)] as const
