/**
 * Fan-out measurements (ad hoc, not a test): `npx tsx bench/probes/fanoutMeasure.ts [redisUrl]`.
 *
 * 1. Time to enqueue 10 000 children (default batch 100, concurrency 4, plus variants) on the given Redis
 *    (default 127.0.0.1:6379) under a unique namespace; its keys are deleted afterwards.
 * 2. Round trips per batch, on a private redis-server: `INFO commandstats` deltas (EVALSHA count = batches) and
 *    socket writes of the runtime's connection (each write is one request flush).
 * 3. Round trips per child for recording: socket writes per job of a worker running plain jobs versus
 *    fan-out children (the recorder's writes ride in the completion script, so the difference is the cost).
 *
 * The runtime reaches Redis only through its own connection; the probe reads stats, memory and cleans up
 * through a separate ioredis client, whose writes are not counted.
 */
import { randomUUID } from "node:crypto"
import { Socket } from "node:net"
import { Effect, Layer, PubSub, Schema } from "effect"
import { Redis as IORedis } from "ioredis"
import * as Action from "../../src/domain/Action.ts"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as Resque from "../../src/layers/Resque.ts"
import * as Worker from "../../src/layers/Worker.ts"
import { startRedisServer } from "../../test/support/redisServer.ts"

const item = Action.make({
  name: "item",
  description: "A child",
  inputs: Schema.Struct({ id: Schema.Finite, name: Schema.String }),
  run: ({ id }) => Effect.succeed(id * 2),
  task: { queue: "items" }
})

const app = (url: string, namespace: string) =>
  Resque.layer({ actions: [item] }).pipe(Layer.provideMerge(Redis.layer({ url, namespace })))

const inputs = (n: number) => Array.from({ length: n }, (_, id) => ({ id, name: `child-${id}` }))

/** The probe's own client, for stats and clean-up: its writes are never counted. */
const adminClient = (url: string) =>
  Effect.acquireRelease(Effect.sync(() => new IORedis(url, { maxRetriesPerRequest: 3 })), (client) => Effect.sync(() => client.disconnect()))

/**
 * Counts socket writes to the Redis server by this process, `admin`'s excepted (one write per request flush:
 * a command, a script call, or a whole MULTI/pipeline) until `stop`.
 */
const countWrites = (admin: IORedis) => {
  const port = admin.stream.remotePort
  const write = Socket.prototype.write
  const counter = { writes: 0, stop: () => {} }
  Socket.prototype.write = function(this: Socket, ...args: ReadonlyArray<unknown>): boolean {
    if (this.remotePort === port && this !== admin.stream) counter.writes++
    return Reflect.apply(write, this, args) as boolean
  } as Socket["write"]
  counter.stop = () => {
    Socket.prototype.write = write
  }
  return counter
}

const commandStats = (client: IORedis) =>
  Effect.promise(async () => {
    const info = await client.info("commandstats")
    const stats: Record<string, number> = {}
    for (const line of info.split("\n")) {
      const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
      if (m) stats[m[1]!] = Number(m[2])
    }
    return stats
  })

const deleteNamespace = (client: IORedis, namespace: string) =>
  Effect.promise(async () => {
    let cursor = "0"
    let deleted = 0
    for (let i = 0; i < 100_000; i++) {
      const [next, found] = await client.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000)
      if (found.length > 0) deleted += await client.del(...found)
      cursor = next
      if (cursor === "0") break
    }
    return deleted
  })

const enqueueTiming = (url: string) =>
  Effect.gen(function*() {
    const client = yield* adminClient(url)
    for (const [batchSize, concurrency] of [[100, 4], [100, 1], [500, 4], [1000, 8]] as const) {
      const namespace = `fanout-measure-${randomUUID().slice(0, 8)}`
      yield* Effect.gen(function*() {
        const actions = yield* Actions
        const all = inputs(10_000)
        yield* actions.fanOut(item, all.slice(0, 200)) // warm-up (connection, JIT)
        const runs: Array<number> = []
        for (let r = 0; r < 5; r++) {
          const start = performance.now()
          const result = yield* actions.fanOut(item, all, { batchSize, concurrency })
          runs.push(performance.now() - start)
          if (result.enqueued !== 10_000) throw new Error(`enqueued ${result.enqueued}`)
        }
        const deleted = yield* deleteNamespace(client, namespace)
        const sorted = [...runs].sort((a, b) => a - b)
        console.log(`enqueue 10000 children  batch=${batchSize} concurrency=${concurrency}: min ${sorted[0]!.toFixed(0)} ms, median ${sorted[2]!.toFixed(0)} ms (runs ${runs.map((t) => t.toFixed(0)).join(" / ")}; ${deleted} keys deleted)`)
      }).pipe(Effect.provide(app(url, namespace)))
    }
  }).pipe(Effect.scoped)

