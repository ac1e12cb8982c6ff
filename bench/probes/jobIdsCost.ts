/**
 * Probe (not part of `npm run bench`): what job control costs per job, counted with the benchmark's
 * counter (`lib/monitor.ts`: commands, commands inside scripts, client round trips), on a private
 * redis-server. Each variant enqueues N no-op jobs one at a time, then a pool of `concurrency` slots runs them:
 * untracked (the feature unused: the baseline), tracked (`track`), unique (`unique`, one key per job); then one
 * `jobStatus` and one `cancel` of a queued job.
 *
 *   npx tsx bench/probes/jobIdsCost.ts [N=2000] [concurrency=10]
 */
import { Effect } from "effect"
import * as ours from "../peers/ours.ts"
import { runCountingProbe } from "./countingProbe.ts"

const n = Number(process.argv[2] ?? 2000)
const concurrency = Number(process.argv[3] ?? 10)
await runCountingProbe({ n, title: `job control per job, N=${n}, concurrency ${concurrency}` }, ({ actions, phase }) =>
  Effect.gen(function*() {
    yield* phase(1)
    const variants = [
      ["untracked", {}],
      ["tracked", { track: "10 minutes" }],
      ["unique", { unique: { window: "10 minutes" } }]
    ] as const
    const rows: Array<Record<string, unknown>> = []
    for (const [name, options] of variants) {
      for (let i = 0; i < n; i++) yield* actions.enqueue("noop", { i: name === "unique" ? i : i + n }, options)
      const enqueue = yield* phase(n)
      const done = yield* ours.work(n, concurrency, Effect.void)
      const process = yield* phase(n)
      if (done.succeeded !== n) throw new Error(`${name}: ${done.succeeded} of ${n} jobs succeeded`)
      rows.push({ variant: name, "enqueue cmds": enqueue.commands, "enqueue trips": enqueue.roundTrips, "process cmds": process.commands, "process scripted": process.scripted, "process trips": process.roundTrips })
    }
    const job = yield* actions.enqueue("noop", { i: -1 }, { track: true })
    // each script's first call also sends its source (NOSCRIPT, then EVAL): count the calls after it
    yield* actions.jobStatus("warm-up")
    yield* actions.cancel("warm-up")
    yield* phase(1)
    yield* actions.jobStatus(job)
    const status = yield* phase(1)
    yield* actions.cancel(job)
    const cancel = yield* phase(1)
    rows.push({ variant: "jobStatus (1 call)", "process cmds": status.commands, "process scripted": status.scripted, "process trips": status.roundTrips })
    rows.push({ variant: "cancel (1 call)", "process cmds": cancel.commands, "process scripted": cancel.scripted, "process trips": cancel.roundTrips })
    return rows
  }))
