/**
 * Uniqueness claims, as the scripts that write a unique job read them (the single unique enqueue and the
 * fan-out batch): the claim `<ns>:unique:<action>:<key>` holds its holder's id, and it blocks a new job while
 * its mode says the holder still counts. Also how a job is found running: its id in the working-on records
 * (`findRunning`: one `GET` per registered worker), which the job reads and the cancel use too.
 *
 * @since 0.3.0
 */
import * as Script from "./Script.ts"

/**
 * Lua: `findRunning(workers_key, worker_prefix, needle)`: the working-on record holding the job whose payload
 * contains `needle` (`Job.idNeedle`), or false; `hashField(flat, name)`: a field of a flat `HGETALL` reply.
 */
export const luaFindRunning = String.raw`
local function findRunning(workers_key, worker_prefix, needle)
  for _, member in ipairs(redis.call('smembers', workers_key)) do
    local record = redis.call('get', worker_prefix .. member)
    if record and string.find(record, needle, 1, true) then return record end
  end
  return false
end
local function hashField(flat, name)
  for i = 1, #flat, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end
`

/** `findRunning` for the twins. */
export const findRunning = (redis: Script.ScriptRedis, workersKey: string, workerPrefix: string, needle: string): string | null => {
  for (const member of Script.toStrings(redis.call("smembers", workersKey))) {
    const record = Script.toStringOrNull(redis.call("get", workerPrefix + member))
    if (record !== null && record.includes(needle)) return record
  }
  return null
}

/** A field of a flat `HGETALL` reply. */
export const hashField = (flat: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1]
  return undefined
}

/** Where a claim's holder is looked up: its record, and the working-on records (mode `until-started`). */
export interface Lookup {
  /** The record key prefix (`Keys.job("")`). */
  readonly jobPrefix: string
  readonly workersKey: string
  /** The working-on key prefix. */
  readonly workerPrefix: string
  /** The id needle's start, `"_job":{"id":"`. */
  readonly needlePrefix: string
}

/** The id needle's start (`Job.idNeedle` without the id). */
export const needlePrefix = `"_job":{"id":"`

/**
 * Lua (after {@link luaFindRunning}): `claimHolder(claim, mode, job_prefix, workers_key, worker_prefix,
 * needle_prefix)`: the id of the job whose claim blocks a new one, or false when the claim is free: not held,
 * or its holder's record says it ended (or expired), or (mode `until-started`) a worker runs the holder. In
 * mode `window` a held claim always blocks.
 */
export const luaClaimHolder = String.raw`
local function claimHolder(claim, mode, job_prefix, workers_key, worker_prefix, needle_prefix)
  local holder = redis.call('get', claim)
  if not holder then return false end
  if mode == 'window' then return holder end
  local state = redis.call('hget', job_prefix .. holder, 'state')
  if state ~= 'queued' and state ~= 'delayed' then return false end
  if mode == 'until-started' and findRunning(workers_key, worker_prefix, needle_prefix .. holder .. '"') then return false end
  return holder
end
`

/** `claimHolder` for the twins. */
export const claimHolder = (redis: Script.ScriptRedis, claim: string, mode: string, lookup: Lookup): string | null => {
  const holder = Script.toStringOrNull(redis.call("get", claim))
  if (holder === null) return null
  if (mode === "window") return holder
  const state = Script.toStringOrNull(redis.call("hget", lookup.jobPrefix + holder, "state"))
  if (state !== "queued" && state !== "delayed") return null
  if (mode === "until-started" && findRunning(redis, lookup.workersKey, lookup.workerPrefix, `${lookup.needlePrefix}${holder}"`) !== null) {
    return null
  }
  return holder
}
