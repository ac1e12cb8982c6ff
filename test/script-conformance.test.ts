/**
 * Every Lua script and its JavaScript twin answer alike: each case seeds the same keyspace on a real
 * redis-server and on the in-memory backend, runs the script (Lua on Redis, the twin in memory) with the same
 * input, and compares the raw reply, the decoded reply and the whole resulting keyspace (types, values, and
 * times to live within a second). A last test checks that every script of the runtime has cases here.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Job from "../src/domain/Job.ts"
import * as Keys from "../src/domain/Keys.ts"
import * as Completion from "../src/internal/Completion.ts"
import type { Command } from "../src/internal/Connection.ts"
import * as Enqueue from "../src/internal/Enqueue.ts"
import * as FanOutDeadline from "../src/internal/FanOutDeadline.ts"
import * as FanOutScripts from "../src/internal/FanOutScripts.ts"
import * as JobControlScripts from "../src/internal/JobControlScripts.ts"
import * as Limits from "../src/internal/Limits.ts"
import * as MetricsScripts from "../src/internal/MetricsScripts.ts"
import * as OperationsPageScripts from "../src/internal/OperationsPageScripts.ts"
import * as OperationsScripts from "../src/internal/OperationsScripts.ts"
import * as Pick from "../src/internal/Pick.ts"
import * as Recurrence from "../src/internal/Recurrence.ts"
import * as Recurring from "../src/internal/Recurring.ts"
import * as SchedulerScripts from "../src/internal/SchedulerScripts.ts"
import * as WorkerScripts from "../src/internal/WorkerScripts.ts"
import type { Script } from "../src/internal/Script.ts"
import { Redis } from "../src/layers/Redis.ts"
import { memory, real, uniqueNamespace } from "./support/backends.ts"

/** One conformance case: a seeded keyspace and a script input, built from the key names. */
interface Case {
  readonly name: string
  readonly script: Script<never, unknown>
  readonly seed: (keys: Keys.Keys) => ReadonlyArray<Command>
  readonly input: (keys: Keys.Keys) => unknown
}

const scriptCase = <I, A>(name: string, script: Script<I, A>, seed: (keys: Keys.Keys) => ReadonlyArray<Command>, input: (keys: Keys.Keys) => I): Case =>
  ({ name, script: script as Script<never, unknown>, seed, input })

/** A key as both backends report it; `pttl` -1 without expiry. */
interface Stored {
  readonly key: string
  readonly type: string
  readonly value: unknown
  readonly pttl: number
}

/** The keyspace under a namespace, read through the seam (the same commands on both backends). */
const keyspace = (namespace: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const names = [...(yield* redis.send<ReadonlyArray<string>>("keys", `${namespace}:*`))].sort()
    const stored: Array<Stored> = []
    for (const key of names) {
      const type = yield* redis.send<string>("type", key)
      const value = type === "string"
        ? yield* redis.send("get", key)
        : type === "list"
        ? yield* redis.send("lrange", key, 0, -1)
        : type === "set"
        ? [...(yield* redis.send<ReadonlyArray<string>>("smembers", key))].sort()
        : type === "hash"
        ? Object.entries(yield* redis.send<Record<string, string>>("hgetall", key)).sort(([a], [b]) => (a < b ? -1 : 1))
        : yield* redis.send("zrange", key, 0, -1, "WITHSCORES")
      stored.push({ key, type, value, pttl: yield* redis.send<number>("pttl", key) })
    }
    return stored
  })

/** Seeds, runs the script, and reads back: the raw reply (or the error's code), the decoded reply, the keyspace. */
const runCase = (testCase: Case, namespace: string, layer: Layer.Layer<Redis, unknown>) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const seed = testCase.seed(redis.keys)
    if (seed.length > 0) yield* redis.multi(seed)
    const input = testCase.input(redis.keys) as never
    const raw = yield* Effect.result(redis.eval({ ...testCase.script, decode: (reply: unknown) => reply }, input))
    const decoded = raw._tag === "Success" ? testCase.script.decode(raw.success) : undefined
    return {
      reply: raw._tag === "Success" ? raw.success : `error ${String(raw.failure.cause).match(/ERR|WRONGTYPE|unknown completion write/)?.[0]}`,
      decoded,
      keyspace: yield* keyspace(namespace)
    }
  }).pipe(Effect.provide(layer))

/** Keyspaces agree when every key has the same type and value, and times to live agree within a second. */
const assertSameKeyspace = (memoryKeys: ReadonlyArray<Stored>, realKeys: ReadonlyArray<Stored>) => {
  const ttl = (pttl: number) => (pttl < 0 ? pttl : "ttl")
  assert.deepStrictEqual(
    memoryKeys.map(({ key, type, value, pttl }) => ({ key, type, value, ttl: ttl(pttl) })),
    realKeys.map(({ key, type, value, pttl }) => ({ key, type, value, ttl: ttl(pttl) }))
  )
  memoryKeys.forEach((stored, i) => {
    const other = realKeys[i]!.pttl
    if (stored.pttl >= 0) assert.isBelow(Math.abs(stored.pttl - other), 1000, `time to live of ${stored.key}`)
  })
}

// ---------------------------------------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------------------------------------

const job = (keys: Keys.Keys, queue: string, n: number, meta?: Job.JobMeta) => Job.encode(queue, "add", { a: n }, meta)
const worker = "host:1.0"
const workerQueues = "high,low"
/** The idle slots `host:1.0` .. `host:1.(n-1)` of a pool on `high,low`. */
const idleSlots = (keys: Keys.Keys, n: number): ReadonlyArray<Pick.IdleSlot> =>
  Array.from({ length: n }, (_, i) => ({ worker: `host:1.${i}`, runAt }))
const runAt = "2026-12-01T10:00:00.000Z"
const record = (keys: Keys.Keys, queue: string, payload: string, at = runAt) => Pick.record(at, queue, payload, worker)
const queued = (keys: Keys.Keys) => [
  ...Enqueue.push(keys, "high", [job(keys, "high", 1), job(keys, "high", 2)]),
  ...Enqueue.push(keys, "low", [job(keys, "low", 3), "not json"]),
  ...Enqueue.push(keys, "b-other", [job(keys, "b-other", 4)])
]
const fanOutMeta = (keys: Keys.Keys, id: string, total: number, onComplete = true): ReadonlyArray<Command> => [
  ["hset", keys.fanOut(id), "total", total, "completed", 0, "failed", 0, "ttl", 600000, "createdAt", 1,
    ...(onComplete ? ["onComplete", `{"class":"done","queue":"done","args":[{"album":"x",`, "onCompleteQueue", "done"] : [])],
  ["pexpire", keys.fanOut(id), 600000]
]
const child = (id: string, index: number, outcome: string, onlyIfAbsent = false): FanOutScripts.ChildRecord =>
  ({ fanOutId: id, index, outcome, now: 1000, onlyIfAbsent })
