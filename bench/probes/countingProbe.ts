/**
 * What the counting probes share: a private redis-server, the benchmark's counter (`lib/monitor.ts`:
 * commands, commands inside scripts, client round trips) and our runtime as the bench builds it, with
 * `phase(jobs)` giving the counts since the last phase, per job. The probe's rows are printed as a table.
 */
import { Effect } from "effect"
import { Redis as IORedis } from "ioredis"
import { Actions } from "../../src/layers/Actions.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import type * as Resque from "../../src/layers/Resque.ts"
import { startRedisServer } from "../../test/support/redisServer.ts"
import { startCounter } from "../lib/monitor.ts"
import * as ours from "../peers/ours.ts"

/** Counts per job since the last phase. */
export interface PhaseCounts {
  readonly commands: number
  readonly scripted: number
  readonly roundTrips: number
}

export interface Probe {
  readonly actions: Actions["Service"]
  readonly phase: (jobs: number) => Effect.Effect<PhaseCounts>
}

type Rows = ReadonlyArray<Record<string, unknown>>

/** Runs `body` on a fresh server with `n` jobs' worth of settings, and prints its rows under `title`. */
export const runCountingProbe = async <E>(
  options: { readonly n: number; readonly title: string },
  body: (probe: Probe) => Effect.Effect<Rows, E, Resque.Services | Redis.Redis>
): Promise<void> => {
  const server = await startRedisServer()
  try {
    const harness = new IORedis(server.url)
    const counter = await startCounter(server.url, harness)
    const input = { case: "probe", system: "ours", variant: "", n: options.n, redisUrl: server.url, prefix: "probe", params: {}, privateServer: true } as const
    const rows = await ours.run(input, Effect.gen(function*() {
      const actions = yield* Actions
      const phase = (jobs: number) => Effect.promise(() => counter.phase()).pipe(Effect.map((c): PhaseCounts => ({
        commands: c.commands / jobs,
        scripted: c.scripted / jobs,
        roundTrips: c.roundTrips / jobs
      })))
      return yield* body({ actions, phase })
    }))
    counter.close()
    harness.disconnect()
    console.log(options.title)
    console.table(rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "number" ? Number(v.toFixed(3)) : v]))))
  } finally {
    await server.stop()
  }
}
