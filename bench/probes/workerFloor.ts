/**
 * Probe (not part of `npm run bench`): how much of our worker's CPU per job is the Redis protocol itself.
 * It fills a queue with N fan-out children through our `fanOut`, then drains it with a bare loop that sends
 * exactly the worker's Redis traffic (the pick script, then one completion MULTI with the stats, the
 * per-action stats, the fan-out recording script and the working-on delete) from `concurrency` lanes on one
 * ioredis connection, with no Effect runtime. Compare its CPU µs per job with the `process` rows.
 *
 *   npx tsx bench/probes/workerFloor.ts [N=20000] [concurrency=10]
 */
import { performance } from "node:perf_hooks"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../test/support/redisServer.ts"
import * as FanOut from "../../src/domain/FanOut.ts"
import * as Keys from "../../src/domain/Keys.ts"
import * as Payload from "../../src/domain/Payload.ts"
import { queueRecord, record } from "../../src/internal/fanOutRecord.ts"
import { pick } from "../../src/internal/pick.ts"
import * as ours from "../peers/ours.ts"

const n = Number(process.argv[2] ?? 20_000)
const concurrency = Number(process.argv[3] ?? 10)
const server = await startRedisServer()
try {
  const input = { case: "probe", system: "ours", variant: "", n, redisUrl: server.url, prefix: "probe", params: {} } as const
  await ours.run(input, ours.fanOut(n))
  const client = new IORedis(server.url)
  const keys = Keys.make("probe")
  pick.define(client)
  record.define(client)
  let done = 0
  const lane = async (slot: number) => {
    const name = `probe:${process.pid}.${slot}`
    const working = keys.working(name, ours.QUEUE)
    // bounded: each pass pops one job or ends the lane
    for (let i = 0; i < n; i++) {
      const reply = await pick.run(client, [working, keys.queues], [keys.queue(""), new Date().toISOString(), name, ours.QUEUE])
      if (!Array.isArray(reply) || typeof reply[1] !== "string") return
      const parsed = Payload.parse(reply[1], ours.QUEUE)
      if (parsed._tag === "Failure") throw new Error("corrupt payload")
      const job = parsed.success
      const tx = client.multi()
      tx.incr(keys.stat("processed")).incr(keys.stat("processed", name))
      tx.hincrby(keys.actionStats(job.action), "runs", 1).hincrby(keys.actionStats(job.action), "durationMs", 0)
      queueRecord(client, tx, keys, job.meta.fanOut ?? "", job.meta.index ?? 0, FanOut.encodeSuccess(job.action, job.inputs, "null"), Date.now())
      tx.del(working)
      await tx.exec()
      done++
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
