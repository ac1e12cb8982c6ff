/**
 * Picking up a job: one script pops the first job from a worker's queues, in order (left to right; `*`
 * expands to every known queue, sorted), and stores the worker's "working on" record in the same atomic
 * step, as node-resque's `popAndStoreJob` does, so a worker that dies mid-job is found by the dead-worker
 * check and no popped job is ever invisible. A worker whose record still holds a job gets that job back
 * instead of a new one: a pick re-sent after a dropped connection never loses the job it already popped.
 *
 * The record is built as text in a fixed key order (`run_at`, `queue`, `payload`, `worker`), so the
 * completion can compare it exactly and read the job back out of it. The Lua fragments here are shared with
 * the completion script, which picks the slot's next job in the same step.
 *
 * @since 0.2.0
 */
import type { Reply } from "./MemoryStore.ts"
import * as Script from "./Script.ts"

/** A picked job: its queue, its payload, and the working-on record that holds it. */
export type Picked = readonly [queue: string, payload: string, record: string]

/** Where a slot picks from. */
export interface Source {
  /** The slot's working-on key. */
  readonly working: string
  /** The set of known queues. */
  readonly queuesKey: string
  /** The key prefix of queue lists (`ns:queue:`). */
  readonly prefix: string
  readonly worker: string
  /** Queue names in priority order; `*` is every known queue. */
  readonly queues: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------------------------------------
// Lua fragments
// ---------------------------------------------------------------------------------------------------------

/** `jstr(s)`: a JSON string literal, escaped exactly as `JSON.stringify` escapes it. */
export const luaJsonString = String.raw`
local json_escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function jstr(s)
  local escaped = string.gsub(s, '[%z\1-\31"\\]', function(c)
    return json_escapes[c] or string.format('\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end
`

/**
 * `held(record, worker)`: the job in this worker's record, `{queue, payload, record}`, or nil.
 * `popInto(working, queuesKey, prefix, runAt, worker, first)`: pops the first job of the queues named in
 * `ARGV[first..]` and stores the worker's record; `{queue, payload, record}` or false.
 */
export const luaPick = String.raw`${luaJsonString}
local function held(current, worker)
  local suffix = ',"worker":' .. jstr(worker) .. '}'
  local q1 = string.find(current, ',"queue":"', 1, true)
  local p1 = string.find(current, '","payload":', 1, true)
  if q1 and p1 and p1 > q1 and string.sub(current, -#suffix) == suffix then
    return {string.sub(current, q1 + 10, p1 - 1), string.sub(current, p1 + 12, #current - #suffix), current}
  end
  return nil
end
local function popInto(working, queuesKey, prefix, runAt, worker, first)
  local queues = {}
  for i = first, #ARGV do
    if ARGV[i] == '*' then
      local all = redis.call('smembers', queuesKey)
      table.sort(all)
      for _, q in ipairs(all) do queues[#queues + 1] = q end
    else
      queues[#queues + 1] = ARGV[i]
    end
  end
  for _, q in ipairs(queues) do
    local payload = redis.call('lpop', prefix .. q)
    if payload then
      local body = payload
      if string.sub(payload, 1, 1) ~= '{' or string.sub(payload, -1) ~= '}' then body = jstr(payload) end
      local record = '{"run_at":' .. jstr(runAt) .. ',"queue":' .. jstr(q) .. ',"payload":' .. body .. ',"worker":' .. jstr(worker) .. '}'
      redis.call('set', working, record)
      return {q, payload, record}
    end
  end
  return false
end
`

// ---------------------------------------------------------------------------------------------------------
// the same, in JavaScript
// ---------------------------------------------------------------------------------------------------------

/** The working-on record of a job, as the Lua builds it. */
export const record = (runAt: string, queue: string, payload: string, worker: string): string => {
  const body = payload.startsWith("{") && payload.endsWith("}") ? payload : JSON.stringify(payload)
  return `{"run_at":${JSON.stringify(runAt)},"queue":${JSON.stringify(queue)},"payload":${body},"worker":${JSON.stringify(worker)}}`
}

/** `held` of the Lua. */
export const held = (current: string, worker: string): Picked | undefined => {
  const suffix = `,"worker":${JSON.stringify(worker)}}`
  const q1 = current.indexOf(",\"queue\":\"")
  const p1 = current.indexOf("\",\"payload\":")
  return q1 >= 0 && p1 > q1 && current.endsWith(suffix)
    ? [current.slice(q1 + 10, p1), current.slice(p1 + 12, current.length - suffix.length), current]
    : undefined
}

/** Lua's `table.sort` order for strings (byte order in Redis's C locale; UTF-16 order agrees below U+E000). */
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** `popInto` of the Lua; `queues` are the names to try, `*` included. */
export const popInto = (
  redis: Script.ScriptRedis,
  working: string,
  queuesKey: string,
  prefix: string,
  runAt: string,
  worker: string,
  queues: ReadonlyArray<string>
): Picked | undefined => {
  for (const name of queues) {
    const names = name === "*" ? Script.toStrings(redis.call("smembers", queuesKey)).slice().sort(byteOrder) : [name]
    for (const queue of names) {
      const payload = redis.call("lpop", prefix + queue)
      if (typeof payload !== "string") continue
      const stored = record(runAt, queue, payload, worker)
      redis.call("set", working, stored)
      return [queue, payload, stored]
    }
  }
  return undefined
}

/** A picked job as a script replies it. */
export const toReply = (job: Picked | undefined): Reply => (job === undefined ? null : [...job])

/** Reads a pick's reply. */
export const decodePicked = (reply: unknown): Picked | undefined =>
  Array.isArray(reply) && typeof reply[0] === "string" && typeof reply[1] === "string" && typeof reply[2] === "string"
    ? [reply[0], reply[1], reply[2]]
    : undefined

// ---------------------------------------------------------------------------------------------------------
// the pick script
// ---------------------------------------------------------------------------------------------------------

/**
 * An idle slot's pick: the job its record still holds (a pick whose reply was lost, a completion that could
 * not be written), else the first job of its queues. `runAt` is the new record's `run_at`.
 *
 * @category scripts
 */
export const pick = Script.make({
  name: "pick",
  lua: String.raw`${luaPick}
local working = KEYS[1]
local queues_key = KEYS[2]
local prefix, run_at, worker = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('get', working)
if current then
  local job = held(current, worker)
  if job then return job end
end
return popInto(working, queues_key, prefix, run_at, worker, 4)
`,
  encode: ({ source, runAt }: { readonly source: Source; readonly runAt: string }) => ({
    keys: [source.working, source.queuesKey],
    args: [source.prefix, runAt, source.worker, ...source.queues]
  }),
  decode: decodePicked,
  twin: (redis, [working = "", queuesKey = ""], [prefix = "", runAt = "", worker = "", ...queues]) => {
    const current = redis.call("get", working)
    const job = typeof current === "string" ? held(current, worker) : undefined
    return toReply(job ?? popInto(redis, working, queuesKey, prefix, runAt, worker, queues))
  }
})
