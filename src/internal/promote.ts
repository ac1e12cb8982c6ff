/**
 * Promoting due delayed jobs in one atomic step. node-resque's scheduler pops a delayed job (`LPOP`) and
 * enqueues it in a second round trip: a leader killed between the two loses the job. This script pops, drops
 * the job's timestamp index, appends it to its queue unchanged, and cleans up the emptied timestamp, all at
 * once; a leader that dies mid-poll leaves every job either delayed or queued, never neither nor both.
 */
import * as Script from "./script.ts"

/** Jobs moved per call; the scheduler calls again while the timestamp still has jobs. */
export const BATCH = 500

/**
 * KEYS: delayed list of the timestamp, delayed schedule (zset), queues set.
 * ARGV: timestamp, queue key prefix (`ns:queue:`), timestamps key prefix (`ns:timestamps:`), batch size.
 * Returns the number of jobs moved. A job without a readable queue goes to `default`, where the worker fails
 * it with a typed error instead of it vanishing.
 */
export const promote = Script.make(
  "promoteDelayed",
  3,
  `
local n = 0
local limit = tonumber(ARGV[4])
while n < limit do
  local job = redis.call('lpop', KEYS[1])
  if not job then break end
  redis.call('srem', ARGV[3] .. job, 'delayed:' .. ARGV[1])
  local q = string.match(job, '"queue":"([^"\\\\]*)"') or 'default'
  redis.call('sadd', KEYS[3], q)
  redis.call('rpush', ARGV[2] .. q, job)
  n = n + 1
end
if redis.call('llen', KEYS[1]) == 0 then
  redis.call('del', KEYS[1])
  redis.call('zrem', KEYS[2], ARGV[1])
end
return n
`
)