const ok = (n: number) => `o["add",{"a":${n}},${n}]`
const err = (n: number) => `e["add",{"a":${n}},"boom","Boom",{"_tag":"Boom"}]`
/** Payloads by queue, as a batch takes them. */
const byQueue = (...entries: ReadonlyArray<readonly [queue: string, payloads: ReadonlyArray<string>]>) => entries
const chain: Recurring.Chain = { action: "tick", queue: "ticks", inputs: {}, recurrence: { _tag: "Every", millis: 60_000 } }
/** The second of the first 03:00 UTC after 1 764 000 000 000 ms. */
const nightlySecond = Recurring.dueSecond(Date.parse("2025-11-25T03:00:00Z"))
const cronChain: Recurring.Chain = { ...chain, action: "nightly", recurrence: Recurrence.fromTaskUnsafe("nightly", { queue: "ticks", cron: "0 3 * * *" }) }
/** A tracked job's payload, and its record as an enqueue writes it. */
const tracked = (keys: Keys.Keys, id: string) => job(keys, "high", 7, { id, track: 60_000 })
const trackedRecord = (keys: Keys.Keys, id: string, payload: string, state: string, unique?: string): ReadonlyArray<Command> => [
  ["hset", keys.job(id), "state", state, "action", "add", "queue", "high", "payload", payload, "attempt", 1, ...(unique ? ["unique", unique] : [])],
  ["pexpire", keys.job(id), 60_000]
]
/** A unique fan-out child of `add` with claim key `key`. */
const uniqueChild = (keys: Keys.Keys, fanOutId: string, index: number, key: string, mode: FanOutScripts.UniqueChild["mode"]): FanOutScripts.UniqueChild => ({
  index,
  action: "add",
  queue: "fan",
  payload: job(keys, "fan", index, { id: `${fanOutId}:${index}`, track: 60_000, fanOut: fanOutId, index }),
  claim: keys.unique("add", key),
  mode,
  windowMillis: 30_000,
  id: `${fanOutId}:${index}`,
  ttlMillis: 60_000,
  outcomeHead: `["add",{"a":${index}},`
})
const uniqueInput = (keys: Keys.Keys, id: string, mode: JobControlScripts.UniqueEnqueue["mode"], at: number | undefined): JobControlScripts.UniqueEnqueue => ({
  keys,
  claim: keys.unique("add", "k"),
  mode,
  windowMillis: 30_000,
  id,
  queue: "high",
  payload: tracked(keys, id),
  atSecond: at === undefined ? undefined : at / 1000,
  fields: ["state", at === undefined ? "queued" : "delayed", "action", "add", "queue", "high", "payload", tracked(keys, id)],
  ttlMillis: 60_000
})

const failedWrites = (keys: Keys.Keys): ReadonlyArray<Completion.Write> => [
    ...Completion.bookkeeping(keys, {
      worker,
      queue: "high",
      payload: job(keys, "high", 9),
      outcome: { _tag: "Failure", exception: "Boom", error: "boom", data: { _tag: "Boom" }, backtrace: ["at x"], final: true, durationMs: 5 },
      now: 1_764_000_000_000,
      retry: { queue: "high", payload: job(keys, "high", 9, { attempt: 2 }), at: 1_764_000_005_000 }
    }),
    ["hincrby", keys.actionStats("add"), "runs", 1],
    Completion.recordChild(keys, child("f1", 0, ok(1))),
    Completion.continueChain(keys, { chain, token: "t1@1763999999000", random: "t2", now: 1_764_000_000_000 })
]
const successWrites = (keys: Keys.Keys, n: number): ReadonlyArray<Completion.Write> => [
  ...Completion.bookkeeping(keys, { worker, queue: "high", payload: job(keys, "high", n), outcome: { _tag: "Success", result: "1", durationMs: 2 }, now: 1 }),
  ["hincrby", keys.actionStats("add"), "runs", 1],
  ["hincrby", keys.actionStats("add"), "durationMs", 2],
  ["hset", keys.actionStats("add"), "lastAt", n],
  Completion.recordChild(keys, child("f1", n, ok(n)))
]
/** A slot's completion: slot `i` expects the record of job `n`. */
const plan = (keys: Keys.Keys, i: number, n: number, overrides: Partial<Completion.Plan> = {}): Completion.Plan => ({
  expected: Pick.runAtOf(record(keys, "high", job(keys, "high", n))),
  worker: `host:1.${i}`,
  counted: "processed",
  writes: successWrites(keys, n),
  next: { runAt },
  ...overrides
})
/** Queued jobs, a fan-out and a chain's marker; slot `i`'s record holds `records[i]` (none if undefined). */
const withCompletionState = (keys: Keys.Keys, records: ReadonlyArray<string | undefined>): ReadonlyArray<Command> => [
  ...queued(keys),
  ...fanOutMeta(keys, "f1", 3),
  ["set", keys.recurring("tick"), "t1"],
  ...records.flatMap((current, i) => (current === undefined ? [] : [["set", keys.working(`host:1.${i}`, workerQueues), current] as const]))
]
const heldBy = (keys: Keys.Keys, n: number) => record(keys, "high", job(keys, "high", n))
const limitNow = 1_764_000_000_000
const scope = (kind: Limits.Scope["kind"], name: string, limit: { readonly rate?: number; readonly concurrency?: number }): Limits.Scope =>
  ({ kind, name, rate: limit.rate ?? 0, windowMillis: 1000, concurrency: limit.concurrency ?? 0 })
const limitsOf = (scopes: ReadonlyArray<Limits.Scope>): Limits.Limits => ({ scopes, leaseMillis: 15_000 })
const limitsAt = (scopes: ReadonlyArray<Limits.Scope>) => ({ limits: limitsOf(scopes), now: limitNow })

// ---------------------------------------------------------------------------------------------------------
// the cases
// ---------------------------------------------------------------------------------------------------------

