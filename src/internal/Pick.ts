/**
 * Picking up jobs: one script pops the first jobs of a worker pool's queues, in order (left to right; `*`
 * expands to every known queue, sorted; paused queues, `Keys.paused`, are skipped; rate limits and global
 * concurrency, `Limits`, are checked and taken), one for each idle slot, and stores each slot's "working on"
 * record in the same atomic step, as node-resque's `popAndStoreJob` does for one worker, so a worker that dies
 * mid-job is found by the dead-worker check and no popped job is ever invisible. A slot whose record still
 * holds a job gets that job back instead of a new one: a pick re-sent after a dropped connection never
 * loses the job it already popped.
 *
 * The record is built as text in a fixed key order (`run_at`, `queue`, `payload`, `worker`), so the
 * completion can compare it exactly and read the job back out of it. When jobs remain in a queue after the
 * pick, the queue is marked again on the wake-up marker (`Keys.wake`), so the next idle worker process wakes
 * up for them. The Lua fragments here are shared with the completion script, which picks the slot's next job
 * in the same step.
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake, wakeTwin } from "./Enqueue.ts"
import * as Limits from "./Limits.ts"
import type { Arg, Reply } from "./MemoryStore.ts"
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
  if not string.find(s, '[%z\1-\31"\\]') then return '"' .. s .. '"' end
  local escaped = string.gsub(s, '[%z\1-\31"\\]', function(c)
    return json_escapes[c] or string.format('\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end
`

/**
 * `held(record, worker)`: the job in this worker's record, `{queue, payload, record}`, or nil.
 * `expandQueues(queues_key, paused_key, first)`: the queue names of `ARGV[first..]`, `*` expanded (sorted),
 * without the paused ones (one `HKEYS` of the paused hash: empty, and nearly free, unless a queue is paused).
 * `popFrom(queues, working, prefix, run_at, worker, popped)`: pops the first job of `queues` that its limits
 * allow (`Limits`: skipping the queues they block) and stores the worker's record; `{queue, payload, record}`
 * or false; notes the queue in `popped`.
 * `rewake(wake_key, prefix, popped)`: marks again the popped queues that still have jobs and are not blocked.
 */
