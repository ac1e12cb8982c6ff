/**
 * Picking up a job: one script pops the first job from the worker's queues, in order (left to right; `*`
 * expands to every known queue, sorted), and stores the worker's "working on" record in the same atomic step,
 * exactly as node-resque's `popAndStoreJob` does, so a worker that dies mid-job is found by the stuck-worker
 * check and no popped job is ever invisible. A worker whose record still holds a job gets that job back
 * instead of a new one: a pick re-sent after a dropped connection never loses the job it already popped.
 *
 * `completeAndPick` does the same as the last command of a job's completion MULTI (one round trip per job):
 * it counts the job in the stats and replaces the completed job's record with the next job's. It is given the
 * completed job's exact record, so when ioredis re-sends the MULTI after a reconnect and it runs twice, the
 * second run finds the job the first one picked and hands it back instead of popping another over it.
 * Works without cjson (ioredis-mock).
 */
import type { Redis } from "ioredis"
import * as Script from "./script.ts"

/** A picked job: its queue, its payload, and the working-on record that holds it. */
export type Picked = readonly [queue: string, payload: string, record: string]

const common = `
local function jstr(s)
  local escaped = string.gsub(s, '[%c"\\\\]', function(c)
    if c == '"' then return '\\\\"' end
    if c == '\\\\' then return '\\\\\\\\' end
    return string.format('\\\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end
-- the job in this worker's record of a job it never completed, or nil
local function held(current, worker)
  local suffix = ',"worker":' .. jstr(worker) .. '}'
  local q1 = string.find(current, ',"queue":"', 1, true)
  local p1 = string.find(current, '","payload":', 1, true)
  if q1 and p1 and p1 > q1 and string.sub(current, -#suffix) == suffix then
    return {string.sub(current, q1 + 10, p1 - 1), string.sub(current, p1 + 12, #current - #suffix), current}
  end
  return nil
end
-- pops the first job of the queues named in ARGV[first..] and records it as the worker's
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

/**
 * KEYS: working-on key, queues set. ARGV: queue key prefix, run_at, worker name, queue names... ("*" = all).
 * Returns {queue, payload, record} or false.
 */
export const pick = Script.make(
  "pick",
  2,
  `${common}
-- this worker's record of a job it never completed (the reply to the pick that stored it was lost when the
-- connection dropped, and ioredis re-sent the script, or the completion could not be written): hand the same
-- job back instead of popping another one over it, which would lose it
local current = redis.call('get', KEYS[1])
if current then
  local job = held(current, ARGV[3])
  if job then return job end
end
return popInto(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], 4)
`
)

/**
 * KEYS: working-on key, queues set, stat key of the outcome, the worker's stat key of the outcome.
 * ARGV: the completed job's record, "pick" or "stop" (no next job), queue key prefix, run_at, worker name,
 * queue names... Returns {queue, payload, record} of the next job (or of one an earlier run of this call
 * picked), or false.
 */
export const completeAndPick = Script.make(
  "completeAndPick",
  4,
  `${common}
redis.call('incr', KEYS[3])
redis.call('incr', KEYS[4])
local current = redis.call('get', KEYS[1])
-- another job of this worker's: an earlier run of this completion (re-sent after a reconnect) picked it
if current and current ~= ARGV[1] then
  local job = held(current, ARGV[5])
  if job then return job end
end
local job = false
if ARGV[2] == 'pick' then job = popInto(KEYS[1], KEYS[2], ARGV[3], ARGV[4], ARGV[5], 6) end
if not job and current then redis.call('del', KEYS[1]) end
return job
`
)

/** Reads a pick's reply. */
export const picked = (reply: unknown): Picked | undefined =>
  Array.isArray(reply) && typeof reply[0] === "string" && typeof reply[1] === "string" && typeof reply[2] === "string"
    ? [reply[0], reply[1], reply[2]]
    : undefined

/** Where a slot picks from, for the in-memory picks. */
export interface Source {
  readonly working: string
  readonly queuesKey: string
  readonly prefix: string
  readonly worker: string
  readonly queues: ReadonlyArray<string>
}

const held = (current: string, worker: string): Picked | undefined => {
  const suffix = `,"worker":${JSON.stringify(worker)}}`
  const q1 = current.indexOf(",\"queue\":\"")
  const p1 = current.indexOf("\",\"payload\":")
  return q1 >= 0 && p1 > q1 && current.endsWith(suffix)
    ? [current.slice(q1 + 10, p1), current.slice(p1 + 12, current.length - suffix.length), current]
    : undefined
}

const popInto = async (client: Redis, source: Source, runAt: string): Promise<Picked | undefined> => {
  const names: Array<string> = []
  for (const queue of source.queues) {
    if (queue === "*") names.push(...(await client.smembers(source.queuesKey)).sort())
    else names.push(queue)
  }
  for (const queue of names) {
    const payload = await client.lpop(source.prefix + queue)
    if (payload === null) continue
    const body = payload.startsWith("{") && payload.endsWith("}") ? payload : JSON.stringify(payload)
    const record = `{"run_at":${JSON.stringify(runAt)},"queue":${JSON.stringify(queue)},"payload":${body},"worker":${
      JSON.stringify(source.worker)
    }}`
    await client.set(source.working, record)
    return [queue, payload, record]
  }
  return undefined
}

/**
 * The same pick for the in-memory Redis, in JavaScript: ioredis-mock runs every Lua call in a fresh Lua VM
 * (about 5 ms), which would halve the in-memory throughput. Atomicity between the pop and the working-on
 * record only guards against the process dying between them, and an in-memory Redis dies with the process.
 */
export const pickInMemory = async (client: Redis, source: Source, runAt: string): Promise<Picked | undefined> => {
  // same rule as the script: a record of a job never completed gives that job back
  const current = await client.get(source.working)
  const job = current === null ? undefined : held(current, source.worker)
  return job ?? popInto(client, source, runAt)
}

/** `completeAndPick` after the completion MULTI, for the in-memory Redis (stats are counted in the MULTI). */
export const completeAndPickInMemory = async (
  client: Redis,
  source: Source,
  completed: string,
  next: boolean,
  runAt: string
): Promise<Picked | undefined> => {
  const current = await client.get(source.working)
  if (current !== null && current !== completed) {
    const job = held(current, source.worker)
    if (job) return job
  }
  const job = next ? await popInto(client, source, runAt) : undefined
  if (job === undefined && current !== null) await client.del(source.working)
  return job
}
