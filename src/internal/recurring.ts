/**
 * Recurring actions keep exactly one live copy: a marker key `recurring:NAME` holds the token of the copy
 * that may continue the chain. The leader starts a chain only when no marker exists (SET NX); a finished copy
 * schedules its successor only while the marker still holds its own token. A copy orphaned by an expired
 * marker, a restart or a stop therefore ends its chain instead of doubling it.
 */
import { randomUUID } from "node:crypto"
import * as Payload from "../domain/Payload.ts"
import * as Script from "./script.ts"

/** How long a chain's marker outlives one period: covers queue wait, run time and scheduler lag. */
export const markerTtlMillis = (frequencyMillis: number): number => 2 * frequencyMillis + 5 * 60_000

export const newToken = (): string => randomUUID()

/**
 * The delayed-schedule second for a copy due at `dueMillis`, never early. Resque's schedulers promote second
 * `T` once `round(now / 1000) >= T`, i.e. from `T - 0.5 s`: rounding the due time as well would let a copy run
 * up to a second before its period is over (a 1 s action ran every ~0.4 s). Rounding up past the half second
 * keeps every period at least `frequency` long.
 */
export const dueSecond = (dueMillis: number): number => Math.ceil(dueMillis / 1000 + 0.5)

/** The payload of one copy of a recurring action. */
export const payload = (queue: string, action: string, inputs: unknown, token: string): string =>
  Payload.encode(queue, action, inputs, { recurrence: token })

/**
 * Starts a chain unless one is live or the action is stopped: enqueues a copy now.
 * KEYS: marker, stopped flag, queue list, queues set. ARGV: token, payload, queue name, marker TTL ms.
 */
export const ensure = Script.make(
  "recurringEnsure",
  4,
  `
if redis.call('exists', KEYS[2]) == 1 then return 0 end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[4]) then
  redis.call('sadd', KEYS[4], ARGV[3])
  redis.call('rpush', KEYS[3], ARGV[2])
  return 1
end
return 0
`
)

/**
 * Continues a chain: if the marker holds this copy's token, schedules the successor at a timestamp.
 * KEYS: marker, delayed list for the timestamp, timestamps set of the payload, delayed schedule.
 * ARGV: this token, successor token, successor payload, timestamp (s), marker TTL ms.
 */
export const reschedule = Script.make(
  "recurringReschedule",
  4,
  `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('rpush', KEYS[2], ARGV[3])
redis.call('sadd', KEYS[3], 'delayed:' .. ARGV[4])
redis.call('zadd', KEYS[4], ARGV[4], ARGV[4])
return 1
`
)
