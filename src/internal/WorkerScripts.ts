/**
 * A worker pool's Resque records in one step each: registering its workers (the workers set, each worker's
 * start time and first ping) and refreshing their pings. node-resque and Resque's tools read one record per
 * worker, so each slot of a pool keeps its own; the pool writes them all with one command, not two per slot.
 *
 * Each slot also keeps Ruby Resque's records, which resque-web shows and Ruby workers act on: the start time
 * as Ruby writes it (`Resque.startedTime`) and a heartbeat in the `workers:heartbeat` hash, refreshed with
 * every ping (a Ruby worker prunes a worker whose heartbeat is older than its prune interval).
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import * as Resque from "../domain/Resque.ts"
import { luaJsonString } from "./Pick.ts"
import * as Script from "./Script.ts"

/** The workers of a pool, as their records name them. */
export interface Pool {
  readonly keys: Keys
  readonly names: ReadonlyArray<string>
  /** The pool's queue string (`a,b` or `*`). */
  readonly queues: string
  /** Epoch seconds. */
  readonly seconds: number
}

const poolArgs = (pool: Pool) => ({
  keys: [pool.keys.workers, pool.keys.heartbeats],
  args: [
    pool.keys.key("worker", ""),
    pool.queues,
    pool.seconds,
    Resque.startedTime(pool.seconds * 1000),
    Resque.heartbeatTime(pool.seconds * 1000),
    ...pool.names
  ]
})

/** Lua: the ping record of a worker, as `Resque.pingRecord` builds it. */
const luaPing = String.raw`${luaJsonString}
local function pingRecord(seconds, name, queues)
  return '{"time":' .. seconds .. ',"name":' .. jstr(name) .. ',"queues":' .. jstr(queues) .. '}'
end
`

/**
 * Registers a pool's workers: each joins the workers set (`NAME:QUEUES`), with its start time, a first ping
 * and a first heartbeat. KEYS: workers set, heartbeats hash. ARGV: worker key prefix (`ns:worker:`), queue
 * string, seconds, start time text, heartbeat text, names...
 *
 * @category scripts
 */
export const register = Script.make({
  name: "registerWorkers",
  lua: String.raw`${luaPing}
local workers_key, heartbeats_key = KEYS[1], KEYS[2]
local prefix, queues, seconds, started, heartbeat = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
for i = 6, #ARGV do
  local name = ARGV[i]
  redis.call('sadd', workers_key, name .. ':' .. queues)
  redis.call('set', prefix .. name .. ':' .. queues .. ':started', started)
  redis.call('set', prefix .. 'ping:' .. name, pingRecord(seconds, name, queues))
  redis.call('hset', heartbeats_key, name .. ':' .. queues, heartbeat)
end
return #ARGV - 5
`,
  encode: poolArgs,
  decode: Script.toNumber,
  twin: (redis, [workersKey = "", heartbeatsKey = ""], [prefix = "", queues = "", seconds = "", started = "", heartbeat = "", ...names]) => {
    for (const name of names) {
      redis.call("sadd", workersKey, Resque.member(name, queues))
      redis.call("set", `${prefix}${name}:${queues}:started`, started)
      redis.call("set", `${prefix}ping:${name}`, Resque.pingRecord(name, queues, Number(seconds)))
      redis.call("hset", heartbeatsKey, Resque.member(name, queues), heartbeat)
    }
    return names.length
  }
})

/**
 * Refreshes the pings and heartbeats of a pool's workers, and brings back to the workers set one a scheduler
 * took for dead (re-registering is idempotent). Same KEYS and ARGV as {@link register}.
 *
 * @category scripts
 */
export const ping = Script.make({
  name: "pingWorkers",
  lua: String.raw`${luaPing}
local workers_key, heartbeats_key = KEYS[1], KEYS[2]
local prefix, queues, seconds, heartbeat = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
for i = 6, #ARGV do
  local name = ARGV[i]
  redis.call('set', prefix .. 'ping:' .. name, pingRecord(seconds, name, queues))
  redis.call('sadd', workers_key, name .. ':' .. queues)
  redis.call('hset', heartbeats_key, name .. ':' .. queues, heartbeat)
end
return #ARGV - 5
`,
  encode: poolArgs,
  decode: Script.toNumber,
  twin: (redis, [workersKey = "", heartbeatsKey = ""], [prefix = "", queues = "", seconds = "", _started = "", heartbeat = "", ...names]) => {
    for (const name of names) {
      redis.call("set", `${prefix}ping:${name}`, Resque.pingRecord(name, queues, Number(seconds)))
      redis.call("sadd", workersKey, Resque.member(name, queues))
      redis.call("hset", heartbeatsKey, Resque.member(name, queues), heartbeat)
    }
    return names.length
  }
})
