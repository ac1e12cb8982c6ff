/**
 * The gauges' sample in one round trip: the queues and their lengths, the failed count, the delayed jobs,
 * the registered and the busy workers, read by the scheduler's leader only (the script checks the lock, so a
 * process that is not the leader sends one command and reads nothing).
 *
 * @since 0.3.0
 */
import type { Keys } from "../domain/Keys.ts"
import type { Reply } from "./MemoryStore.ts"
import * as Script from "./Script.ts"

/** Delayed seconds summed at most per sample: the count is exact up to this many distinct due seconds. */
export const delayedSecondsLimit = 10_000

/**
 * What the leader saw.
 *
 * @category models
 */
export interface Sample {
  readonly queues: ReadonlyArray<{ readonly name: string; readonly length: number }>
  readonly failed: number
  readonly delayed: number
  readonly workers: number
  readonly busy: number
}

const byteOrder = (members: Reply): ReadonlyArray<string> => [...Script.toStrings(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * `{ 1, #queues, (queue, length)..., failed, delayed, workers, busy }`, or `{ 0 }` when `name` does not hold
 * the leader lock.
 *
 * @category scripts
 */
export const sample = Script.make({
  name: "metricsSample",
  lua: String.raw`
local leader_key, queues_key, failed_key, schedule_key, workers_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local name, queue_prefix, delayed_prefix, worker_prefix, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('get', leader_key) ~= name then return { 0 } end
local out = { 1 }
local queues = redis.call('smembers', queues_key)
table.sort(queues)
out[#out + 1] = #queues
for _, q in ipairs(queues) do
  out[#out + 1] = q
  out[#out + 1] = redis.call('llen', queue_prefix .. q)
end
out[#out + 1] = redis.call('llen', failed_key)
local delayed = 0
for _, second in ipairs(redis.call('zrange', schedule_key, 0, limit - 1)) do
  delayed = delayed + redis.call('llen', delayed_prefix .. second)
end
out[#out + 1] = delayed
local workers = redis.call('smembers', workers_key)
local busy = 0
for _, m in ipairs(workers) do
  busy = busy + redis.call('exists', worker_prefix .. m)
end
out[#out + 1] = #workers
out[#out + 1] = busy
return out
`,
  encode: (input: { readonly keys: Keys; readonly name: string }) => ({
    keys: [input.keys.leaderLock, input.keys.queues, input.keys.failed, input.keys.delayedSchedule, input.keys.workers],
    args: [input.name, input.keys.queue(""), input.keys.key("delayed", ""), input.keys.key("worker", ""), delayedSecondsLimit]
  }),
  decode: (reply): Sample | undefined => {
    const items = Script.toArray(reply)
    if (Script.toNumber(items[0]) !== 1) return undefined
    let i = 1
    const count = Script.toNumber(items[i++])
    const queues: Array<{ readonly name: string; readonly length: number }> = []
    for (let q = 0; q < count; q++) {
      const name = Script.toStringOrNull(items[i++]) ?? ""
      queues.push({ name, length: Script.toNumber(items[i++]) })
    }
    const [failed, delayed, workers, busy] = items.slice(i).map(Script.toNumber)
    return { queues, failed: failed ?? 0, delayed: delayed ?? 0, workers: workers ?? 0, busy: busy ?? 0 }
  },
  twin: (redis, [leaderKey = "", queuesKey = "", failedKey = "", scheduleKey = "", workersKey = ""], [name = "", queuePrefix = "", delayedPrefix = "", workerPrefix = "", limit = "0"]) => {
    if (redis.call("get", leaderKey) !== name) return [0]
    const out: Array<Reply> = [1]
    const queues = byteOrder(redis.call("smembers", queuesKey))
    out.push(queues.length)
    for (const queue of queues) out.push(queue, redis.call("llen", queuePrefix + queue))
    out.push(redis.call("llen", failedKey))
    let delayed = 0
    for (const second of Script.toStrings(redis.call("zrange", scheduleKey, 0, Number(limit) - 1))) {
      delayed += Script.toNumber(redis.call("llen", delayedPrefix + second))
    }
    out.push(delayed)
    const workers = Script.toStrings(redis.call("smembers", workersKey))
    let busy = 0
    for (const member of workers) busy += Script.toNumber(redis.call("exists", workerPrefix + member))
    out.push(workers.length, busy)
    return out
  }
})
