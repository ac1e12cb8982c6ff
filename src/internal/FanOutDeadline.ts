/**
 * Fan-out deadlines: a bounded end for a fan-out whose children may never report. A child is recorded by the
 * worker that runs it; a child taken by another Resque client's worker (Ruby Resque, plain node-resque), or
 * removed with resque-web's "Remove Queue", never is, and its fan-out would stay pending until it expires.
 * A fan-out started with `deadline` ends by then whoever drained its queue: the children with no outcome
 * count as failed (`FanOutDeadline`, with a readable reason) and `onComplete` fires, once, as for any last
 * child.
 *
 * Cost: nothing per job. The fan-out's meta hash holds its deadline and the outcome to record; one entry in
 * the `fanout_deadlines` sorted set (written before the first batch, one round trip, only for a fan-out with
 * a deadline) is what the scheduler that holds the duties lock looks at: one script call per poll, which
 * ends every overdue fan-out (a batch per call) through the same recording fragment as the worker's.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FanOut from "../domain/FanOut.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Connection } from "./Connection.ts"
import * as FanOutScripts from "./FanOutScripts.ts"
import * as Script from "./Script.ts"

/** The exception of a child that had no outcome by its fan-out's deadline. */
export const exception = "FanOutDeadline"

/**
 * The stored outcome of a child that had no outcome by the deadline: its action when the fan-out has one
 * (else ""), no inputs (they travelled only in the job), and the reason.
 */
export const outcome = (actionNames: ReadonlyArray<string>, deadline: string): string =>
  FanOut.encodeFailure(actionNames.length === 1 ? actionNames[0]! : "", null, {
    error: `no outcome within the fan-out's deadline of ${deadline}: the job was taken by a worker that does not record fan-outs (another Resque client), or removed`,
    exception
  })

/** Fan-outs looked at per script call; the scheduler calls again while a call sees this many. */
export const batch = 20

/**
 * Ends the overdue fan-outs: takes up to `limit` ids whose deadline passed from the sorted set; for each one
 * that still exists, is not done and whose own deadline passed (an id re-used later keeps its first one),
 * records every child without an outcome as failed, `onComplete` included. Answers `[ids taken, fan-outs
 * ended]`.
 *
 * KEYS: deadlines set, queues set, wake-up marker. ARGV: queue key prefix, fan-out key prefix, now (ms), limit.
 *
 * @category scripts
 */
export const endOverdue = Script.make({
  name: "fanOutEndOverdue",
  lua: String.raw`${FanOutScripts.luaRecordChild}
local deadlines, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local prefix, fan_out_prefix, now, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local due = redis.call('zrangebyscore', deadlines, '-inf', now, 'LIMIT', 0, limit)
local groups = newGroups()
local ended = 0
for _, id in ipairs(due) do
  redis.call('zrem', deadlines, id)
  local meta = fan_out_prefix .. id
  local m = redis.call('hmget', meta, 'deadline', 'total', 'done', 'deadlineOutcome')
  local deadline, total = tonumber(m[1]), tonumber(m[2])
  if deadline and total and not m[3] and m[4] then
    if deadline > tonumber(now) then
      redis.call('zadd', deadlines, deadline, id)
    else
      local outcomes = meta .. ':outcomes'
      for i = 0, total - 1 do
        if redis.call('hexists', outcomes, i) == 0 then noteChild(groups, meta, id, tostring(i), m[4], now, 'nx') end
      end
      ended = ended + 1
    end
  end
end
recordGroups(groups, queues_key, wake_key, prefix)
return { #due, ended }
`,
  encode: (input: { readonly keys: Keys; readonly now: number; readonly limit: number }) => ({
    keys: [input.keys.fanOutDeadlines, input.keys.queues, input.keys.wake],
    args: [input.keys.queue(""), input.keys.fanOut(""), String(input.now), String(input.limit)]
  }),
  decode: (reply): readonly [taken: number, ended: number] => {
    const [taken, ended] = Script.toArray(reply)
    return [Number(taken ?? 0), Number(ended ?? 0)]
  },
  twin: (redis, [deadlines = "", queuesKey = "", wakeKey = ""], [prefix = "", fanOutPrefix = "", now = "0", limit = "0"]) => {
    const due = Script.toStrings(redis.call("zrangebyscore", deadlines, "-inf", now, "LIMIT", 0, limit))
    const groups = new FanOutScripts.ChildGroups()
    let ended = 0
    for (const id of due) {
      redis.call("zrem", deadlines, id)
      const meta = fanOutPrefix + id
      const [deadlineText, totalText, done, stored] = Script.toArray(redis.call("hmget", meta, "deadline", "total", "done", "deadlineOutcome"))
      const deadline = Script.toStringOrNull(deadlineText ?? null)
      const total = Script.toStringOrNull(totalText ?? null)
      if (deadline === null || total === null || done !== null || typeof stored !== "string") continue
      if (Number(deadline) > Number(now)) {
        redis.call("zadd", deadlines, deadline, id)
        continue
      }
      for (let i = 0; i < Number(total); i++) {
        if (redis.call("hexists", `${meta}:outcomes`, String(i)) === 0) groups.note([meta, id, String(i), stored, now, "nx"])
      }
      ended++
    }
    groups.record(redis, { queuesKey, wakeKey, prefix })
    return [due.length, ended]
  }
})

/**
 * Ends every overdue fan-out, a batch per script call (one call when none is due). Answers how many ended.
 *
 * @category programs
 */
export const endOverdueFanOuts = (redis: Connection, keys: Keys) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    let ended = 0
    // bounded: each call removes the ids it takes from the set
    for (let i = 0; i < 10_000; i++) {
      const [taken, count] = yield* redis.eval(endOverdue, { keys, now, limit: batch })
      ended += count
      if (taken < batch) break
    }
    return ended
  })
