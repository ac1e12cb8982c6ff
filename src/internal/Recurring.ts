/**
 * Recurring actions keep exactly one live copy: a marker key `recurring:NAME` holds the token of the copy
 * that may continue the chain. The leader starts a chain only when no marker exists (SET NX); a finished copy
 * schedules its successor only while the marker still holds its own token (the completion's `recur` write).
 * A copy orphaned by an expired marker, a restart or a stop therefore ends its chain instead of doubling it.
 *
 * A copy's token is `<random>@<due ms>`: unique per copy, and it carries the time the copy was due, so its
 * successor is due at the schedule's next time after that (`Recurrence.nextRun`), not a period after the
 * copy finished: runs do not drift. Every script compares tokens as opaque strings.
 *
 * @since 0.2.0
 */
import { randomUUID } from "node:crypto"
import * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import { luaPushOrSchedule, luaWake, notBeforeSecond, pushOrScheduleTwin } from "./Enqueue.ts"
import * as Recurrence from "./Recurrence.ts"
import * as Script from "./Script.ts"

/** How long a chain's marker outlives one period: covers queue wait, run time and scheduler lag. */
export const markerTtlMillis = (periodMillis: number): number => 2 * periodMillis + 5 * 60_000

/** A fresh chain token for a copy due at `dueMillis` (the random part may be given, for tests). */
export const newToken = (dueMillis: number, random: string = randomUUID()): string => `${random}@${Math.round(dueMillis)}`

/** The time a copy was due, read from its token; undefined for a token without one (an older version's). */
export const dueOf = (token: string): number | undefined => {
  const at = token.lastIndexOf("@")
  const due = at < 0 ? Number.NaN : Number(token.slice(at + 1))
  return Number.isFinite(due) ? due : undefined
}

/**
 * The delayed-schedule second for a copy due at `dueMillis`, never early: this runtime's scheduler promotes
 * second `T` once `T` has begun (`Enqueue.promotedSecond`), so rounding up keeps every period at least its
 * length (rounding to the nearest second let a 1 s action run every ~0.4 s under node-resque's rule).
 */
export const dueSecond = (dueMillis: number): number => notBeforeSecond(dueMillis)

/** The payload of one copy of a recurring action (with the headers the previous run's hooks gave it). */
export const payload = (queue: string, action: string, inputs: unknown, token: string, headers?: Readonly<Record<string, string>>): string =>
  Job.encode(queue, action, inputs, headers === undefined ? { recurrence: token } : { recurrence: token, headers })

/** A recurring action the leader keeps alive. */
export interface Chain {
  readonly action: string
  readonly queue: string
  /** Its inputs, normalized by its Schema (recurring copies run with the Schema's defaults). */
  readonly inputs: unknown
  readonly recurrence: Recurrence.Recurrence
}

/** A chain to start at `now`: its first copy's token, and the second it is delayed to (none: at once). */
export interface Start {
  readonly chain: Chain
  readonly token: string
  readonly second?: number | undefined
}

/**
 * The chains to start at `now`: a frequency's first copy runs at once, a cron's at its next time (filed in
 * the delayed schedule under that second).
 */
export const starts = (chains: ReadonlyArray<Chain>, now: number): ReadonlyArray<Start> =>
  chains.map((chain) => {
    if (chain.recurrence._tag === "Every") return { chain, token: newToken(now) }
    const second = dueSecond(Recurrence.firstRun(chain.recurrence, now))
    return { chain, token: newToken(second * 1000), second }
  })

/** The arguments of one chain in {@link ensure}. */
const chainArgs = (keys: Keys, { chain, token, second }: Start, clearStopped: boolean, now: number): ReadonlyArray<string> => {
  const body = payload(chain.queue, chain.action, chain.inputs, token)
  return [
    keys.recurring(chain.action),
    keys.recurringStopped(chain.action),
    keys.queue(chain.queue),
    chain.queue,
    token,
    body,
    String(markerTtlMillis(Recurrence.periodMillis(chain.recurrence, now))),
    clearStopped ? "1" : "0",
    second === undefined ? "" : keys.delayed(second),
    keys.timestamps(body),
    keys.delayedSchedule,
    second === undefined ? "" : String(second)
  ]
}

/** Arguments per chain in {@link ensure}. */
const ensureArity = 12

/**
 * Starts every chain that has no live copy and is not stopped (or, with `clearStopped`, is resumed): sets
 * its marker (SET NX) and enqueues its first copy, now or, for a cron, delayed to its next time. One round
 * trip for all of them; answers, per chain, whether it started one.
 *
 * @category scripts
 */
