/**
 * A worker pool's Resque records in one step each: registering its workers (the workers set, each worker's
 * start time and first ping) and refreshing their pings. node-resque and Resque's tools read one record per
 * worker, so each slot of a pool keeps its own; the pool writes them all with one command, not two per slot.
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
  keys: [pool.keys.workers],
  args: [pool.keys.key("worker", ""), pool.queues, pool.seconds, ...pool.names]
})

/** Lua: the ping record of a worker, as `Resque.pingRecord` builds it. */
const luaPing = String.raw`${luaJsonString}
local function pingRecord(seconds, name, queues)
  return '{"time":' .. seconds .. ',"name":' .. jstr(name) .. ',"queues":' .. jstr(queues) .. '}'
end
`

/**
 * Registers a pool's workers: each joins the workers set (`NAME:QUEUES`), with its start time and a first
 * ping. KEYS: workers set. ARGV: worker key prefix (`ns:worker:`), queue string, seconds, names...
 *
 * @category scripts
 */
export const register = Script.make({
  name: "registerWorkers",
  lua: String.raw`${luaPing}
local workers_key = KEYS[1]
local prefix, queues, seconds = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local name = ARGV[i]
  redis.call('sadd', workers_key, name .. ':' .. queues)
  redis.call('set', prefix .. name .. ':' .. queues .. ':started', seconds)
  redis.call('set', prefix .. 'ping:' .. name, pingRecord(seconds, name, queues))
end
return #ARGV - 3
`,
  encode: poolArgs,
  decode: Script.toNumber,
  twin: (redis, [workersKey = ""], [prefix = "", queues = "", seconds = "", ...names]) => {
    for (const name of names) {
      redis.call("sadd", workersKey, Resque.member(name, queues))
      redis.call("set", `${prefix}${name}:${queues}:started`, seconds)
      redis.call("set", `${prefix}ping:${name}`, Resque.pingRecord(name, queues, Number(seconds)))
    }
    return names.length
  }
})

/**
 * Refreshes the pings of a pool's workers, and brings back to the workers set one a scheduler took for dead
 * (re-registering is idempotent). Same KEYS and ARGV as {@link register}.
 *
 * @category scripts
 */
export const ping = Script.make({
  name: "pingWorkers",
  lua: String.raw`${luaPing}
local workers_key = KEYS[1]
local prefix, queues, seconds = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local name = ARGV[i]
  redis.call('set', prefix .. 'ping:' .. name, pingRecord(seconds, name, queues))
  redis.call('sadd', workers_key, name .. ':' .. queues)
end
return #ARGV - 3
`,
  encode: poolArgs,
  decode: Script.toNumber,
  twin: (redis, [workersKey = ""], [prefix = "", queues = "", seconds = "", ...names]) => {
    for (const name of names) {
      redis.call("set", `${prefix}ping:${name}`, Resque.pingRecord(name, queues, Number(seconds)))
      redis.call("sadd", workersKey, Resque.member(name, queues))
    }
    return names.length
  }
})
