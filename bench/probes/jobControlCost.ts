/**
 * Per-job Redis cost of pause and limits on the worker's hot path: processes N no-op jobs on a real
 * redis-server and reads INFO commandstats (commands run inside scripts are counted too) and the wall time.
 * Usage: REDIS_URL=redis://127.0.0.1:PORT npx tsx bench/probes/jobControlCost.ts (a redis-server of your own: it resets its stats)
 */
import { Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import * as Job from "../../src/domain/Job.ts"
import * as Enqueue from "../../src/internal/Enqueue.ts"
import { Operations } from "../../src/layers/Operations.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as Resque from "../../src/layers/Resque.ts"
import * as Worker from "../../src/layers/Worker.ts"

const N = Number(process.env["N"] ?? 3000)
const plain = Action.make({ name: "noop", description: "", inputs: Schema.Struct({ n: Schema.Finite }), run: () => Effect.void, task: { queue: "q" } })
const limitedRate = Action.make({ ...plain, name: "noopRate", limit: { rate: { limit: 1_000_000, per: "1 second" } } })
const limitedConc = Action.make({ ...plain, name: "noopConc", limit: { concurrency: 1000 } })

const stats = (redis: Redis.Redis["Service"]) =>
  Effect.map(redis.send<string>("info", "commandstats"), (text) => {
    const out: Record<string, { calls: number; usec: number }> = {}
    for (const line of text.split("\n")) {
      const m = /^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/.exec(line.trim())
      if (m) out[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) }
    }
    return out
  })

const run = (name: string, action: Action.Any, setup: Effect.Effect<void, unknown, Operations>) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    yield* setup
    for (let i = 0; i < N; i += 500) {
      const payloads = Array.from({ length: Math.min(500, N - i) }, (_, k) => Job.encode("q", action.name, { n: i + k }))
      yield* redis.multi(Enqueue.push(redis.keys, "q", payloads))
    }
    yield* redis.send("config", "resetstat")
    const start = Date.now()
    yield* Effect.scoped(Effect.gen(function*() {
      const worker = yield* Worker.make({ queues: ["q"], concurrency: 10 })
      const sub = yield* PubSub.subscribe(worker.events)
      for (let i = 0; i < N; i++) yield* PubSub.take(sub)
    }))
    const ms = Date.now() - start
    const s = yield* stats(redis)
    const evalsha = (s["evalsha"]?.calls ?? 0) + (s["eval"]?.calls ?? 0)
    const scriptUsec = (s["evalsha"]?.usec ?? 0) + (s["eval"]?.usec ?? 0)
    const inner = Object.entries(s).filter(([k]) => !["evalsha", "eval", "info", "config|resetstat", "bzpopmin"].includes(k))
    const innerCalls = inner.reduce((n, [, v]) => n + v.calls, 0)
    const interesting = ["hkeys", "zremrangebyscore", "zcard", "zadd", "zrem", "pexpire", "zrange"].map((k) => `${k}=${((s[k]?.calls ?? 0) / N).toFixed(3)}`).join(" ")
    const perCall = (k: string) => ((s[k]?.usec ?? 0) / Math.max(1, s[k]?.calls ?? 0)).toFixed(2)
    console.log(`${name.padEnd(40)} ${(N / ms * 1000).toFixed(0).padStart(6)} jobs/s  script calls/job ${(evalsha / N).toFixed(3)}  redis cmds in scripts/job ${(innerCalls / N).toFixed(2)}  script µs/job ${(scriptUsec / N).toFixed(1)}  | per job: ${interesting} | µs per call: hkeys ${perCall("hkeys")} zremrangebyscore ${perCall("zremrangebyscore")} zadd ${perCall("zadd")}`)
  })

const url = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6399"
const cases: ReadonlyArray<readonly [string, Action.Any, Effect.Effect<void, unknown, Operations>]> = [
  ["nothing paused, no limit", plain, Effect.void],
  ["another queue paused", plain, Effect.flatMap(Operations, (ops) => Effect.asVoid(ops.pauseQueue("other")))],
  ["action rate limit (not reached)", limitedRate, Effect.void],
  ["action concurrency limit (not reached)", limitedConc, Effect.void]
]
const rounds = Number(process.env["ROUNDS"] ?? 2)
const program = Effect.gen(function*() {
  for (let round = 0; round < rounds; round++) {
    for (const [name, action, setup] of cases) {
      yield* run(name, action, setup).pipe(
        Effect.provide(Resque.layer({ actions: [plain, limitedRate, limitedConc] }).pipe(Layer.provideMerge(Redis.layer({ url, namespace: `measure-${round}-${name.length}-${Date.now()}` }))))
      )
    }
  }
})
Effect.runPromise(program).then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