export const ensure = Script.make({
  name: "recurringEnsure",
  lua: String.raw`${luaWake}${luaPushOrSchedule}
local queues_key, wake_key = KEYS[1], KEYS[2]
local started = {}
for i = 1, #ARGV, 12 do
  local marker, stopped, queue_key, queue = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local token, payload, ttl, clear = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local delayed_key, timestamps_key, schedule_key, second = ARGV[i + 8], ARGV[i + 9], ARGV[i + 10], ARGV[i + 11]
  if clear == '1' then redis.call('del', stopped) end
  local result = 0
  if redis.call('exists', stopped) == 0 and redis.call('set', marker, token, 'NX', 'PX', ttl) then
    pushOrSchedule({ queues_key = queues_key, queue_key = queue_key, wake_key = wake_key, queue = queue, second = second,
      delayed_key = delayed_key, timestamps_key = timestamps_key, schedule_key = schedule_key }, payload)
    result = 1
  end
  started[#started + 1] = result
end
return started
`,
  encode: (input: { readonly keys: Keys; readonly starts: ReadonlyArray<Start>; readonly now: number; readonly clearStopped?: boolean }) => ({
    keys: [input.keys.queues, input.keys.wake],
    args: input.starts.flatMap((start) => chainArgs(input.keys, start, input.clearStopped === true, input.now))
  }),
  decode: (reply): ReadonlyArray<boolean> => Script.toArray(reply).map((started) => started === 1),
  twin: (redis, [queuesKey = "", wakeKey = ""], args) => {
    const started: Array<number> = []
    for (let i = 0; i + ensureArity <= args.length; i += ensureArity) {
      const [marker = "", stopped = "", queueKey = "", queue = "", token = "", body = "", ttl = "", clear = ""] = args.slice(i, i + 8)
      const [delayedKey = "", timestampsKey = "", scheduleKey = "", second = ""] = args.slice(i + 8, i + ensureArity)
      if (clear === "1") redis.call("del", stopped)
      let result = 0
      if (redis.call("exists", stopped) === 0 && redis.call("set", marker, token, "NX", "PX", ttl) !== null) {
        pushOrScheduleTwin(redis, { queuesKey, queueKey, wakeKey, queue, second, delayedKey, timestampsKey, scheduleKey }, body)
        result = 1
      }
      started.push(result)
    }
    return started
  }
})

/**
 * `continueChain(marker, token, nextToken, payload, delayedKey, timestampsKey, scheduleKey, second, ttl)`:
 * if the marker holds this copy's token, hands it to the successor and schedules the successor at `second`.
 * A fragment of the worker's completion script (its `recur` write).
 */
export const luaContinueChain = String.raw`
local function continueChain(marker, token, next_token, payload, delayed_key, timestamps_key, schedule_key, second, ttl)
  if redis.call('get', marker) ~= token then return 0 end
  redis.call('set', marker, next_token, 'PX', ttl)
  redis.call('rpush', delayed_key, payload)
  redis.call('sadd', timestamps_key, 'delayed:' .. second)
  redis.call('zadd', schedule_key, second, second)
  return 1
end
`

/** `continueChain` of the Lua, on the in-memory keyspace. */
export const continueChain = (redis: Script.ScriptRedis, args: ReadonlyArray<string>): number => {
  const [marker = "", token = "", nextToken = "", body = "", delayedKey = "", timestampsKey = "", scheduleKey = "", second = "", ttl = ""] = args
  if (redis.call("get", marker) !== token) return 0
  redis.call("set", marker, nextToken, "PX", ttl)
  redis.call("rpush", delayedKey, body)
  redis.call("sadd", timestampsKey, `delayed:${second}`)
  redis.call("zadd", scheduleKey, second, second)
  return 1
}

/**
 * The nine arguments of `continueChain` for the copy that just finished (`token`) at `now`: its successor is
 * due at the schedule's next time after the copy's own due time (`Recurrence.nextRun`), filed under that
 * second; `random` is the random part of the successor's token (a fresh one by default).
 */
export const continueArgs = (
  keys: Keys,
  options: {
    readonly chain: Chain
    readonly token: string
    readonly now: number
    readonly random?: string
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
): ReadonlyArray<string> => {
  const { chain, now } = options
  const second = dueSecond(Recurrence.nextRun(chain.recurrence, dueOf(options.token), now))
  const next = newToken(second * 1000, options.random)
  const body = payload(chain.queue, chain.action, chain.inputs, next, options.headers)
  return [
    keys.recurring(chain.action),
    options.token,
    next,
    body,
    keys.delayed(second),
    keys.timestamps(body),
    keys.delayedSchedule,
    String(second),
    String(markerTtlMillis(Recurrence.periodMillis(chain.recurrence, now)))
  ]
}
