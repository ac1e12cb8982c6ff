/**
 * Case `idle`: the cost of an idle worker process, 50 slots / workers on an empty queue, measured over a window
 * of `windowMs` (10 s) after a warm-up: Redis commands per second attributable to this process and
 * redis-server CPU (see `lib/idle.ts` for the protocol and how commands are attributed).
 * - ours: `Worker.make({ queues: [QUEUE], concurrency: 50 })`, no job scheduler.
 * - node-resque: 50 Workers polling every 50 ms (the task processors of a MultiWorker at 50).
 * - BullMQ: one `Worker` c50 (it blocks on its marker key, `drainDelay` 5 s).
 * Checks: no job ran, the queue is empty, the pool's workers were registered (and unregistered after), the
 * harness's own command is in the counters, and on the bench's private server no other client ran a command
 * during the window.
 */
import { performance } from "node:perf_hooks"
import type { Redis as IORedis } from "ioredis"
import { Checks, harnessClient, main, redisCpuSeconds, sleep } from "../lib/child.ts"
import { foreignActiveClients, snapshot, startTap, statsDelta } from "../lib/idle.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

/** A started idle system: its checks while it runs, and its stop (with its checks after). */
interface Running {
  readonly whileRunning: () => Promise<void>
  readonly stop: () => Promise<void>
}

const workersKey = (input: CaseInput) => `${input.prefix}:workers`
const queueKey = (input: CaseInput) => `${input.prefix}:queue:bench`

const startOurs = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<Running> => {
  const ours = await import("../peers/ours.ts")
  const pool = await ours.idleStart(input)
  const slots = input.params["concurrency"] ?? 50
  return {
    whileRunning: async () => {
      checks.equal("workers registered", await harness.scard(workersKey(input)), slots)
    },
    stop: async () => {
      checks.equal("slots", (await pool.stop()).slots, slots)
      checks.equal("workers unregistered", await harness.scard(workersKey(input)), 0)
      checks.equal("stat:processed", Number(await harness.get(`${input.prefix}:stat:processed`) ?? 0), 0)
      checks.equal("stat:failed", Number(await harness.get(`${input.prefix}:stat:failed`) ?? 0), 0)
      checks.equal("jobs left", await harness.llen(queueKey(input)), 0)
    }
  }
}

const startNodeResque = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<Running> => {
  const resque = await import("../peers/nodeResque.ts")
  const pool = await resque.idleStart(input)
  return {
    whileRunning: async () => {
      checks.equal("workers registered", await harness.scard(workersKey(input)), pool.workers)
    },
    stop: async () => {
      await pool.stop()
      checks.equal("workers unregistered", await harness.scard(workersKey(input)), 0)
      checks.equal("jobs run", pool.ran(), 0)
      checks.equal("stat:processed", (await resque.stats(harness, input)).processed, 0)
      checks.equal("jobs left", await harness.llen(resque.queueKey(input)), 0)
    }
  }
}

const startBullmq = async (input: CaseInput, checks: Checks): Promise<Running> => {
  const bull = await import("../peers/bullmq.ts")
  const pool = await bull.idleStart(input)
  return {
    whileRunning: async () => {
      // a Queue of its own for the checks, opened after the window
      const q = await bull.queue(input)
      checks.equal("workers registered (connections named for the queue)", await q.getWorkersCount(), 1)
      const counts = await q.getJobCounts("waiting", "active", "delayed", "failed", "completed")
      checks.equal("jobs in the queue", Object.values(counts).reduce((a, b) => a + b, 0), 0)
      await q.close()
    },
    stop: async () => {
      await pool.stop()
      checks.equal("jobs run", pool.ran(), 0)
    }
  }
}

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const checks = new Checks()
  const windowMs = input.params["windowMs"] ?? 10_000
  const warmupMs = input.params["warmupMs"] ?? 2_000
  const baselineMs = input.params["baselineMs"] ?? 3_000
  // before the system connects: the tap learns its connections from their first write
  const tap = startTap(harness)

  // the server's own idle CPU, nothing of this process connected but the harness
  const baseStart = performance.now()
  const baseCpu = await redisCpuSeconds(harness)
  await sleep(baselineMs)
  const baselineCpuPct = (((await redisCpuSeconds(harness)) - baseCpu) * 1000 / (performance.now() - baseStart)) * 100

  const running = input.system === "node-resque"
    ? await startNodeResque(input, harness, checks)
    : input.system === "bullmq"
    ? await startBullmq(input, checks)
    : await startOurs(input, harness, checks)
  await sleep(warmupMs)

  const before = await snapshot(harness)
  tap.reset()
  const started = performance.now()
  const nodeCpu = process.cpuUsage()
  // a timer may fire a fraction of a millisecond early by this clock: the window is at least `windowMs`
  while (performance.now() - started < windowMs) await sleep(Math.max(1, Math.ceil(windowMs - (performance.now() - started))))
  const wallMs = performance.now() - started
  const nodeUsed = process.cpuUsage(nodeCpu)
  const sent = tap.count()
  const after = await snapshot(harness)

  const foreign = await foreignActiveClients(harness, tap.localPorts(), Math.floor(wallMs / 1000))
  if (input.privateServer) {
    if (foreign.length > 0) process.stderr.write(`idle: clients active in the window besides this process: ${foreign.join("; ")}\n`)
    checks.equal("other clients active in the window (private server)", foreign.length, 0)
  }
  await running.whileRunning()
  await running.stop()
  tap.close()
  harness.disconnect()

  const delta = statsDelta(before.commands, after.commands)
  // the first reading is the harness's one command in the window (the second does not count itself)
  checks.atLeast("harness INFO in the counters", delta.get("info") ?? 0, 1)
  delta.set("info", (delta.get("info") ?? 1) - 1)
  if (delta.get("info") === 0) delta.delete("info")
  const perSecond = (x: number) => (x * 1000) / wallMs
  let executed = 0
  let scriptCalls = 0
  const extra: Record<string, number> = {}
  for (const [name, calls] of delta) {
    if (name === "multi" || name === "exec") continue
    executed += calls
    if (/^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(name)) scriptCalls += calls
    extra[`cmd.${name}`] = perSecond(calls)
  }
  const redisCpuPct = ((after.cpuSeconds - before.cpuSeconds) * 1000 / wallMs) * 100
  return {
    case: input.case,
    system: input.system,
    variant: input.variant,
    n: input.params["concurrency"] ?? input.params["workers"] ?? 50,
    value: perSecond(executed),
    unit: "commands/s",
    wallMs,
    nodeCpuPct: ((nodeUsed.user + nodeUsed.system) / 1000 / wallMs) * 100,
    redisCpuPct,
    extra: {
      ...extra,
      executedPerSec: perSecond(executed),
      processedPerSec: perSecond(after.processed - before.processed - 1),
      sentPerSec: perSecond(sent.commands),
      roundTripsPerSec: perSecond(sent.roundTrips),
      insideScriptsPerSec: perSecond(Math.max(0, executed - sent.commands)),
      scriptCallsPerSec: perSecond(scriptCalls),
      redisBaselineCpuPct: baselineCpuPct,
      redisAttributableCpuPct: redisCpuPct - baselineCpuPct,
      foreignActiveClients: foreign.length,
      windowMs: wallMs,
      rssMb: process.memoryUsage.rss() / (1024 * 1024)
    },
    checks: checks.passed
  }
})
