/**
 * The scripts behind the paged operations (the dashboard's writes): taking listed failed records out by
 * position, in bulk, and taking one delayed job out of its second (to run it now, or to drop it). Each does
 * its whole step atomically in one round trip, and each finds its records by position *and* exact string, so
 * a list that changed since it was read is never written at the wrong place.
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake, wakeTwin } from "./Enqueue.ts"
import type { Reply } from "./MemoryStore.ts"
import * as Script from "./Script.ts"

/** One failed record to take out: where it was read, the record, and what a retry enqueues (none: removal). */
export interface TakenRecord {
  readonly index: number
  readonly record: string
  /** The queue and payload to re-enqueue; undefined only removes the record. */
  readonly retry?: { readonly queue: string; readonly payload: string } | undefined
}

/**
 * Takes failed records out of the list by position: each record still at its index (same exact string) is
 * overwritten with a tombstone and, for a retry, its payload pushed onto its queue; then every tombstone is
 * removed with one `LREM`. Marking by index keeps the other records where they are while the script runs, so
 * a bulk retry costs one pass over the list instead of one `LREM` scan per record. Answers, per record,
 * whether it was taken.
 *
 * @category scripts
 */
export const takeFailed = Script.make({
  name: "takeFailed",
  lua: String.raw`${luaWake}
local failed_key, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local tombstone, queue_prefix = ARGV[1], ARGV[2]
local taken = {}
local marked = 0
for i = 3, #ARGV, 4 do
  local index, record, queue, payload = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local result = 0
  if redis.call('lindex', failed_key, index) == record then
    redis.call('lset', failed_key, index, tombstone)
    marked = marked + 1
    if queue ~= '' then
      redis.call('sadd', queues_key, queue)
      redis.call('rpush', queue_prefix .. queue, payload)
      wake(wake_key, queue)
    end
    result = 1
  end
  taken[#taken + 1] = result
end
if marked > 0 then redis.call('lrem', failed_key, 0, tombstone) end
return taken
`,
  encode: (input: { readonly keys: Keys; readonly tombstone: string; readonly records: ReadonlyArray<TakenRecord> }) => ({
    keys: [input.keys.failed, input.keys.queues, input.keys.wake],
    args: [
      input.tombstone,
      input.keys.queue(""),
      ...input.records.flatMap((r) => [String(r.index), r.record, r.retry?.queue ?? "", r.retry?.payload ?? ""])
    ]
  }),
  decode: (reply): ReadonlyArray<boolean> => Script.toArray(reply).map((taken) => taken === 1),
  twin: (redis, [failedKey = "", queuesKey = "", wakeKey = ""], [tombstone = "", queuePrefix = "", ...rest]) => {
    const taken: Array<Reply> = []
    let marked = 0
    for (let i = 0; i + 4 <= rest.length; i += 4) {
      const [index = "", record = "", queue = "", payload = ""] = rest.slice(i, i + 4)
      let result = 0
      if (redis.call("lindex", failedKey, index) === record) {
        redis.call("lset", failedKey, index, tombstone)
        marked++
        if (queue !== "") {
          redis.call("sadd", queuesKey, queue)
          redis.call("rpush", queuePrefix + queue, payload)
          wakeTwin(redis, wakeKey, queue)
        }
        result = 1
      }
      taken.push(result)
    }
    if (marked > 0) redis.call("lrem", failedKey, 0, tombstone)
    return taken
  }
})

/**
 * Takes one copy of a delayed job out of its second: removes it from the second's list, from the job's
 * timestamps set when no other copy is left at that second, and the second from the schedule when its list is
 * empty; with a queue, pushes the job onto it (run now). Answers 1 when the job was there, 0 otherwise (it was
 * promoted or removed meanwhile: nothing written).
 *
 * @category scripts
 */
export const takeDelayed = Script.make({
  name: "takeDelayed",
  lua: String.raw`${luaWake}
local delayed_key, timestamps_key, schedule_key, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local payload, second, queue_key, queue = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('lrem', delayed_key, 1, payload) == 0 then return 0 end
if not redis.call('lpos', delayed_key, payload) then redis.call('srem', timestamps_key, 'delayed:' .. second) end
if redis.call('llen', delayed_key) == 0 then redis.call('zrem', schedule_key, second) end
if queue ~= '' then
  redis.call('sadd', queues_key, queue)
  redis.call('rpush', queue_key, payload)
  wake(wake_key, queue)
end
return 1
`,
  encode: (input: { readonly keys: Keys; readonly second: number; readonly payload: string; readonly runOn?: string | undefined }) => ({
    keys: [
      input.keys.delayed(input.second),
      input.keys.timestamps(input.payload),
      input.keys.delayedSchedule,
      input.keys.queues,
      input.keys.wake
    ],
    args: [input.payload, String(input.second), input.runOn === undefined ? "" : input.keys.queue(input.runOn), input.runOn ?? ""]
  }),
  decode: (reply): boolean => reply === 1,
  twin: (redis, [delayedKey = "", timestampsKey = "", scheduleKey = "", queuesKey = "", wakeKey = ""], [payload = "", second = "", queueKey = "", queue = ""]) => {
    if (redis.call("lrem", delayedKey, 1, payload) === 0) return 0
    if (redis.call("lpos", delayedKey, payload) === null) redis.call("srem", timestampsKey, `delayed:${second}`)
    if (redis.call("llen", delayedKey) === 0) redis.call("zrem", scheduleKey, second)
    if (queue !== "") {
      redis.call("sadd", queuesKey, queue)
      redis.call("rpush", queueKey, payload)
      wakeTwin(redis, wakeKey, queue)
    }
    return 1
  }
})