const roundTrips = (url: string) =>
  Effect.gen(function*() {
    const namespace = `fanout-measure-${randomUUID().slice(0, 8)}`
    const client = yield* adminClient(url)
    yield* Effect.gen(function*() {
      const actions = yield* Actions
      yield* actions.fanOut(item, inputs(10)) // the server learns the script (NOSCRIPT once); warms the connection
      const before = yield* commandStats(client)
      const counter = countWrites(client)
      const result = yield* actions.fanOut(item, inputs(1_000), { batchSize: 100, concurrency: 4 })
      const writes = counter.writes
      counter.stop()
      const after = yield* commandStats(client)
      const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([k, v]) => v !== 0 && k !== "info"))
      console.log(`fan-out of 1000 children, batch 100: socket writes ${writes}, commands`, delta, `enqueued ${result.enqueued}`)

      // recording: plain jobs versus fan-out children, same action, same worker settings
      const perJob = (fanOut: boolean, n: number) =>
        Effect.gen(function*() {
          yield* Effect.promise(() => client.del(`${namespace}:queue:items`))
          if (fanOut) yield* actions.fanOut(item, inputs(n))
          else for (const i of inputs(n)) yield* actions.enqueue(item, i)
          const stats0 = yield* commandStats(client)
          const count = countWrites(client)
          yield* Effect.scoped(Effect.gen(function*() {
            const worker = yield* Worker.make({ queues: ["items"], concurrency: 1, pollInterval: "1 second", pingInterval: "1 hour" })
            const sub = yield* PubSub.subscribe(worker.events)
            for (let i = 0; i < n; i++) yield* PubSub.take(sub)
          }))
          count.stop()
          const stats1 = yield* commandStats(client)
          const d = (k: string) => (stats1[k] ?? 0) - (stats0[k] ?? 0)
          return { writesPerJob: count.writes / n, execPerJob: d("exec") / n, evalshaPerJob: d("evalsha") / n }
        })
      const plain = yield* perJob(false, 500)
      const children = yield* perJob(true, 500)
      console.log("worker, per job (plain jobs):   ", plain)
      console.log("worker, per job (fan-out child):", children)

      // memory per child once every child has an outcome
      yield* Effect.promise(() => client.del(`${namespace}:queue:items`))
      const big = yield* actions.fanOut(item, inputs(10_000))
      yield* Effect.scoped(Effect.gen(function*() {
        const worker = yield* Worker.make({ queues: ["items"], concurrency: 10, pollInterval: "50 millis", pingInterval: "1 hour" })
        const sub = yield* PubSub.subscribe(worker.events)
        for (let i = 0; i < 10_000; i++) yield* PubSub.take(sub)
      }))
      const status = yield* actions.awaitFanOut(big, { timeout: "10 seconds" })
      const usage = (key: string) => Effect.promise(() => client.call("MEMORY", "USAGE", key, "SAMPLES", "0") as Promise<number>)
      const outcomes = yield* usage(`${namespace}:fanout:${big.fanOutId}:outcomes`)
      const meta = yield* usage(`${namespace}:fanout:${big.fanOutId}`)
      console.log(`10000 children done (completed ${status.completed}): outcomes hash ${outcomes} B, meta ${meta} B, ${((outcomes + meta) / 10_000).toFixed(1)} B per child`)
      const t = performance.now()
      yield* actions.fanOutStatus(big)
      console.log(`status of 10000 children (one MULTI + decode): ${(performance.now() - t).toFixed(0)} ms`)
      yield* deleteNamespace(client, namespace)
    }).pipe(Effect.provide(app(url, namespace)))
  }).pipe(Effect.scoped)

const main = Effect.gen(function*() {
  const url = process.argv[2] ?? "redis://127.0.0.1:6379"
  yield* enqueueTiming(url)
  const server = yield* Effect.promise(() => startRedisServer())
  yield* roundTrips(server.url).pipe(Effect.ensuring(Effect.promise(() => server.stop())))
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
