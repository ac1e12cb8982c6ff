/**
 * Probe (not part of `npm run bench`): what unique fan-out children cost, counted with the benchmark's
 * counter (`lib/monitor.ts`: commands, commands inside scripts, client round trips), on a private
 * redis-server. Each variant fans out N no-op children (batches of 100), then a pool of `concurrency` slots
 * runs them: plain children (the feature unused: the baseline), unique children (`unique: {}`, one key per
 * child), then the same N keys again while the first jobs' claims are held (every child a duplicate: nothing
 * to run). Per child.
 *
 *   npx tsx bench/probes/fanOutUniqueCost.ts [N=2000] [concurrency=10]
 */
import { Effect } from "effect"
import * as ours from "../peers/ours.ts"
import { runCountingProbe } from "./countingProbe.ts"

const n = Number(process.argv[2] ?? 2000)
const concurrency = Number(process.argv[3] ?? 10)
await runCountingProbe({ n, title: `fan-out children, per child, N=${n}, batches of 100, concurrency ${concurrency}` }, ({ actions, phase }) =>
  Effect.gen(function*() {
    // each script's first call also sends its source (NOSCRIPT, then EVAL): warm both batch forms first
    yield* actions.fanOut("noop", [{ i: -1 }])
    yield* actions.fanOut("noop", [{ i: -2 }], { unique: {} })
    yield* ours.work(2, concurrency, Effect.void)
    yield* phase(1)
    const rows: Array<Record<string, unknown>> = []
    const items = (offset: number) => Array.from({ length: n }, (_, i) => ({ i: i + offset }))
    const measure = (name: string, inputs: ReadonlyArray<{ readonly i: number }>, options: { readonly unique?: {} | false }, expected: number) =>
      Effect.gen(function*() {
        const result = yield* actions.fanOut("noop", inputs, { ...options, batchSize: 100 })
        const enqueue = yield* phase(n)
        const done = expected === 0 ? { succeeded: 0 } : yield* ours.work(expected, concurrency, Effect.void)
        const process = yield* phase(n)
        if (done.succeeded !== expected || result.enqueued !== expected) {
          throw new Error(`${name}: ${result.enqueued} enqueued, ${done.succeeded} of ${expected} jobs succeeded`)
        }
        rows.push({
          variant: name,
          "enqueue cmds": enqueue.commands,
          "enqueue scripted": enqueue.scripted,
          "enqueue trips": enqueue.roundTrips,
          "process cmds": process.commands,
          "process scripted": process.scripted,
          "process trips": process.roundTrips
        })
      })
    yield* measure("plain children", items(0), {}, n)
    yield* measure("unique children", items(n), { unique: {} }, n)
    // hold n claims (the jobs stay queued), then fan out the same keys: every child is a duplicate
    yield* actions.fanOut("noop", items(2 * n), { unique: {}, batchSize: 100 })
    yield* phase(1)
    yield* measure("duplicate children", items(2 * n), { unique: {} }, 0)
    return rows
  }))