export const luaPick = String.raw`${luaJsonString}${luaWake}${Limits.luaLimits}
local function held(current, worker)
  local suffix = ',"worker":' .. jstr(worker) .. '}'
  local q1 = string.find(current, ',"queue":"', 1, true)
  local p1 = string.find(current, '","payload":', 1, true)
  if q1 and p1 and p1 > q1 and string.sub(current, -#suffix) == suffix then
    return {string.sub(current, q1 + 10, p1 - 1), string.sub(current, p1 + 12, #current - #suffix), current}
  end
  return nil
end
local function expandQueues(queues_key, paused_key, first)
  local paused = {}
  for _, q in ipairs(redis.call('hkeys', paused_key)) do paused[q] = true end
  local queues = {}
  for i = first, #ARGV do
    if ARGV[i] == '*' then
      local all = redis.call('smembers', queues_key)
      table.sort(all)
      for _, q in ipairs(all) do
        if not paused[q] then queues[#queues + 1] = q end
      end
    elseif not paused[ARGV[i]] then
      queues[#queues + 1] = ARGV[i]
    end
  end
  return queues
end
local function popFrom(queues, working, prefix, run_at, worker, popped)
  for _, q in ipairs(queues) do
    local limited = limits.count > 0 and limits.queue[q]
    if limits.blocked[q] or (limited and not allowed(limited)) then
      limits.blocked[q] = true
    else
      local payload = redis.call('lpop', prefix .. q)
      local by_action = payload and limits.actions and limits.action[actionOf(payload)]
      if by_action and not allowed(by_action) then
        -- over its action's limit: back at the head of its queue, which waits behind it
        redis.call('lpush', prefix .. q, payload)
        limits.blocked[q] = true
      elseif payload then
        if limited then take(limited, worker, run_at) end
        if by_action then take(by_action, worker, run_at) end
        local body = payload
        if string.sub(payload, 1, 1) ~= '{' or string.sub(payload, -1) ~= '}' then body = jstr(payload) end
        local record = '{"run_at":' .. jstr(run_at) .. ',"queue":' .. jstr(q) .. ',"payload":' .. body .. ',"worker":' .. jstr(worker) .. '}'
        redis.call('set', working, record)
        popped[q] = true
        return {q, payload, record}
      end
    end
  end
  return false
end
local function rewake(wake_key, prefix, popped)
  for q in pairs(popped) do
    if not limits.blocked[q] and redis.call('llen', prefix .. q) > 0 then wake(wake_key, q) end
  end
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

/** `expandQueues` of the Lua. */
export const expandQueues = (
  redis: Script.ScriptRedis,
  queuesKey: string,
  pausedKey: string,
  queues: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const paused = new Set(Script.toStrings(redis.call("hkeys", pausedKey)))
  const expanded = queues.flatMap((name) => (name === "*" ? [...Script.toStrings(redis.call("smembers", queuesKey))].sort(byteOrder) : [name]))
  return paused.size === 0 ? expanded : expanded.filter((name) => !paused.has(name))
}

/** `popFrom` of the Lua. */
export const popFrom = (
  redis: Script.ScriptRedis,
  queues: ReadonlyArray<string>,
  slot: { readonly working: string; readonly prefix: string; readonly runAt: string; readonly worker: string },
  popped: Set<string>,
  limits: Limits.State
): Picked | undefined => {
  for (const queue of queues) {
    const limited = limits.count > 0 ? limits.queue.get(queue) : undefined
    if (limits.blocked.has(queue) || (limited !== undefined && !limits.allowed(redis, limited))) {
      limits.blocked.add(queue)
      continue
    }
    const payload = redis.call("lpop", slot.prefix + queue)
    if (typeof payload !== "string") continue
    const byAction = limits.action.size > 0 ? limits.action.get(Limits.actionOf(payload)) : undefined
    if (byAction !== undefined && !limits.allowed(redis, byAction)) {
      redis.call("lpush", slot.prefix + queue, payload)
      limits.blocked.add(queue)
      continue
    }
    if (limited !== undefined) limits.take(redis, limited, slot.worker, slot.runAt)
    if (byAction !== undefined) limits.take(redis, byAction, slot.worker, slot.runAt)
    const stored = record(slot.runAt, queue, payload, slot.worker)
    redis.call("set", slot.working, stored)
    popped.add(queue)
    return [queue, payload, stored]
  }
  return undefined
}

/** `rewake` of the Lua. */
export const rewake = (redis: Script.ScriptRedis, wakeKey: string, prefix: string, popped: ReadonlySet<string>, limits: Limits.State): void => {
  for (const queue of popped) {
    if (!limits.blocked.has(queue) && Script.toNumber(redis.call("llen", prefix + queue)) > 0) wakeTwin(redis, wakeKey, queue)
  }
}

/**
 * A job as a script hands it to a slot: its queue and payload, and, when it is a job the slot's record still
 * held, that record (a new record is the one the slot asked for: `record(runAt, queue, payload, worker)`, so
 * it does not travel back).
 */
export interface Handed {
  readonly queue: string
  readonly payload: string
  readonly held?: string
}

/**
 * A job as the slot it was handed to holds it: its queue, its payload, and the run_at of the slot's
 * working-on record, which is all the slot's completion compares (the record's opening, see
 * {@link recordOpening}).
 */
export type Assigned = readonly [queue: string, payload: string, runAt: string]

/**
 * The job a slot was handed: picked now, its record opens with the run_at the pick was given; handed back
 * (the record held one already), with the record's own.
 */
export const assignedFor = (handed: Handed, runAt: string): Assigned =>
  [handed.queue, handed.payload, handed.held === undefined ? runAt : runAtOf(handed.held)]

/** The opening of every record, before its run_at. */
const runAtOpening = "{\"run_at\":\""

/**
 * The run_at of a record (`{"run_at":"...",...`): unique per slot (a slot's run_at never repeats), so it
 * tells a slot's records apart; the whole record when it does not open with one.
 */
export const runAtOf = (stored: string): string => {
  const end = stored.indexOf("\"", runAtOpening.length)
  return stored.startsWith(runAtOpening) && end > 0 ? stored.slice(runAtOpening.length, end) : stored
}

/** The opening of a record with this run_at (`{"run_at":"..."`), as the completion compares it. */
export const recordOpening = (runAt: string): string => `${runAtOpening}${runAt}"`

/** Jobs by slot index, from a flat `[index, queue, payload, held record or "", ...]` reply. */
export const decodeBySlot = (reply: unknown): ReadonlyMap<number, Handed> => {
  const items = Script.toArray(reply)
  const bySlot = new Map<number, Handed>()
  for (let i = 0; i + 3 < items.length; i += 4) {
    const [queue, payload, held] = [items[i + 1], items[i + 2], items[i + 3]]
    if (typeof queue !== "string" || typeof payload !== "string") continue
    bySlot.set(Script.toNumber(items[i]), typeof held === "string" && held !== "" ? { queue, payload, held } : { queue, payload })
  }
  return bySlot
}

/**
 * What a pick answers: the jobs by slot index and, when limits apply, how long (ms) until a rate limit that
 * held a queue back allows its next run (-1: none did, or only a concurrency limit did).
 */
export interface Picks {
  readonly bySlot: ReadonlyMap<number, Handed>
  readonly waitMs: number
}

/** The jobs of a pick reply, and its trailing wait when limits applied (see {@link Picks}). */
export const decodePicks = (reply: unknown): Picks => {
  const items = Script.toArray(reply)
  return { bySlot: decodeBySlot(items), waitMs: items.length % 4 === 1 ? Script.toNumber(items[items.length - 1]) : -1 }
}

/** A flat `[index, queue, payload, held record or "", ...]` reply; `fresh` says which jobs were popped now. */
export const encodeBySlot = (bySlot: ReadonlyArray<readonly [index: number, job: Picked, fresh: boolean]>): Reply =>
  bySlot.flatMap(([index, [queue, payload, stored], fresh]) => [index, queue, payload, fresh ? "" : stored])

// ---------------------------------------------------------------------------------------------------------
// the pick script
// ---------------------------------------------------------------------------------------------------------

/** One idle slot to pick for: its worker name, and the run_at its new record gets. */
export interface IdleSlot {
  readonly worker: string
  readonly runAt: string
  /**
   * Whether its record may still hold a job (default `true`): `false` only when the slot's last script call
   * is known to have left no record (its completion found no next job, or an earlier pick gave it none), so
   * the pick does not read the record of every idle slot each time it wakes.
   */
  readonly mayHold?: boolean | undefined
}

/**
 * The part of a pool's worker names before their slot number (`host~effect:pid.`), or "" when they do not
 * share one: sent once per call, each slot then travels as its number.
 */
export const nameBase = (names: ReadonlyArray<string>): string => {
  const first = names[0]
  if (first === undefined) return ""
  const base = first.slice(0, first.lastIndexOf(".") + 1)
  for (const name of names) if (!name.startsWith(base)) return ""
  return base
}

/**
 * An idle slot as the pick takes it, in one argument: `h` (its record may hold a job) or `-`, then its name
 * after the base; `H` or `_` instead when its run_at is not the call's, which then follows up to a `|`.
 */
const slotSpec = (slot: IdleSlot, base: string, runAt: string): string => {
  const held = slot.mayHold !== false
  const name = slot.worker.slice(base.length)
  return slot.runAt === runAt ? `${held ? "h" : "-"}${name}` : `${held ? "H" : "_"}${slot.runAt}|${name}`
}

/** `slotSpec` read back: whether the record may hold a job, the run_at, the name. */
const readSlotSpec = (spec: string, base: string, runAt: string): readonly [mayHold: boolean, runAt: string, worker: string] => {
  const flag = spec.slice(0, 1)
  if (flag === "h" || flag === "-") return [flag === "h", runAt, base + spec.slice(1)]
  const bar = spec.indexOf("|")
  return [flag === "H", spec.slice(1, bar), base + spec.slice(bar + 1)]
}

/**
 * Picks for the idle slots of a pool, in one step: each slot whose record still holds a job gets it back
 * (only slots that may hold one are read); the others get the next jobs of the queues that are not paused,
 * in priority order, while there are any. Answers the jobs by slot index (slots that got none are left out).
 *
 * A slot's working-on key is `worker:NAME:QUEUES`, `QUEUES` the pool's queue string (`workerQueues`, its
 * Resque id's part). KEYS: queues set, wake-up marker, paused queues. ARGV: queue key prefix, number of
 * slots, worker key prefix (`ns:worker:`), the pool's queue string, the names' base ({@link nameBase}), the
 * run_at of the call, then one argument per slot (`slotSpec`: record flag, run_at if its own, name after the
 * base), the limits, then the queue names to pick from.
 *
 * @category scripts
 */
export const pickMany = Script.make({
  name: "pickMany",
  lua: String.raw`${luaPick}
local queues_key, wake_key, paused_key = KEYS[1], KEYS[2], KEYS[3]
local prefix, count, worker_prefix, worker_queues, base, shared_run_at = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local queues = expandQueues(queues_key, paused_key, readLimits(7 + count))
local picked = {}
local popped = {}
local drained = false
for i = 0, count - 1 do
  local spec = ARGV[7 + i]
  local flag = string.sub(spec, 1, 1)
  local may_hold = flag == 'h' or flag == 'H'
  -- once the queues are drained, a slot that holds nothing costs nothing
  if may_hold or not drained then
    local run_at, worker = shared_run_at, nil
    if flag == 'h' or flag == '-' then
      worker = base .. string.sub(spec, 2)
    else
      local bar = string.find(spec, '|', 2, true)
      run_at, worker = string.sub(spec, 2, bar - 1), base .. string.sub(spec, bar + 1)
    end
    local working = worker_prefix .. worker .. ':' .. worker_queues
    local current = may_hold and redis.call('get', working)
    local job = current and held(current, worker)
    local fresh = false
    if not job and not drained then
      job = popFrom(queues, working, prefix, run_at, worker, popped)
      fresh = true
      if not job then drained = true end
    end
    if job then
      picked[#picked + 1] = i
      picked[#picked + 1] = job[1]
      picked[#picked + 1] = job[2]
      picked[#picked + 1] = fresh and '' or job[3]
    end
  end
end
rewake(wake_key, prefix, popped)
if limits.count > 0 then picked[#picked + 1] = limits.wait end
return picked
`,
  encode: (input: {
    readonly keys: Keys
    /** The pool's queue string (`a,b` or `*`): the last part of its workers' working-on keys. */
    readonly workerQueues: string
    readonly slots: ReadonlyArray<IdleSlot>
    readonly queues: ReadonlyArray<string>
    readonly limits?: { readonly limits: Limits.Limits; readonly now: number } | undefined
  }) => {
    const base = nameBase(input.slots.map((slot) => slot.worker))
    const runAt = input.slots[0]?.runAt ?? ""
    const args: Array<Arg> = [input.keys.queue(""), input.slots.length, input.keys.key("worker", ""), input.workerQueues, base, runAt]
    for (const slot of input.slots) args.push(slotSpec(slot, base, runAt))
    for (const arg of Limits.args(input.keys, input.limits?.limits ?? Limits.none, input.limits?.now ?? 0)) args.push(arg)
    for (const queue of input.queues) args.push(queue)
    return { keys: [input.keys.queues, input.keys.wake, input.keys.paused], args }
  },
  decode: decodePicks,
  twin: (redis, [queuesKey = "", wakeKey = "", pausedKey = ""], [prefix = "", countText = "0", workerPrefix = "", workerQueues = "", base = "", sharedRunAt = "", ...rest]) => {
    const count = Number(countText)
    const [limits, first] = Limits.State.read(rest, count)
    const queues = expandQueues(redis, queuesKey, pausedKey, rest.slice(first))
    const picked: Array<readonly [number, Picked, boolean]> = []
    const popped = new Set<string>()
    let drained = false
    for (let i = 0; i < count; i++) {
      const spec = rest[i] ?? ""
      if (drained && !spec.startsWith("h") && !spec.startsWith("H")) continue
      const [mayHold, runAt, worker] = readSlotSpec(spec, base, sharedRunAt)
      const working = `${workerPrefix}${worker}:${workerQueues}`
      const current = mayHold ? redis.call("get", working) : null
      let job = typeof current === "string" ? held(current, worker) : undefined
      let fresh = false
      if (job === undefined && !drained) {
        job = popFrom(redis, queues, { working, prefix, runAt, worker }, popped, limits)
        fresh = true
        if (job === undefined) drained = true
      }
      if (job !== undefined) picked.push([i, job, fresh])
    }
    rewake(redis, wakeKey, prefix, popped, limits)
    const reply = encodeBySlot(picked) as ReadonlyArray<Reply>
    return limits.count > 0 ? [...reply, limits.wait] : reply
  }
})