const cases: ReadonlyArray<Case> = [
  scriptCase("pick: each idle slot gets the next job, queues in priority order, until they are empty", Pick.pickMany, queued, (keys) => ({
    keys, workerQueues, queues: ["empty", "high", "low"], slots: idleSlots(keys, 6)
  })),
  scriptCase("pick: `*` takes every known queue in sorted order", Pick.pickMany, queued, (keys) => ({ keys, workerQueues, queues: ["*"], slots: idleSlots(keys, 2) })),
  scriptCase("pick: a non-JSON payload is recorded as a JSON string", Pick.pickMany, (keys) => Enqueue.push(keys, "low", ["not json"]), (keys) => ({
    keys, workerQueues, queues: ["low"], slots: idleSlots(keys, 1)
  })),
  scriptCase("pick: a slot whose record holds a job never completed gets it back; jobs left wake the next pool", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["set", keys.working("host:1.1", workerQueues), heldBy(keys, 7)],
    ["del", keys.wake]
  ], (keys) => ({ keys, workerQueues, queues: ["high"], slots: idleSlots(keys, 2) })),
  scriptCase("pick: slots known to hold nothing are not read, and pick from the queues", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["set", keys.working("host:1.1", workerQueues), heldBy(keys, 7)]
  ], (keys) => ({ keys, workerQueues, queues: ["high"], slots: idleSlots(keys, 3).map((slot, i) => (i === 0 ? { ...slot, mayHold: false } : slot)) })),
  scriptCase("pick: paused queues are skipped, named or under `*`", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["hset", keys.paused, "high", 1, "b-other", 2]
  ], (keys) => ({ keys, workerQueues, queues: ["high", "*"], slots: idleSlots(keys, 4) })),
  scriptCase("pick: a queue over its rate is not popped, the next queue is; the wait until its next start is answered", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["zadd", keys.key("limit", "rate", "queue", "high"), limitNow - 500, "a", limitNow - 200, "b"]
  ], (keys) => ({ keys, workerQueues, queues: ["high", "low"], slots: idleSlots(keys, 2), limits: limitsAt([scope("queue", "high", { rate: 2 })]) })),
  scriptCase("pick: a job of an action at its concurrency goes back to the head of its queue, which waits", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["zadd", keys.key("limit", "running", "action", "add"), limitNow + 5000, "host:9.0", limitNow - 1, "expired"]
  ], (keys) => ({ keys, workerQueues, queues: ["high", "low"], slots: idleSlots(keys, 2), limits: limitsAt([scope("action", "add", { concurrency: 1 })]) })),
  scriptCase("pick: within the limits each job takes a start and a running slot", Pick.pickMany, queued, (keys) => ({
    keys, workerQueues, queues: ["high"], slots: idleSlots(keys, 3), limits: limitsAt([scope("queue", "high", { rate: 5, concurrency: 2 }), scope("action", "add", { rate: 9 })])
  })),
  scriptCase("pick: nothing to pick", Pick.pickMany, () => [], (keys) => ({ keys, workerQueues, queues: ["high", "*"], slots: idleSlots(keys, 3) })),
  scriptCase("pick: after the queues are drained, slots that hold nothing are skipped and a slot whose record holds a job still gets it", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["set", keys.working("host:1.4", workerQueues), Pick.record(runAt, "high", job(keys, "high", 8), "host:1.4")]
  ], (keys) => ({
    keys, workerQueues, queues: ["low"], slots: idleSlots(keys, 5).map((slot, i) => (i === 0 || i === 4 ? slot : { ...slot, mayHold: false }))
  })),
  scriptCase("pick: a slot whose last run_at is ahead of the call's gets its own; names that share no base travel whole", Pick.pickMany, (keys) => [
    ...queued(keys),
    ["set", keys.working("odd|name.x", workerQueues), Pick.record(runAt, "high", job(keys, "high", 8), "odd|name.x")]
  ], (keys) => ({
    keys, workerQueues, queues: ["high", "low"], slots: [
      { worker: "host:1.0", runAt },
      { worker: "host:1.1", runAt: "2026-12-01T10:00:00.007Z", mayHold: false },
      { worker: "odd|name.x", runAt: "2026-12-01T10:00:00.009Z" },
      { worker: "host:1.3", runAt }
    ]
  })),

  scriptCase("complete many: applies each completion, sums the counters, keeps the last hset, picks each slot's next job", Completion.completeMany, (keys) =>
    withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21), heldBy(keys, 22)]), (keys) => ({
    keys, workerQueues, queues: ["high", "*"], plans: [plan(keys, 0, 20), plan(keys, 1, 21), plan(keys, 2, 22, { writes: failedWrites(keys), counted: "failed" })]
  })),
  scriptCase("complete many: children of two fan-outs in one batch are recorded by fan-out, each finishes once, onCompletes in order", Completion.completeMany, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21), heldBy(keys, 22)]),
    ...fanOutMeta(keys, "f2", 2),
    ["hset", keys.fanOutOutcomes("f2"), "1", err(1)],
    ["hincrby", keys.fanOut("f2"), "failed", 1]
  ], (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [
      plan(keys, 0, 20, { writes: [Completion.recordChild(keys, child("f2", 1, ok(1))), ...successWrites(keys, 20)] }),
      plan(keys, 1, 21, { writes: [...successWrites(keys, 21), Completion.recordChild(keys, child("f2", 0, ok(0)))] }),
      plan(keys, 2, 22)
    ]
  })),
  scriptCase("complete many: the next jobs come from the queues that are not paused", Completion.completeMany, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21)]),
    ["hset", keys.paused, "high", 1]
  ], (keys) => ({ keys, workerQueues, queues: ["high", "low"], plans: [plan(keys, 0, 20), plan(keys, 1, 21)] })),
  scriptCase("complete many: a completion frees its running slot and the slot takes the next job within the limit", Completion.completeMany, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21)]),
    ["zadd", keys.key("limit", "running", "queue", "high"), limitNow + 5000, "host:1.0", limitNow + 5000, "host:1.1"]
  ], (keys) => ({
    keys, workerQueues, queues: ["high"], limits: limitsAt([scope("queue", "high", { concurrency: 2 })]),
    plans: [
      plan(keys, 0, 20, { writes: [...successWrites(keys, 20), ...Limits.release(keys, limitsOf([scope("queue", "high", { concurrency: 2 })]), { queue: "high", action: "add", worker: "host:1.0" })] }),
      plan(keys, 1, 21)
    ]
  })),
  scriptCase("complete many: stopping slots pick nothing and their records are deleted", Completion.completeMany, (keys) =>
    withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21)]), (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [plan(keys, 0, 20, { next: undefined }), plan(keys, 1, 21)]
  })),
  scriptCase("complete many: a completion re-sent after its first run picked writes nothing twice and gets that job back", Completion.completeMany, (keys) =>
    // the first run replaced the record with the next job's, which has a later run_at
    withCompletionState(keys, [record(keys, "high", job(keys, "high", 2), "2026-12-01T10:00:00.001Z")]), (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [plan(keys, 0, 20)]
  })),
  scriptCase("complete many: a record gone (reclaimed) skips the writes and picks the next job", Completion.completeMany, (keys) =>
    withCompletionState(keys, [undefined]), (keys) => ({ keys, workerQueues, queues: ["high"], plans: [plan(keys, 0, 20)] })),
  scriptCase("complete many: more completions than jobs: the rest pick nothing", Completion.completeMany, (keys) =>
    withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21), heldBy(keys, 22), heldBy(keys, 23), heldBy(keys, 24), heldBy(keys, 25), heldBy(keys, 26)]), (keys) => ({
    keys, workerQueues, queues: ["high", "low"], plans: [20, 21, 22, 23, 24, 25, 26].map((n, i) => plan(keys, i, n))
  })),
  scriptCase("complete many: counters of the workers' own by outcome (none for a handed-back job); names that share no base travel whole", Completion.completeMany, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21)]),
    ["set", keys.working("other|pool", workerQueues), Pick.record(runAt, "high", job(keys, "high", 22), "other|pool")]
  ], (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [
      plan(keys, 0, 20, { counted: "failed" }),
      plan(keys, 1, 21, { counted: undefined, writes: [] }),
      { ...plan(keys, 0, 22), worker: "other|pool" }
    ]
  })),
  scriptCase("complete many: further children of a fan-out in a batch keep outcomes with any character", Completion.completeMany, (keys) =>
    withCompletionState(keys, [heldBy(keys, 20), heldBy(keys, 21)]), (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [
      plan(keys, 0, 20, { writes: [Completion.recordChild(keys, child("f1", 0, `o["add",{"a":"x|y|"},0]`))] }),
      plan(keys, 1, 21, { writes: [Completion.recordChild(keys, child("f1", 1, `e["add",{"a":"|"},"a|b\nc","Boom"]`, true))] })
    ]
  })),
  scriptCase("complete many: a fan-out child written as a further child of a write that is not a fan-out child is refused before anything is written", Completion.completeMany, (keys) => withCompletionState(keys, [heldBy(keys, 20)]), (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [plan(keys, 0, 20, { writes: [["incrby", keys.stat("processed"), 1], ["child", "1", "0", ok(0), "1000", "-"] as unknown as Completion.Write] })]
  })),
  scriptCase("complete many: an unknown write is refused before anything is written", Completion.completeMany, (keys) => withCompletionState(keys, [heldBy(keys, 20)]), (keys) => ({
    keys, workerQueues, queues: ["high"], plans: [plan(keys, 0, 20, { writes: [["incrby", keys.stat("processed"), 1], ["flushall"] as unknown as Completion.Write] })]
  })),
  scriptCase("complete guarded: record and ping as read: applied", Completion.complete, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 9)]),
    ["set", keys.ping("host:1.0"), "{\"time\":1}"]
  ], (keys) => ({
    keys,
    working: keys.working("host:1.0", workerQueues),
    expected: heldBy(keys, 9),
    guard: { key: keys.ping("host:1.0"), value: "{\"time\":1}" },
    writes: [...failedWrites(keys), ...Completion.unregister(keys, "host:1.0", workerQueues)]
  })),
  scriptCase("complete guarded: the worker pinged again: nothing written", Completion.complete, (keys) => [
    ...withCompletionState(keys, [heldBy(keys, 9)]),
    ["set", keys.ping("host:1.0"), "{\"time\":2}"]
  ], (keys) => ({
    keys,
    working: keys.working("host:1.0", workerQueues),
    expected: heldBy(keys, 9),
    guard: { key: keys.ping("host:1.0"), value: "{\"time\":1}" },
    writes: failedWrites(keys)
  })),
  scriptCase("complete guarded: an idle dead worker (no record) is unregistered", Completion.complete, (keys) => [
    ["sadd", keys.workers, `host:1.0:${workerQueues}`],
    ["set", keys.ping("host:1.0"), "{\"time\":1}"]
  ], (keys) => ({
    keys,
    working: keys.working("host:1.0", workerQueues),
    expected: "",
    guard: { key: keys.ping("host:1.0"), value: "{\"time\":1}" },
    writes: Completion.unregister(keys, "host:1.0", workerQueues)
  })),

  scriptCase("limits renew: the slots the pool's workers hold get a new lease, others are left alone", Limits.renew, (keys) => [
    ["zadd", keys.key("limit", "running", "queue", "high"), limitNow, "host:1.0", limitNow, "other:1.0"]
  ], (keys) => ({ keys, limits: limitsOf([scope("queue", "high", { concurrency: 2 }), scope("queue", "low", { rate: 3 })]), names: ["host:1.0", "host:1.1"], now: limitNow })),

  scriptCase("register workers: the set, start times and first pings of a pool", WorkerScripts.register, () => [], (keys) => ({
    keys, names: ["host:1.0", "host:1.1"], queues: workerQueues, seconds: 1_764_000_000
  })),
  scriptCase("ping workers: pings refreshed, a worker taken for dead comes back to the set", WorkerScripts.ping, (keys) => [
    ["sadd", keys.workers, `host:1.0:${workerQueues}`],
    ["set", keys.ping("host:1.0"), "old"]
  ], (keys) => ({ keys, names: ["host:1.0", "host:1.1"], queues: workerQueues, seconds: 1_764_000_005 })),

  scriptCase("fan-out batch: the first batch creates the fan-out and writes its children", FanOutScripts.writeBatch, () => [], (keys) => ({
    keys,
    fanOutId: "f2",
    marker: "b0",
    ttlMillis: 600000,
    creation: { meta: { total: 3, completed: 0, failed: 0, ttl: 600000 }, total: 3 },
    queues: byQueue(["fan", [job(keys, "fan", 0, { fanOut: "f2", index: 0 }), job(keys, "fan", 1, { fanOut: "f2", index: 1 })]], ["other", [job(keys, "other", 2, { fanOut: "f2", index: 2 })]])
  })),
  scriptCase("fan-out batch: a batch already written is not written again", FanOutScripts.writeBatch, (keys) => [...fanOutMeta(keys, "f2", 3), ["hset", keys.fanOut("f2"), "b0", "1"]], (keys) => ({
    keys, fanOutId: "f2", marker: "b0", ttlMillis: 600000, queues: byQueue(["fan", [job(keys, "fan", 0)]])
  })),
  scriptCase("fan-out batch: another total under the same id is a conflict", FanOutScripts.writeBatch, (keys) => fanOutMeta(keys, "f2", 5), (keys) => ({
    keys, fanOutId: "f2", marker: "b0", ttlMillis: 600000, creation: { meta: { total: 3 }, total: 3 }, queues: byQueue(["fan", [job(keys, "fan", 0)]])
  })),
  scriptCase("fan-out batch: a later batch of an expired fan-out writes nothing", FanOutScripts.writeBatch, () => [], (keys) => ({
    keys, fanOutId: "f2", marker: "b100", ttlMillis: 600000, queues: byQueue(["fan", [job(keys, "fan", 100)]])
  })),
  scriptCase("fan-out batch: an empty fan-out pushes its onComplete with its creation", FanOutScripts.writeBatch, () => [], (keys) => ({
    keys, fanOutId: "f3", marker: "b0", ttlMillis: 600000,
    creation: { meta: { total: 0, done: 5 }, total: 0, onCreate: { queue: "done", payload: "{\"class\":\"done\",\"queue\":\"done\",\"args\":[{}]}" } },
    queues: []
  })),

  scriptCase("fan-out batch: unique children take free claims and are written with their records; a held claim is a duplicate", FanOutScripts.writeBatch, (keys) => [
    ["set", keys.unique("add", "held"), "j0", "PX", 60_000],
    ...trackedRecord(keys, "j0", tracked(keys, "j0"), "queued"),
    ["set", keys.unique("add", "ended"), "j9", "PX", 60_000],
    ["hset", keys.job("j9"), "state", "succeeded"]
  ], (keys) => ({
    keys,
    fanOutId: "f4",
    marker: "b0",
    ttlMillis: 600000,
    now: 5000,
    creation: { meta: { total: 4, completed: 0, failed: 0, ttl: 600000 }, total: 4 },
    queues: byQueue(["fan", [job(keys, "fan", 3, { fanOut: "f4", index: 3 })]]),
    unique: [
      uniqueChild(keys, "f4", 0, "free", "until-done"),
      uniqueChild(keys, "f4", 1, "held", "until-done"),
      uniqueChild(keys, "f4", 2, "ended", "until-started")
    ]
  })),
  scriptCase("fan-out batch: duplicates that are the last children finish the fan-out and push its onComplete; the holder's id is escaped", FanOutScripts.writeBatch, (keys) => [
    ...fanOutMeta(keys, "f5", 3),
    ["hset", keys.fanOutOutcomes("f5"), "0", ok(0)],
    ["hincrby", keys.fanOut("f5"), "completed", 1],
    ["set", keys.unique("add", "held"), "j\\\"0", "PX", 60_000],
    ...trackedRecord(keys, "j\\\"0", tracked(keys, "j0"), "queued")
  ], (keys) => ({
    keys,
    fanOutId: "f5",
    marker: "b1",
    ttlMillis: 600000,
    now: 5000,
    queues: [],
    unique: [uniqueChild(keys, "f5", 1, "held", "window"), uniqueChild(keys, "f5", 2, "held", "until-done")]
  })),
  scriptCase("fan-out batch: until-started takes over from a running holder", FanOutScripts.writeBatch, (keys) => [
    ...fanOutMeta(keys, "f6", 1),
    ["set", keys.unique("add", "running"), "j1", "PX", 60_000],
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "queued"),
    ["sadd", keys.workers, `${worker}:${workerQueues}`],
    ["set", keys.working(worker, workerQueues), record(keys, "high", tracked(keys, "j1"))]
  ], (keys) => ({
    keys, fanOutId: "f6", marker: "b0", ttlMillis: 600000, now: 5000, queues: [], unique: [uniqueChild(keys, "f6", 0, "running", "until-started")]
  })),
  scriptCase("fan-out batch: a batch already written reports the duplicates it recorded", FanOutScripts.writeBatch, (keys) => [
    ...fanOutMeta(keys, "f7", 2),
    ["hset", keys.fanOut("f7"), "b0", "1"],
    ["hset", keys.fanOutOutcomes("f7"), "1", `d["add",{"a":1},"j0"]`]
  ], (keys) => ({
    keys, fanOutId: "f7", marker: "b0", ttlMillis: 600000, now: 5000, queues: [],
    unique: [uniqueChild(keys, "f7", 0, "k0", "until-done"), uniqueChild(keys, "f7", 1, "k1", "until-done")]
  })),
  scriptCase("record children: counts, moves a retried child, finishes and pushes onComplete once", FanOutScripts.recordChildren, (keys) => [
    ...fanOutMeta(keys, "f1", 3),
    ["hset", keys.fanOutOutcomes("f1"), "1", err(1)],
    ["hincrby", keys.fanOut("f1"), "failed", 1]
  ], (keys) => ({ keys, children: [child("f1", 0, ok(0)), child("f1", 1, ok(1)), child("f1", 2, err(2)), child("f1", 2, err(2)), child("f1", 0, err(0), true)] })),
  scriptCase("record children: duplicates count apart and finish the fan-out; the onComplete carries their count", FanOutScripts.recordChildren, (keys) => [
    ...fanOutMeta(keys, "f1", 3),
    ["hset", keys.fanOutOutcomes("f1"), "1", `d["add",{"a":1},"j0"]`],
    ["hincrby", keys.fanOut("f1"), "duplicate", 1]
  ], (keys) => ({ keys, children: [child("f1", 0, ok(0)), child("f1", 2, err(2)), child("f1", 1, ok(1))] })),
  scriptCase("record children: an expired fan-out records nothing", FanOutScripts.recordChildren, () => [], (keys) => ({ keys, children: [child("gone", 0, ok(0))] })),

  scriptCase("recurring ensure: starts what has no live copy, skips what is live or stopped", Recurring.ensure, (keys) => [
    ["set", keys.recurring("live"), "old"],
    ["set", keys.recurringStopped("stopped"), "1"]
  ], (keys) => ({
    keys,
    starts: [
      { chain, token: "a" },
      { chain: { ...chain, action: "live" }, token: "b" },
      { chain: { ...chain, action: "stopped" }, token: "c" },
      // a cron's first copy waits in the delayed schedule for its time
      { chain: cronChain, token: Recurring.newToken(nightlySecond * 1000, "n"), second: nightlySecond }
    ],
    now: 1_764_000_000_000
  })),
  scriptCase("recurring ensure: a resumed action starts again", Recurring.ensure, (keys) => [["set", keys.recurringStopped("tick"), "1"]], (keys) => ({
    keys, starts: [{ chain, token: "a" }], clearStopped: true, now: 1_764_000_000_000
  })),

  scriptCase("fan-out deadline: overdue fan-outs end (children without an outcome failed, onComplete pushed); a later own deadline is put back; done or gone ones dropped", FanOutDeadline.endOverdue, (keys) => {
    const overdue = (id: string, deadline: number): ReadonlyArray<Command> => [
      ["hset", keys.fanOut(id), "deadline", deadline, "deadlineOutcome", FanOutDeadline.outcome(["add"], "1s")],
      ["zadd", keys.fanOutDeadlines, 5000, id]
    ]
    return [
      ...fanOutMeta(keys, "f1", 3),
      ...overdue("f1", 5000),
      ["hset", keys.fanOutOutcomes("f1"), "1", ok(1)],
      ["hincrby", keys.fanOut("f1"), "completed", 1],
      ...fanOutMeta(keys, "f2", 2),
      ...overdue("f2", 9000),
      ...fanOutMeta(keys, "f3", 1),
      ...overdue("f3", 5000),
      ["hset", keys.fanOut("f3"), "done", 1],
      ["zadd", keys.fanOutDeadlines, 5000, "gone"],
      ["zadd", keys.fanOutDeadlines, 99_000, "later"]
    ]
  }, (keys) => ({ keys, now: 6000, limit: 20 })),

  scriptCase("leader: a free lock is taken", SchedulerScripts.lead, () => [], (keys) => ({ keys, name: "s1", seconds: 60 })),
  scriptCase("leader: the holder renews it", SchedulerScripts.lead, (keys) => [["set", keys.leaderLock, "s1", "EX", 5]], (keys) => ({ keys, name: "s1", seconds: 60 })),
  scriptCase("leader: another's lock is left alone", SchedulerScripts.lead, (keys) => [["set", keys.leaderLock, "s2", "EX", 5]], (keys) => ({ keys, name: "s1", seconds: 60 })),
  scriptCase("leader: the duties lock is another's, the leader lock free", SchedulerScripts.lead, (keys) => [["set", keys.dutiesLock, "s2", "EX", 5]], (keys) => ({ keys, name: "s1", seconds: 60 })),
  scriptCase("leader: the leader lock is node-resque's, the duties lock free", SchedulerScripts.lead, (keys) => [["set", keys.leaderLock, "node-resque", "EX", 5]], (keys) => ({ keys, name: "s1", seconds: 60 })),
  scriptCase("resign: the holder releases both locks", SchedulerScripts.resign, (keys) => [["set", keys.leaderLock, "s1"], ["set", keys.dutiesLock, "s1"]], (keys) => ({ keys, name: "s1" })),
  scriptCase("resign: the holder releases it", SchedulerScripts.resign, (keys) => [["set", keys.leaderLock, "s1"]], (keys) => ({ keys, name: "s1" })),
  scriptCase("resign: another's lock is left alone", SchedulerScripts.resign, (keys) => [["set", keys.leaderLock, "s2"]], (keys) => ({ keys, name: "s1" })),

  scriptCase("promote: due jobs move to their queues, oldest second first, within the limit", SchedulerScripts.promote, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, job(keys, "a", 1)),
    ...Enqueue.pushAt(keys, 10_000, job(keys, "b", 2)),
    ...Enqueue.pushAt(keys, 11_000, "{\"class\":\"x\",\"args\":[]}"),
    ...Enqueue.pushAt(keys, 11_000, "not json"),
    ...Enqueue.pushAt(keys, 12_000, job(keys, "a", 3)),
    ...Enqueue.pushAt(keys, 99_000, job(keys, "a", 4))
  ], (keys) => ({ keys, nowSeconds: 12, limit: 4 })),

  scriptCase("overview: leader, counters, queues and workers with what they run", OperationsScripts.overview, (keys) => [
    ...queued(keys),
    ["set", keys.leaderLock, "s1"],
    ["set", keys.stat("processed"), 5],
    ["sadd", keys.workers, "host:1.0:high,low", "host:1.1:*"],
    ["set", keys.working("host:1.0", workerQueues), record(keys, "high", job(keys, "high", 1))],
    ["set", keys.stat("processed", "host:1.0"), 3],
    ["hset", keys.paused, "low", 1]
  ], (keys) => keys),
  scriptCase("metrics sample: queues, failed, delayed jobs, workers and busy workers, for the leader", MetricsScripts.sample, (keys) => [
    ...queued(keys),
    ["set", keys.leaderLock, "s1"],
    ["rpush", keys.failed, "f1", "f2"],
    ...Enqueue.pushAt(keys, 10_000, "d1"),
    ...Enqueue.pushAt(keys, 10_000, "d2"),
    ...Enqueue.pushAt(keys, 20_000, "d3"),
    ["sadd", keys.workers, "host:1.0:high,low", "host:1.1:*"],
    ["set", keys.working("host:1.0", workerQueues), record(keys, "high", job(keys, "high", 1))]
  ], (keys) => ({ keys, name: "s1" })),
  scriptCase("metrics sample: another scheduler's lock, nothing read", MetricsScripts.sample, (keys) => [
    ...queued(keys),
    ["set", keys.leaderLock, "s2"]
  ], (keys) => ({ keys, name: "s1" })),
  scriptCase("retry failed: a record there is re-enqueued once, one gone is not", OperationsScripts.retryFailed, (keys) => [
    ["rpush", keys.failed, "r1", "r2", "r1"]
  ], (keys) => ({ keys, retries: [{ record: "r1", queue: "q", payload: "p1" }, { record: "gone", queue: "q", payload: "p2" }, { record: "r1", queue: "q2", payload: "p3" }] })),
  scriptCase("delete delayed: removed from every second it is at, emptied seconds unscheduled", OperationsScripts.delDelayed, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, "p"),
    ...Enqueue.pushAt(keys, 20_000, "p"),
    ...Enqueue.pushAt(keys, 20_000, "other")
  ], (keys) => ({ keys, payload: "p" })),
  scriptCase("stop recurring: marker deleted, queued and delayed copies removed, flag set", OperationsScripts.stopRecurring, (keys) => [
    ["set", keys.recurring("tick"), "tok"],
    ...Enqueue.push(keys, "ticks", [Recurring.payload("ticks", "tick", {}, "tok"), "keep"]),
    ...Enqueue.pushAt(keys, 30_000, Recurring.payload("ticks", "tick", {}, "tok"))
  ], (keys) => {
    const [payloadPrefix = "", payloadSuffix = ""] = Recurring.payload("ticks", "tick", {}, "X").split("X")
    return { keys, action: "tick", queue: "ticks", payloadPrefix, payloadSuffix }
  }),
  scriptCase("stop recurring: a chain that is not live only sets the flag", OperationsScripts.stopRecurring, () => [], (keys) => ({
    keys, action: "tick", queue: "ticks", payloadPrefix: "", payloadSuffix: ""
  })),

  scriptCase("take failed: records still at their index are taken (retried or removed), moved ones left alone", OperationsPageScripts.takeFailed, (keys) => [
    ["rpush", keys.failed, "r0", "r1", "r2", "r1", "r4"]
  ], (keys) => ({
    keys,
    tombstone: "taken:t",
    records: [
      { index: 1, record: "r1", retry: { queue: "q", payload: "p1" } },
      { index: 2, record: "moved", retry: { queue: "q", payload: "p2" } },
      { index: 3, record: "r1" },
      { index: 9, record: "r4" },
      { index: 4, record: "r4", retry: { queue: "q2", payload: "p4" } }
    ]
  })),
  scriptCase("take failed: nothing matches, nothing written", OperationsPageScripts.takeFailed, (keys) => [["rpush", keys.failed, "r0"]], (keys) => ({
    keys, tombstone: "taken:t", records: [{ index: 0, record: "other" }]
  })),
  scriptCase("push one: a job appended to a queue that has jobs, its queue known and both wake-up markers set", Enqueue.pushOne, (keys) => [...Enqueue.push(keys, "q", ["first"])], (keys) => ({
    keys, queue: "q", payload: "second"
  })),
  scriptCase("push one: the first job of a new queue", Enqueue.pushOne, (keys) => [["sadd", keys.queues, "other"]], (keys) => ({
    keys, queue: "new", payload: "{\"class\":\"a\",\"args\":[{}]}"
  })),
  scriptCase("schedule once: a job not scheduled at that second is written", Enqueue.scheduleOnce, (keys) => [...Enqueue.pushAt(keys, 10_000, "other")], (keys) => ({
    keys, timestampMs: 10_000, payload: "job", nowMs: 5_000
  })),
  scriptCase("schedule once: the same job at the same second writes nothing", Enqueue.scheduleOnce, (keys) => [...Enqueue.pushAt(keys, 10_000, "job")], (keys) => ({
    keys, timestampMs: 10_200, payload: "job", nowMs: 5_000
  })),
  scriptCase("schedule once: a job with trace headers is written and its identity noted, to expire a day after its second", Enqueue.scheduleOnce, (keys) => [...Enqueue.pushAt(keys, 10_000, "other")], (keys) => ({
    keys, timestampMs: 10_000, payload: "job+trace1", identity: "job", nowMs: Date.now() - 1_000
  })),
  scriptCase("schedule once: the same job with other trace headers at the same second writes nothing", Enqueue.scheduleOnce, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, "job+trace1"),
    ["hset", keys.delayedIds(10), "job", "job+trace1"]
  ], (keys) => ({ keys, timestampMs: 10_300, payload: "job+trace2", identity: "job", nowMs: 5_000 })),
  scriptCase("schedule once: the job without trace headers at that second counts as the same job", Enqueue.scheduleOnce, (keys) => [...Enqueue.pushAt(keys, 10_000, "job")], (keys) => ({
    keys, timestampMs: 10_000, payload: "job+trace1", identity: "job", nowMs: 5_000
  })),
  scriptCase("schedule once: a noted copy no longer at that second (promoted) lets the job be written again", Enqueue.scheduleOnce, (keys) => [
    ["hset", keys.delayedIds(10), "job", "job+trace1"]
  ], (keys) => ({ keys, timestampMs: 10_000, payload: "job+trace2", identity: "job", nowMs: Date.now() - 1_000 })),
  scriptCase("schedule once: a job without trace headers finds a noted copy with them", Enqueue.scheduleOnce, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, "job+trace1"),
    ["hset", keys.delayedIds(10), "job", "job+trace1"]
  ], (keys) => ({ keys, timestampMs: 10_000, payload: "job", nowMs: 5_000 })),
  scriptCase("take delayed: run now moves one copy onto its queue; the second and timestamps stay for the other copy", OperationsPageScripts.takeDelayed, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, "p"),
    ...Enqueue.pushAt(keys, 10_000, "p"),
    ...Enqueue.pushAt(keys, 20_000, "p")
  ], (keys) => ({ keys, second: 10, payload: "p", runOn: "q" })),
  scriptCase("take delayed: removing the last job of a second unschedules it and clears its timestamp", OperationsPageScripts.takeDelayed, (keys) => [
    ...Enqueue.pushAt(keys, 10_000, "p"),
    ...Enqueue.pushAt(keys, 20_000, "p")
  ], (keys) => ({ keys, second: 10, payload: "p" })),
  scriptCase("take delayed: a job no longer there writes nothing", OperationsPageScripts.takeDelayed, (keys) => [...Enqueue.pushAt(keys, 10_000, "other")], (keys) => ({
    keys, second: 10, payload: "p", runOn: "q"
  })),

  // job control: a tracked job's record, the working-on records that find it running, unique claims
  scriptCase("read job: a waiting record and no worker; a delayed payload reads delayed", JobControlScripts.readJob, (keys) => [
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "delayed"),
    ...Enqueue.pushAt(keys, 10_000, tracked(keys, "j1")),
    ["sadd", keys.workers, `${worker}:${workerQueues}`],
    ["set", keys.working(worker, workerQueues), record(keys, "high", job(keys, "high", 1))]
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1") })),
  scriptCase("read job: found running in a worker's record", JobControlScripts.readJob, (keys) => [
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "queued"),
    ["sadd", keys.workers, `${worker}:${workerQueues}`, "host:1.1:high"],
    ["set", keys.working(worker, workerQueues), record(keys, "high", tracked(keys, "j1"))]
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1") })),
  scriptCase("read job: an ended record is not looked for; no record is unknown", JobControlScripts.readJob, (keys) => [
    ["hset", keys.job("j1"), "state", "succeeded", "result", "4"]
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1") })),
  scriptCase("cancel: a queued job is removed, its record says cancelled, its claim released", JobControlScripts.cancel, (keys) => [
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "queued", keys.unique("add", "k")),
    ["set", keys.unique("add", "k"), "j1"],
    ...Enqueue.push(keys, "high", [job(keys, "high", 1), tracked(keys, "j1")])
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1"), now: 5000 })),
  scriptCase("cancel: a waiting unique fan-out child is removed and recorded failed in its fan-out, which finishes", JobControlScripts.cancel, (keys) => [
    ...fanOutMeta(keys, "f1", 2),
    ["hset", keys.fanOutOutcomes("f1"), "0", ok(0)],
    ["hincrby", keys.fanOut("f1"), "completed", 1],
    ...trackedRecord(keys, "f1:1", tracked(keys, "f1:1"), "queued", keys.unique("add", "k")),
    ["hset", keys.job("f1:1"), "fanOut", "f1", "index", "1", "outcomeHead", `["add",{"a":1},`],
    ["set", keys.unique("add", "k"), "f1:1"],
    ...Enqueue.push(keys, "high", [tracked(keys, "f1:1")])
  ], (keys) => ({ keys, id: "f1:1", needle: Job.idNeedle("f1:1"), now: 5000 })),
  scriptCase("cancel: a delayed job is taken off the schedule", JobControlScripts.cancel, (keys) => [
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "delayed"),
    ...Enqueue.pushAt(keys, 10_000, tracked(keys, "j1")),
    ...Enqueue.pushAt(keys, 10_000, job(keys, "high", 2))
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1"), now: 5000 })),
  scriptCase("cancel: a running job's worker is asked to interrupt it", JobControlScripts.cancel, (keys) => [
    ...trackedRecord(keys, "j1", tracked(keys, "j1"), "queued"),
    ["sadd", keys.workers, `${worker}:${workerQueues}`],
    ["set", keys.working(worker, workerQueues), record(keys, "high", tracked(keys, "j1"))]
  ], (keys) => ({ keys, id: "j1", needle: Job.idNeedle("j1"), now: 5000 })),
  scriptCase("cancel: a running tracked fan-out child (no record yet) is interrupted", JobControlScripts.cancel, (keys) => [
    ["sadd", keys.workers, `${worker}:${workerQueues}`],
    ["set", keys.working(worker, workerQueues), record(keys, "high", tracked(keys, "f:0"))]
  ], (keys) => ({ keys, id: "f:0", needle: Job.idNeedle("f:0"), now: 5000 })),
  scriptCase("cancel: an ended job is left alone; a job that is nowhere is unknown", JobControlScripts.cancel, (keys) => [
    ["hset", keys.job("j1"), "state", "failed"],
    ...trackedRecord(keys, "j2", tracked(keys, "j2"), "queued")
  ], (keys) => ({ keys, id: "j2", needle: Job.idNeedle("j2"), now: 5000 })),
  scriptCase("enqueue unique: a free claim is taken and the job written with its record", JobControlScripts.enqueueUnique, () => [], (keys) =>
    uniqueInput(keys, "j1", "until-done", undefined)),
  scriptCase("enqueue unique: a held claim answers its holder and writes nothing", JobControlScripts.enqueueUnique, (keys) => [
    ["set", keys.unique("add", "k"), "j0", "PX", 60_000],
    ...trackedRecord(keys, "j0", tracked(keys, "j0"), "delayed")
  ], (keys) => uniqueInput(keys, "j1", "until-done", 20_000)),
  scriptCase("enqueue unique: until-started takes over from a running holder; delayed job written", JobControlScripts.enqueueUnique, (keys) => [
    ["set", keys.unique("add", "k"), "j0", "PX", 60_000],
    ...trackedRecord(keys, "j0", tracked(keys, "j0"), "queued"),
    ["sadd", keys.workers, `${worker}:${workerQueues}`],
    ["set", keys.working(worker, workerQueues), record(keys, "high", tracked(keys, "j0"))]
  ], (keys) => uniqueInput(keys, "j1", "until-started", 20_000)),
  scriptCase("enqueue unique: a window holds after its job ended; until-done does not", JobControlScripts.enqueueUnique, (keys) => [
    ["set", keys.unique("add", "k"), "j0", "PX", 60_000],
    ["hset", keys.job("j0"), "state", "succeeded"]
  ], (keys) => uniqueInput(keys, "j1", "window", undefined))
]

describe("scripts and their twins", () => {
  for (const testCase of cases) {
    it.live(testCase.name, () =>
      Effect.gen(function*() {
        const namespace = uniqueNamespace()
        const onRedis = yield* runCase(testCase, namespace, real.layer(namespace))
        const inMemory = yield* runCase(testCase, namespace, memory.layer(namespace))
        assert.deepStrictEqual(inMemory.reply, onRedis.reply, "raw reply")
        assert.deepStrictEqual(inMemory.decoded, onRedis.decoded, "decoded reply")
        assertSameKeyspace(inMemory.keyspace, onRedis.keyspace)
      }))
  }

  it("every script of the runtime has conformance cases", () => {
    const modules = [Completion, Enqueue, FanOutScripts, JobControlScripts, Limits, OperationsScripts, OperationsPageScripts, Pick, Recurring, SchedulerScripts, WorkerScripts]
    const scripts = modules.flatMap((module) =>
      Object.values(module).filter((value): value is Script<never, unknown> =>
        typeof value === "object" && value !== null && "lua" in value && "twin" in value)
    )
    const covered = new Set(cases.map((c) => c.script.name))
    assert.deepStrictEqual(scripts.map((s) => s.name).filter((name) => !covered.has(name)), [])
    assert.isAtLeast(scripts.length, 12)
  })
})
