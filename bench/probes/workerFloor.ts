/**
 * Probe (not part of `npm run bench`): how much of our worker's CPU per job is the Redis protocol itself.
 * It fills a queue with N fan-out children through our `fanOut`, then drains it with a bare loop that sends
 * the worker's Redis traffic (one `pickMany` script for the idle slots, then per job a completion with the
 * stats, the per-action stats and the fan-out recording, which picks the slot's next job in the same step;
 * completions are group-committed as the worker does: whatever completions wait go in one `completeMany`
 * call, at most two calls in flight) from `concurrency` lanes on one ioredis connection, with no Effect
 * runtime. Compare its CPU µs per job with the `process` rows.
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
  const input = { case: "probe", system: "ours", variant: "", n, redisUrl: server.url, prefix: "probe", params: {}, privateServer: true } as const
  await ours.run(input, ours.fanOut(n))
  const client = new IORedis(server.url)
  const keys = Keys.make("probe")
  const queues = [ours.QUEUE]
  // loaded once, so every call below is one EVALSHA, as the worker's are once the server knows the scripts
  await client.script("LOAD", Pick.pickMany.lua)
  await client.script("LOAD", Completion.completeMany.lua)
  const evalsha = async <I, A>(script: Script<I, A>, scriptInput: I): Promise<A> => {
    const { keys: scriptKeys, args } = script.encode(scriptInput)
    return script.decode(await client.evalsha(script.sha1, scriptKeys.length, ...scriptKeys, ...args.map(String)))
  }
  const slots = Array.from({ length: concurrency }, (_, slot) => {
    const worker = `probe:${process.pid}.${slot}`
    return { worker, lastRunAt: 0 }
  })
  const runAt = (slot: (typeof slots)[number]) => {
    slot.lastRunAt = Math.max(Date.now(), slot.lastRunAt + 1)
    return new Date(slot.lastRunAt).toISOString()
  }

  // the group commit: completions that wait while two calls are in flight go together in the next one
  interface Pending {
    readonly plan: Completion.Plan
    readonly resolve: (next: Pick.Assigned | undefined) => void
  }
  let pending: Array<Pending> = []
  let inFlight = 0
  const flush = (): void => {
    while (inFlight < 2 && pending.length > 0) {
      const batch = pending
      pending = []
      inFlight++
      void evalsha(Completion.completeMany, { keys, workerQueues: ours.QUEUE, plans: batch.map((p) => p.plan), queues }).then((next) => {
        inFlight--
        batch.forEach((p, i) => {
          const handed = next.get(i)
          const nextRunAt = p.plan.next?.runAt
          p.resolve(handed === undefined || nextRunAt === undefined ? undefined : Pick.assignedFor(handed, nextRunAt))
        })
        flush()
      })
    }
  }
  const complete = (plan: Completion.Plan) =>
    new Promise<Pick.Assigned | undefined>((resolve) => {
      pending.push({ plan, resolve })
      queueMicrotask(flush)
    })

  let done = 0
  const lane = async (slot: (typeof slots)[number], first: Pick.Assigned | undefined) => {
    let current = first
    // bounded: each pass completes one job (and picks the next) or ends the lane
    for (let i = 0; i < n && current !== undefined; i++) {
      const [queue, raw, expected] = current
      const parsed = Job.parse(raw, queue)
      if (parsed._tag === "Failure") throw new Error("corrupt payload")
      const job = parsed.success
      const now = Date.now()
      const outcome = Outcome.success("null", 0)
      const writes = [
        ...Completion.bookkeeping(keys, { worker: slot.worker, queue, payload: raw, outcome, now }),
        ...WorkerMiddleware.writes(WorkerMiddleware.defaults, { job, outcome, worker: slot.worker }, { keys, now })
      ]
      current = await complete({ worker: slot.worker, expected, counted: "processed", writes, next: { runAt: runAt(slot) } })
      done++
    }
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  const firstRunAts = slots.map(runAt)
  const picked = await evalsha(Pick.pickMany, { keys, workerQueues: ours.QUEUE, queues, slots: slots.map((slot, i) => ({ worker: slot.worker, runAt: firstRunAts[i] as string })) })
  await Promise.all(slots.map((slot, i) => {
    const handed = picked.bySlot.get(i)
    return lane(slot, handed === undefined ? undefined : Pick.assignedFor(handed, firstRunAts[i] as string))
  }))
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
