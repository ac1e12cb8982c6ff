/**
 * Picking up a job: one script pops the first job from the worker's queues, in order (left to right; `*`
 * expands to every known queue, sorted), and stores the worker's "working on" record in the same atomic step,
 * exactly as node-resque's `popAndStoreJob` does, so a worker that dies mid-job is found by the stuck-worker
 * check and no popped job is ever invisible. A worker whose record still holds a job gets that job back
 * instead of a new one: a pick re-sent after a dropped connection never loses the job it already popped.
 * Works without cjson (ioredis-mock).
 */
import type { Redis } from "ioredis"
import * as Script from "./script.ts"

/**
 * KEYS: working-on key, queues set. ARGV: queue key prefix, run_at, worker name, queue names... ("*" = all).
 * Returns {queue, payload} or false.
 */
export const pick = Script.make(
  "pick",
  2,
  `
local function jstr(s)
  local escaped = string.gsub(s, '[%c"\\\\]', function(c)
    if c == '"' then return '\\\\"' end
    if c == '\\\\' then return '\\\\\\\\' end
    return string.format('\\\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end
-- this worker's record of a job it never completed (the reply to the pick that stored it was lost when the
-- connection dropped, and ioredis re-sent the script, or the completion could not be written): hand the same
-- job back instead of popping another one over it, which would lose it
local current = redis.call('get', KEYS[1])
if current then
  local suffix = ',"worker":' .. jstr(ARGV[3]) .. '}'
  local q1 = string.find(current, ',"queue":"', 1, true)
  local p1 = string.find(current, '","payload":', 1, true)
  if q1 and p1 and p1 > q1 and string.sub(current, -#suffix) == suffix then
    return {string.sub(current, q1 + 10, p1 - 1), string.sub(current, p1 + 12, #current - #suffix)}
  end
end
local queues = {}
for i = 4, #ARGV do
  if ARGV[i] == '*' then
    local all = redis.call('smembers', KEYS[2])
    table.sort(all)
    for _, q in ipairs(all) do queues[#queues + 1] = q end
  else
    queues[#queues + 1] = ARGV[i]
  end
end
for _, q in ipairs(queues) do
  local payload = redis.call('lpop', ARGV[1] .. q)
  if payload then
    local body = payload
    if string.sub(payload, 1, 1) ~= '{' or string.sub(payload, -1) ~= '}' then body = jstr(payload) end
    redis.call('set', KEYS[1], '{"run_at":' .. jstr(ARGV[2]) .. ',"queue":' .. jstr(q) .. ',"payload":' .. body .. ',"worker":' .. jstr(ARGV[3]) .. '}')
    return {q, payload}
  end
end
return false
`
)

/**
 * The same pick for the in-memory Redis, in JavaScript: ioredis-mock runs every Lua call in a fresh Lua VM
 * (about 5 ms), which would halve the in-memory throughput. Atomicity between the pop and the working-on
 * record only guards against the process dying between them, and an in-memory Redis dies with the process.
 */
export const pickInMemory = async (
  client: Redis,
  workingKey: string,
  queuesKey: string,
  queuePrefix: string,
  runAt: string,
  worker: string,
  queues: ReadonlyArray<string>
): Promise<readonly [string, string] | null> => {
  // same rule as the script: a record of a job never completed gives that job back
  const current = await client.get(workingKey)
  if (current !== null) {
    const suffix = `,"worker":${JSON.stringify(worker)}}`
    const q1 = current.indexOf(',"queue":"')
    const p1 = current.indexOf('","payload":')
    if (q1 >= 0 && p1 > q1 && current.endsWith(suffix)) {
      return [current.slice(q1 + 10, p1), current.slice(p1 + 12, current.length - suffix.length)]
    }
  }
  const names: Array<string> = []
  for (const queue of queues) {
    if (queue === "*") names.push(...(await client.smembers(queuesKey)).sort())
    else names.push(queue)
  }
  for (const queue of names) {
    const payload = await client.lpop(queuePrefix + queue)
    if (payload === null) continue
    const body = payload.startsWith("{") && payload.endsWith("}") ? payload : JSON.stringify(payload)
    await client.set(
      workingKey,
      `{"run_at":${JSON.stringify(runAt)},"queue":${JSON.stringify(queue)},"payload":${body},"worker":${JSON.stringify(worker)}}`
    )
    return [queue, payload]
  }
  return null
}
