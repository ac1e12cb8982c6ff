/**
 * The BullMQ side of the benchmark: `Queue.add` / `addBulk`, `FlowProducer` for fan-out, `Worker` with
 * concurrency 50. Its `prefix` is the run's prefix. Completed jobs are removed (`removeOnComplete: true`), the
 * cheapest BullMQ setting and the closest to what Resque keeps (nothing per finished job).
 */
import { performance } from "node:perf_hooks"
import { type FlowJob, FlowProducer, type JobsOptions, Queue, Worker } from "bullmq"
import type { CaseInput } from "../lib/protocol.ts"

export const QUEUE = "bench"
export const PARENT_QUEUE = "bench-parent"

/** BullMQ connection options for the run's Redis (each BullMQ object opens its own connections). */
export const connection = (input: CaseInput) => {
  const url = new URL(input.redisUrl)
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {})
  }
}

const jobOptions = { removeOnComplete: true, removeOnFail: false } as const

/** A BullMQ queue under the run's prefix. */
export const queue = async (input: CaseInput, name = QUEUE): Promise<Queue> => {
  const q = new Queue(name, { connection: connection(input), prefix: input.prefix, defaultJobOptions: jobOptions })
  q.on("error", (error) => process.stderr.write(`bullmq queue error: ${String(error)}\n`))
  await q.waitUntilReady()
  return q
}

/** `queue.add` one at a time. */
export const enqueueSingle = async (q: Queue, from: number, to: number): Promise<void> => {
  for (let i = from; i < to; i++) await q.add("noop", { i })
}

/** One `addBulk` of the given indexes (one MULTI of one script call per job). */
export const enqueueBulk = async (q: Queue, indexes: ReadonlyArray<number>): Promise<void> => {
  await q.addBulk(indexes.map((i) => ({ name: "noop", data: { i } })))
}

/** A FlowProducer under the run's prefix. */
export const flowProducer = async (input: CaseInput): Promise<FlowProducer> => {
  const flow = new FlowProducer({ connection: connection(input), prefix: input.prefix })
  flow.on("error", (error) => process.stderr.write(`bullmq flow error: ${String(error)}\n`))
  await flow.waitUntilReady()
  return flow
}

/** One parent with `n` children: BullMQ's fan-out (built before the timed window, as a caller holds it). */
export const flowSpec = (n: number, parentOptions: JobsOptions = jobOptions): FlowJob => ({
  name: "parent",
  queueName: PARENT_QUEUE,
  data: {},
  opts: parentOptions,
  children: Array.from({ length: n }, (_, i) => ({ name: "noop", queueName: QUEUE, data: { i }, opts: jobOptions }))
})

export interface Processing {
  readonly worker: Worker
  readonly counts: { succeeded: number; failed: number; firstPickedAt: number | undefined }
}

/** A Worker on the bench queue with the given concurrency (default 50). */
export const worker = (input: CaseInput, onPick: () => void, name = QUEUE): Processing => {
  const counts: Processing["counts"] = { succeeded: 0, failed: 0, firstPickedAt: undefined }
  const w = new Worker(
    name,
    async () => {
      if (counts.firstPickedAt === undefined) {
        counts.firstPickedAt = performance.now()
        onPick()
      }
      return null
    },
    { connection: connection(input), prefix: input.prefix, concurrency: input.params["concurrency"] ?? 50 }
  )
  w.on("completed", () => {
    counts.succeeded++
  })
  w.on("failed", (_job, error) => {
    counts.failed++
    process.stderr.write(`bullmq job failed: ${String(error)}\n`)
  })
  w.on("error", (error) => process.stderr.write(`bullmq worker error: ${String(error)}\n`))
  return { worker: w, counts }
}
