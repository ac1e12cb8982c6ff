/**
 * The node-resque side of the benchmark, used as its README shows: `Queue.enqueue` for every job, and a
 * `MultiWorker` for processing. Its namespace is the run's prefix, so it never touches anyone else's keys.
 */
import { hostname } from "node:os"
import { performance } from "node:perf_hooks"
import { type Jobs, MultiWorker, Queue, Worker } from "node-resque"
import type { Redis as IORedis } from "ioredis"
import { type Checks, chunks, waitUntil } from "../lib/child.ts"
import * as Latency from "../lib/latency.ts"
import { type Counter, perJob } from "../lib/monitor.ts"
import type { CaseInput } from "../lib/protocol.ts"

export const QUEUE = "bench"

/** node-resque connection options for the run's Redis and namespace (each user opens its own connection). */
export const connection = (input: CaseInput) => {
  const url = new URL(input.redisUrl)
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    namespace: input.prefix,
    ...(url.password ? { options: { password: decodeURIComponent(url.password) } } : {})
  }
}

/** A connected node-resque Queue on its own connection. */
export const queue = async (input: CaseInput): Promise<Queue> => {
  const q = new Queue({ connection: connection(input) })
  q.on("error", (error) => process.stderr.write(`node-resque queue error: ${String(error)}\n`))
  await q.connect()
  return q
}

/** The queue's key, to check its length with the harness connection. */
export const queueKey = (input: CaseInput): string => `${input.prefix}:queue:${QUEUE}`

/** `queue.enqueue` one at a time. */
export const enqueueSingle = async (q: Queue, from: number, to: number): Promise<void> => {
  for (let i = from; i < to; i++) await q.enqueue(QUEUE, "noop", [{ i }])
}

/** `queue.enqueue` for a batch of indexes, all in parallel (node-resque has no batch enqueue). */
export const enqueueParallel = async (q: Queue, indexes: ReadonlyArray<number>): Promise<void> => {
  await Promise.all(indexes.map((i) => q.enqueue(QUEUE, "noop", [{ i }])))
}

export interface Processing {
  readonly worker: MultiWorker
  /** Jobs that succeeded / failed so far. */
  readonly counts: { succeeded: number; failed: number; firstPickedAt: number | undefined }
}

/**
 * A MultiWorker on the bench queue. Its autoscaler starts at `minTaskProcessors` and adds one worker per
 * check while the event loop is free; `timeout` is the idle poll delay (default 5 s, set to ours: 50 ms).
 */
export const multiWorker = (input: CaseInput, onPick: () => void, onStamp: (stamp: Latency.Stamp) => void = () => {}): Processing => {
  const counts: Processing["counts"] = { succeeded: 0, failed: 0, firstPickedAt: undefined }
  const worker = new MultiWorker(
    {
      connection: connection(input),
      queues: [QUEUE],
      minTaskProcessors: input.params["minWorkers"] ?? 1,
      maxTaskProcessors: input.params["maxWorkers"] ?? 10,
      timeout: 50
    },
    {
      noop: {
        perform: async () => {
          if (counts.firstPickedAt === undefined) {
            counts.firstPickedAt = performance.now()
            onPick()
          }
          return null
        }
      },
      stamp: {
        perform: async (stamp: Latency.Stamp) => {
          onStamp(stamp)
          return null
        }
      }
    }
  )
  worker.on("success", () => {
    counts.succeeded++
  })
  worker.on("failure", (_id, _queue, _job, failure) => {
    counts.failed++
    process.stderr.write(`node-resque job failed: ${String(failure)}\n`)
  })
  worker.on("error", (error) => process.stderr.write(`node-resque worker error: ${String(error)}\n`))
  return { worker, counts }
}

/**
 * Case `latency`: the MultiWorker of case 4 (`minWorkers`..`maxWorkers`, 50 ms poll), grown to its minimum
 * before the first job (its autoscaler adds one task processor per 500 ms check), then jobs enqueued one at
 * a time with `queue.enqueue` (`lib/latency.ts`).
 */
export const latencyTimed = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<Latency.LatencyMeasured> => {
  const session = Latency.session(input, harness, checks)
  const total = Latency.warmupOf(input) + input.n
  const q = await queue(input)
  const { worker, counts } = multiWorker(input, () => {}, session.started)
  worker.start()
  const minWorkers = input.params["minWorkers"] ?? 1
  await waitUntil("MultiWorker at its minimum", () => worker.workers.length >= minWorkers && worker.workers.every((w) => w.started), 60_000, 10)
  const measured = await session.drive((stamp) => q.enqueue(QUEUE, "stamp", [stamp]))
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= total, 60_000, 2)
  checks.atLeast("task processors", worker.workers.length, minWorkers)
  await worker.end()
  checks.equal("succeeded", counts.succeeded, total)
  checks.equal("failed", counts.failed, 0)
  checks.equal("jobs left", await harness.llen(queueKey(input)), 0)
  checks.equal("stat:processed", (await stats(harness, input)).processed, total)
  await q.end()
  return measured
}

/**
 * Case `idle`: `workers` (50) node-resque Workers on the bench queue, each polling every 50 ms (as in case 4),
 * started at once: the task processors of a MultiWorker at 50, without its autoscaler (which adds one per
 * 500 ms check: 25 s to reach 50, and lets an idle pool shrink to its minimum).
 */
export const idleStart = async (input: CaseInput) => {
  const count = input.params["workers"] ?? 50
  let ran = 0
  const jobs: Jobs = {
    noop: {
      perform: async () => {
        ran++
        return null
      }
    }
  }
  const workers = Array.from({ length: count }, (_, k) =>
    new Worker({ connection: connection(input), queues: [QUEUE], timeout: 50, name: `${hostname()}:${process.pid}+${k + 1}` }, jobs))
  for (const w of workers) w.on("error", (error) => process.stderr.write(`node-resque worker error: ${String(error)}\n`))
  await Promise.all(workers.map(async (w) => {
    await w.connect()
    await w.start()
  }))
  return {
    workers: workers.length,
    ran: () => ran,
    stop: async () => {
      await Promise.all(workers.map((w) => w.end()))
    }
  }
}

/** node-resque's global processed / failed counters. */
export const stats = async (harness: IORedis, input: CaseInput) => {
  const [processed, failed] = await harness.mget(`${input.prefix}:stat:processed`, `${input.prefix}:stat:failed`)
  return { processed: Number(processed ?? 0), failed: Number(failed ?? 0) }
}

/** Case 6: counts per phase (see bench/cases/roundtrips.ts). */
export const roundTrips = async (input: CaseInput, harness: IORedis, counter: Counter, checks: Checks): Promise<Record<string, number>> => {
  const n = input.n
  const q = await queue(input)
  await counter.phase()
  await enqueueSingle(q, 0, n)
  const single = perJob("enqueue-single", await counter.phase(), n)
  const { worker, counts } = multiWorker(input, () => {})
  await worker.start()
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= n, 120_000, 2)
  await worker.end()
  const process = perJob("process", await counter.phase(), n)
  for (const batch of chunks(Array.from({ length: n }, (_, i) => i), 100)) await enqueueParallel(q, batch)
  const bulk = perJob("enqueue-bulk", await counter.phase(), n)
  checks.equal("succeeded", counts.succeeded, n)
  checks.equal("bulk jobs waiting", await harness.llen(queueKey(input)), n)
  await q.end()
  return { ...single, ...process, ...bulk }
}
