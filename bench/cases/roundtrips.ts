/**
 * Case 6: Redis commands and round trips per job, counted with MONITOR on a short run (not timed), phase by
 * phase: enqueue one job, bulk enqueue / fan-out, processing (plain jobs, and for us fan-out children, whose
 * completion also records the outcome), and one status read. Worker start and stop are inside the
 * processing phases (a few round trips in all), as is idle polling at the end of the queue.
 * Checks: every phase did all its jobs.
 */
import { Effect } from "effect"
import type { Redis as IORedis } from "ioredis"
import { Actions } from "../../src/layers/Actions.ts"
import * as bull from "../peers/bullmq.ts"
import * as resque from "../peers/nodeResque.ts"
import * as ours from "../peers/ours.ts"
import { Checks, chunks, harnessClient, main, waitUntil } from "../lib/child.ts"
import { type Counter, perJob, startCounter } from "../lib/monitor.ts"
import type { CaseInput, CaseResult } from "../lib/protocol.ts"

type Extra = Record<string, number>
const indexes = (n: number) => Array.from({ length: n }, (_, i) => i)

const runOurs = (input: CaseInput, harness: IORedis, counter: Counter, checks: Checks): Promise<Extra> =>
  ours.run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const n = input.n
    const concurrency = input.params["concurrency"] ?? 25
    const phase = (name: string, jobs = n) => Effect.promise(() => counter.phase()).pipe(Effect.map((count) => perJob(name, count, jobs)))
    yield* phase("setup")
    for (let i = 0; i < n; i++) yield* actions.enqueue("noop", { i })
    const single = yield* phase("enqueue-single")
    const plain = yield* ours.work(n, concurrency, Effect.void)
    const process = yield* phase("process")
    const fanOutId = yield* ours.fanOut(n)
    const fanOut = yield* phase("fanout")
    const children = yield* ours.work(n, concurrency, Effect.void)
    const processChildren = yield* phase("process-children")
    const status = yield* actions.fanOutStatus(fanOutId)
    const statusCount = yield* phase("status", 1)
    checks.equal("plain jobs succeeded", plain.succeeded, n)
    checks.equal("children succeeded", children.succeeded, n)
    checks.equal("status completed", status.completed, n)
    return { ...single, ...process, ...fanOut, ...processChildren, ...statusCount }
  }))

const runNodeResque = async (input: CaseInput, harness: IORedis, counter: Counter, checks: Checks): Promise<Extra> => {
  const n = input.n
  const q = await resque.queue(input)
  await counter.phase()
  await resque.enqueueSingle(q, 0, n)
  const single = perJob("enqueue-single", await counter.phase(), n)
  const { worker, counts } = resque.multiWorker(input, () => {})
  await worker.start()
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= n, 120_000, 2)
  await worker.end()
  const process = perJob("process", await counter.phase(), n)
  for (const batch of chunks(indexes(n), 100)) await resque.enqueueParallel(q, batch)
  const bulk = perJob("enqueue-bulk", await counter.phase(), n)
  checks.equal("succeeded", counts.succeeded, n)
  checks.equal("bulk jobs waiting", await harness.llen(resque.queueKey(input)), n)
  await q.end()
  return { ...single, ...process, ...bulk }
}

const runBullmq = async (input: CaseInput, harness: IORedis, counter: Counter, checks: Checks): Promise<Extra> => {
  const n = input.n
  const q = await bull.queue(input)
  await counter.phase()
  await bull.enqueueSingle(q, 0, n)
  const single = perJob("enqueue-single", await counter.phase(), n)
  const { worker, counts } = bull.worker(input, () => {})
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= n, 120_000, 2)
  await worker.close()
  const process = perJob("process", await counter.phase(), n)
  for (const batch of chunks(indexes(n), 100)) await bull.enqueueBulk(q, batch)
  const bulk = perJob("enqueue-bulk", await counter.phase(), n)
  const flow = await bull.flowProducer(input)
  await flow.add(bull.flowSpec(n))
  const fanOut = perJob("fanout", await counter.phase(), n)
  checks.equal("succeeded", counts.succeeded, n)
  checks.equal("jobs waiting", await q.getWaitingCount(), 2 * n)
  await Promise.all([q.close(), flow.close()])
  return { ...single, ...process, ...bulk, ...fanOut }
}

main(async (input): Promise<CaseResult> => {
  const harness = await harnessClient(input.redisUrl)
  const counter = await startCounter(input.redisUrl, harness)
  const checks = new Checks()
  const extra = input.system === "node-resque"
    ? await runNodeResque(input, harness, counter, checks)
    : input.system === "bullmq"
    ? await runBullmq(input, harness, counter, checks)
    : await runOurs(input, harness, counter, checks)
  counter.close()
  harness.disconnect()
  return {
    case: input.case,
    system: input.system,
    variant: input.variant,
    n: input.n,
    value: extra["process.roundTrips"] ?? Number.NaN,
    unit: "per job",
    wallMs: 0,
    nodeCpuPct: 0,
    redisCpuPct: 0,
    extra,
    checks: checks.passed
  }
})
