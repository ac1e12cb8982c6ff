/**
 * Reliability: two scheduler processes. Exactly one leads; when the leader is SIGKILLed the other
 * takes over within the leader-lock timeout; the recurring action never runs twice for one period, and every
 * delayed job is promoted exactly once (the promotion is one atomic script, so a leader killed mid-poll
 * leaves each job either delayed or queued).
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import { redisCall } from "../support/app.ts"
import { redisUrl, uniqueNamespace } from "../support/backends.ts"
import { core, readRuns } from "./fixtures/actions.ts"
import { waitFor, worker } from "./support.ts"

const DELAYED = 300
const LOCK_SECONDS = 2
const TICK_MS = 2000

describe("reliability: two schedulers", () => {
  it.live("one leader; the other takes over after a SIGKILL; recurring and delayed jobs run exactly once", () => {
    const namespace = uniqueNamespace()
    return Effect.gen(function*() {
      const actions = yield* Actions
      const base = { REDIS_URL: redisUrl(), NAMESPACE: namespace, RECURRING: "1", TICK_MS: String(TICK_MS) }
      const scheduler = { ...base, WORKER: "0", SCHEDULER: "1", POLL_MS: "200", LEADER_LOCK_S: String(LOCK_SECONDS) }
      const procs = {
        s1: yield* worker({ ...scheduler, NAME: "s1" }),
        s2: yield* worker({ ...scheduler, NAME: "s2" })
      }
      yield* worker({ ...base, NAME: "w", QUEUES: "ticks,work", CONCURRENCY: "10" })
      const leaderNow = redisCall((client, keys) => client.get<string | null>(keys.leaderLock))
      const first = yield* waitFor("a leader", leaderNow, (l) => l === "s1" || l === "s2")
      // the same leader while both live
      for (let i = 0; i < 5; i++) {
        yield* Effect.sleep("200 millis")
        assert.strictEqual(yield* leaderNow, first)
      }
      const now = yield* Clock.currentTimeMillis
      for (let id = 0; id < DELAYED; id++) yield* actions.enqueueAt(now + (id % 8) * 1000, "work", { id })
      const ticks = redisCall((client) => client.lrange<ReadonlyArray<string>>(`${namespace}:test:ticks`, 0, -1))
      yield* waitFor("two ticks", ticks, (t) => t.length >= 2)
      // kill the leader while delayed jobs are still due
      const dueAtKill = DELAYED - Object.keys(yield* redisCall((client) => readRuns(client, namespace))).length
      const killedAt = yield* Clock.currentTimeMillis
      const leader = first === "s1" ? procs.s1 : procs.s2
      leader.signal("SIGKILL")
      yield* Effect.promise(() => leader.exited)
      const other = first === "s1" ? "s2" : "s1"
      yield* waitFor("the other scheduler to lead", leaderNow, (l) => l === other, 10_000)
      const takeover = (yield* Clock.currentTimeMillis) - killedAt
      const runs = redisCall((client) => readRuns(client, namespace))
      const allRan = yield* waitFor("every delayed job to run", runs, (r) => Object.keys(r).length >= DELAYED, 30_000)
      const ticksAtTakeover = (yield* ticks).length
      const allTicks = yield* waitFor("two ticks under the new leader", ticks, (t) => t.length >= ticksAtTakeover + 2, 20_000)
      const delayedLeft = yield* redisCall((client, keys) => client.zcard<number>(keys.delayedSchedule))
      const gaps = allTicks.map(Number).slice(1).map((t, i) => t - Number(allTicks[i]))
      console.log(`two schedulers: ${dueAtKill} delayed jobs not yet run at the kill; takeover ${takeover} ms (lock ${LOCK_SECONDS} s); ${DELAYED} delayed jobs ran ${Object.values(allRan).reduce((a, n) => a + n, 0)} times; tick gaps ${gaps.join(", ")} ms; delayed left ${delayedLeft}`)
      assert.isAbove(dueAtKill, 0)
      assert.isBelow(takeover, LOCK_SECONDS * 1000 + 1500)
      assert.strictEqual(Object.keys(allRan).length, DELAYED)
      assert.isTrue(Object.values(allRan).every((n) => n === 1), "a delayed job ran twice")
      // one live copy of the recurring action: at most one run per period. Runs are due on the schedule (no
      // drift), so a late run (the first one waits for the worker process to start) may be followed by an
      // on-time one sooner than a period; a second copy would double the runs over the span instead
      const starts = allTicks.map(Number)
      const span = Math.max(...starts) - Math.min(...starts)
      assert.isAtMost(starts.length, Math.floor(span / TICK_MS) + 2, `more runs than periods: gaps ${gaps.join(", ")}`)
      assert.isTrue(gaps.every((gap) => gap > 0), `two runs at once: ${gaps.join(", ")}`)
      const final = yield* redisCall((client) => readRuns(client, namespace))
      assert.isTrue(Object.values(final).every((n) => n === 1))
    }).pipe(Effect.scoped, Effect.provide(core(Redis.layer({ url: redisUrl(), namespace }))))
  })
})
