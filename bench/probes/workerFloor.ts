/**
 * Probe (not part of `npm run bench`): how much of our worker's CPU per job is the Redis protocol itself.
 * It fills a queue with N fan-out children through our `fanOut`, then drains it with a bare loop that sends
 * exactly the worker's Redis traffic (the pick script for an idle slot, then per job one completion script
 * with the stats, the per-action stats and the fan-out recording, which picks the slot's next job in the same
 * step) from `concurrency` lanes on one ioredis connection, with no Effect runtime. Compare its CPU µs per
 * job with the `process` rows.
 *
 *   npx tsx bench/probes/workerFloor.ts [N=20000] [concurrency=10]
 */
import { performance } from "node:perf_hooks"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../test/support/redisServer.ts"
import * as Job from "../../src/domain/Job.ts"
import * as Keys from "../../src/domain/Keys.ts"
import * as Outcome from "../../src/domain/Outcome.ts"
import * as Completion from "../../src/internal/Completion.ts"
import * as Pick from "../../src/internal/Pick.ts"
import type { Script } from "../../src/internal/Script.ts"
import * as WorkerMiddleware from "../../src/layers/WorkerMiddleware.ts"
import * as ours from "../peers/ours.ts"

const n = Number(process.argv[2] ?? 20_000)
const concurrency = Number(process.argv[3] ?? 10)
const server = await startRedisServer()
try {
  const input = { case: "probe", system: "ours", variant: "", n, redisUrl: server.url, prefix: "probe", params: {} } as const
  await ours.run(input, ours.fanOut(n))
  const client = new IORedis(server.url)
  const keys = Keys.make("probe")
  // loaded once, so every call below is one EVALSHA, as the worker's are once the server knows the scripts
  await client.script("LOAD", Pick.pick.lua)
  await client.script("LOAD", Completion.complete.lua)
  const evalsha = async <I, A>(script: Script<I, A>, scriptInput: I): Promise<A> => {
    const { keys: scriptKeys, args } = script.encode(scriptInput)
    return script.decode(await client.evalsha(script.sha1, scriptKeys.length, ...scriptKeys, ...args.map(String)))
  }
  let done = 0
  const lane = async (slot: number) => {
    const name = `probe:${process.pid}.${slot}`
    const source: Pick.Source = { working: keys.working(name, ours.QUEUE), queuesKey: keys.queues, prefix: keys.queue(""), worker: name, queues: [ours.QUEUE] }
    let lastRunAt = 0
    const runAt = () => {
      lastRunAt = Math.max(Date.now(), lastRunAt + 1)
      return new Date(lastRunAt).toISOString()
    }
    let current = await evalsha(Pick.pick, { source, runAt: runAt() })
    // bounded: each pass completes one job (and picks the next) or ends the lane
    for (let i = 0; i < n && current !== undefined; i++) {
      const [queue, raw, record] = current
      const parsed = Job.parse(raw, queue)
      if (parsed._tag === "Failure") throw new Error("corrupt payload")
      const job = parsed.success
      const now = Date.now()
      const outcome = Outcome.success("null", 0)
      const writes = [
        ...Completion.bookkeeping(keys, { worker: name, queue, payload: raw, outcome, now, countForWorker: true }),
        ...WorkerMiddleware.writes(WorkerMiddleware.defaults, { job, outcome, worker: name }, { keys, now })
      ]
      const result = await evalsha(Completion.complete, {
        mode: "worker",
        working: source.working,
        expected: record,
        worker: name,
        writes,
        next: { source, runAt: runAt() }
      })
      if (result._tag !== "Completed") throw new Error("completion skipped")
      done++
      current = result.next
    }
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, (_, slot) => lane(slot)))
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  if (done !== n) throw new Error(`processed ${done} of ${n}`)
  const cpuUs = used.user + used.system
  process.stdout.write(
    `bare protocol loop, c${concurrency}: ${n} jobs in ${wallMs.toFixed(0)} ms = ${(n / wallMs * 1000).toFixed(0)} jobs/s, ` +
      `node CPU ${(cpuUs / n).toFixed(1)} µs/job (${(cpuUs / 1000 / wallMs * 100).toFixed(0)}%)\n`
  )
  client.disconnect()
} finally {
  await server.stop()
}
