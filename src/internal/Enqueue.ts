/**
 * The commands that put a job on a Resque queue, now or at a time, as node-resque and Ruby Resque write them:
 * `SADD queues q` + `RPUSH queue:q payload...`, and for a delayed job `RPUSH delayed:<s>`, `SADD
 * timestamps:<payload> delayed:<s>`, `ZADD delayed_queue_schedule <s> <s>` (node-resque's scheduler and
 * Ruby's resque-scheduler both promote it). Every path that writes a job (enqueue, retry, reclaim, operations)
 * builds its commands here, so the wire format is written in one place. A job pushed onto a queue also wakes
 * the idle workers: `ZADD wake 0 q` (see `Keys.wake`); the scripts that push jobs do the same (`luaWake`).
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import type { Arg } from "./Connection.ts"

/** A command that writes a job. */
export type JobWrite = readonly [command: "sadd" | "rpush" | "zadd", ...args: ReadonlyArray<Arg>]

/** The commands that append `payloads` to `queue` and wake idle workers (none for no payload). */
export const push = (keys: Keys, queue: string, payloads: ReadonlyArray<string>): ReadonlyArray<JobWrite> =>
  payloads.length === 0 ? [] : [["sadd", keys.queues, queue], ["rpush", keys.queue(queue), ...payloads], ["zadd", keys.wake, 0, queue]]

/**
 * Lua: `wake(wake_key, queue)` marks a queue as having jobs, for the workers blocked on the marker. Shared by
 * every script that pushes a job.
 */
export const luaWake = String.raw`
local function wake(wake_key, queue)
  redis.call('zadd', wake_key, 0, queue)
end
`

/** The second a delayed job is filed under: Resque rounds the time to the nearest second. */
export const delayedSecond = (timestampMs: number): number => Math.round(timestampMs / 1000)

/** The commands that schedule `payload` at `timestampMs`, as node-resque's `enqueueAt` writes it. */
export const pushAt = (keys: Keys, timestampMs: number, payload: string): ReadonlyArray<JobWrite> => {
  const seconds = delayedSecond(timestampMs)
  return [
    ["rpush", keys.delayed(seconds), payload],
    ["sadd", keys.timestamps(payload), `delayed:${seconds}`],
    ["zadd", keys.delayedSchedule, seconds, String(seconds)]
  ]
}
