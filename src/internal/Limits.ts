/**
 * Rate limits and global concurrency, per action or per queue, across every worker of every process: at
 * most `rate.limit` runs start in any window of `rate.per` (a sliding window: a sorted set of the start
 * times, in a key of our own), and at most `concurrency` run at once (a sorted set of the slots running one,
 * each with a lease the pool renews with its pings, so a dead worker's slot frees itself).
 *
 * The pick scripts check and take them in the step that pops a job (`Pick.popFrom`), so a limit costs no
 * round trip of its own. A job over a limit waits where it is: a limited queue is not popped, and a job of a
 * limited action is put back at the head of its queue, which is then not popped again in that call (the
 * rest of that queue waits behind it: give a limited action a queue of its own). The pick answers how long
 * until a rate allows the next run; the pool waits that long (or for a wake-up: a run that ends and frees a
 * concurrency slot wakes its queue) before it picks again. Not configured, the scripts read one `0`.
 *
 * @since 0.3.0
 */
import * as Duration from "effect/Duration"
import type * as Action from "../domain/Action.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Entry } from "./ActionEntry.ts"
import * as Script from "./Script.ts"

/** One limited scope: a queue or an action. */
export interface Scope {
  readonly kind: "queue" | "action"
  readonly name: string
  /** Runs allowed per window (0: no rate limit). */
  readonly rate: number
  readonly windowMillis: number
  /** Runs at once (0: no concurrency limit). */
  readonly concurrency: number
}

/** The limits a worker pool applies. */
export interface Limits {
  readonly scopes: ReadonlyArray<Scope>
  /** How long a concurrency slot is held without a renewal (the pool renews it with every ping). */
  readonly leaseMillis: number
}

/** No limits: what the scripts get when none is configured. */
export const none: Limits = { scopes: [], leaseMillis: 0 }

const scopeOf = (kind: Scope["kind"], name: string, limit: Action.Limit): Scope | undefined => {
  const rate = limit.rate === undefined ? 0 : Math.max(0, Math.floor(limit.rate.limit))
  const windowMillis = limit.rate === undefined ? 0 : Math.max(1, Duration.toMillis(limit.rate.per))
  const concurrency = Math.max(0, Math.floor(limit.concurrency ?? 0))
  return rate === 0 && concurrency === 0 ? undefined : { kind, name, rate, windowMillis, concurrency }
}

/** The limits of the actions and queues a pool runs; the lease is three ping intervals. */
export const make = (options: {
  readonly entries: Iterable<Entry>
  readonly queues: Readonly<Record<string, Action.Limit>>
  readonly pingMillis: number
}): Limits => {
  const scopes: Array<Scope> = []
  for (const [name, limit] of Object.entries(options.queues)) {
    const scope = scopeOf("queue", name, limit)
    if (scope !== undefined) scopes.push(scope)
  }
  for (const entry of options.entries) {
    const scope = entry.action.limit === undefined ? undefined : scopeOf("action", entry.name, entry.action.limit)
    if (scope !== undefined) scopes.push(scope)
  }
  return scopes.length === 0 ? none : { scopes, leaseMillis: Math.max(3 * options.pingMillis, 1000) }
}

/** The key of a scope's window of starts, or of its running slots. */
const keyOf = (keys: Keys, kind: "rate" | "running", scope: { readonly kind: string; readonly name: string }) =>
  keys.key("limit", kind, scope.kind, scope.name)

/**
 * The limits segment of a pick script's ARGV: `now, lease, key prefix, n, (kind, name, rate, window,
 * concurrency) × n`; a single `0` count when there are none.
 */
export const args = (keys: Keys, limits: Limits, now: number): ReadonlyArray<string | number> =>
  limits.scopes.length === 0
    ? [0, 0, "", 0]
    : [now, limits.leaseMillis, keys.key("limit", ""), limits.scopes.length, ...limits.scopes.flatMap((s) => [s.kind, s.name, s.rate, s.windowMillis, s.concurrency])]

/**
 * What a completion writes for a job that held a concurrency slot: the slot freed (in each limited scope of
 * its queue and action) and its queue woken, so a pool waiting for the slot picks at once.
 */
export const release = (keys: Keys, limits: Limits, job: { readonly queue: string; readonly action: string | undefined; readonly worker: string }) => {
  const writes: Array<readonly ["zrem", string, string] | readonly ["zadd", string, number, string]> = []
  for (const scope of limits.scopes) {
    if (scope.concurrency === 0) continue
    if ((scope.kind === "queue" && scope.name === job.queue) || (scope.kind === "action" && scope.name === job.action)) {
      writes.push(["zrem", keyOf(keys, "running", scope), job.worker])
    }
  }
  if (writes.length > 0) writes.push(["zadd", keys.wake, 0, job.queue], ["zadd", keys.wakeQueue(job.queue), 0, job.queue])
  return writes
}

// ---------------------------------------------------------------------------------------------------------
// Lua fragments (part of `Pick.luaPick`)
// ---------------------------------------------------------------------------------------------------------

/**
 * `readLimits(at)` reads the limits segment at `ARGV[at]` into `limits` and answers the index after it;
 * `allowed(scope)` says whether a scope may start a run now (clearing expired starts and leases first) and,
 * for a rate, notes in `limits.wait` how long until it may; `take(scope, worker, run_at)` records a start and
 * a running slot. `limits.blocked[q]` marks the queues that may not be popped again in this call.
 */
export const luaLimits = String.raw`
local limits = { count = 0, blocked = {}, wait = -1 }
local function readLimits(at)
  local n = tonumber(ARGV[at + 3])
  limits = { count = n, now = tonumber(ARGV[at]), lease = tonumber(ARGV[at + 1]), prefix = ARGV[at + 2], queue = {}, action = {}, actions = false, blocked = {}, wait = -1 }
  for i = 0, n - 1 do
    local s = at + 4 + 5 * i
    local scope = { id = ARGV[s] .. ':' .. ARGV[s + 1], rate = tonumber(ARGV[s + 2]), window = tonumber(ARGV[s + 3]), concurrency = tonumber(ARGV[s + 4]) }
    if ARGV[s] == 'queue' then limits.queue[ARGV[s + 1]] = scope else limits.action[ARGV[s + 1]] = scope; limits.actions = true end
  end
  return at + 4 + 5 * n
end
local function allowed(scope)
  if scope.rate > 0 then
    local key = limits.prefix .. 'rate:' .. scope.id
    redis.call('zremrangebyscore', key, '-inf', limits.now - scope.window)
    if redis.call('zcard', key) >= scope.rate then
      local oldest = redis.call('zrange', key, 0, 0, 'WITHSCORES')
      local wait = tonumber(oldest[2]) + scope.window - limits.now
      if limits.wait < 0 or wait < limits.wait then limits.wait = wait end
      return false
    end
  end
  if scope.concurrency > 0 then
    local key = limits.prefix .. 'running:' .. scope.id
    redis.call('zremrangebyscore', key, '-inf', limits.now)
    if redis.call('zcard', key) >= scope.concurrency then return false end
  end
  return true
end
local function take(scope, worker, run_at)
  if scope.rate > 0 then
    local key = limits.prefix .. 'rate:' .. scope.id
    redis.call('zadd', key, limits.now, worker .. '@' .. run_at)
    redis.call('pexpire', key, scope.window)
  end
  if scope.concurrency > 0 then
    local key = limits.prefix .. 'running:' .. scope.id
    redis.call('zadd', key, limits.now + limits.lease, worker)
    redis.call('pexpire', key, limits.lease)
  end
end
local function actionOf(payload)
  return string.match(payload, '"class":"([^"]*)"') or ''
end
`

// ---------------------------------------------------------------------------------------------------------
// the same, in JavaScript
// ---------------------------------------------------------------------------------------------------------

interface LiveScope {
  readonly id: string
  readonly rate: number
  readonly window: number
  readonly concurrency: number
}

/** The limits as a pick script holds them while it runs (`limits` of the Lua). */
export class State {
  readonly queue = new Map<string, LiveScope>()
  readonly action = new Map<string, LiveScope>()
  readonly blocked = new Set<string>()
  wait = -1
  readonly count: number
  readonly now: number
  readonly lease: number
  readonly prefix: string
  constructor(count: number, now: number, lease: number, prefix: string) {
    this.count = count
    this.now = now
    this.lease = lease
    this.prefix = prefix
  }

  /** `readLimits` of the Lua: the state, and the index after the segment. */
  static read(args: ReadonlyArray<string>, at: number): readonly [State, number] {
    const n = Number(args[at + 3])
    const state = new State(n, Number(args[at]), Number(args[at + 1]), args[at + 2] ?? "")
    for (let i = 0; i < n; i++) {
      const s = at + 4 + 5 * i
      const [kind = "", name = "", rate = "0", window = "0", concurrency = "0"] = args.slice(s, s + 5)
      const scope = { id: `${kind}:${name}`, rate: Number(rate), window: Number(window), concurrency: Number(concurrency) }
      if (kind === "queue") state.queue.set(name, scope)
      else state.action.set(name, scope)
    }
    return [state, at + 4 + 5 * n]
  }

  /** `allowed` of the Lua. */
  allowed(redis: Script.ScriptRedis, scope: LiveScope): boolean {
    if (scope.rate > 0) {
      const key = `${this.prefix}rate:${scope.id}`
      redis.call("zremrangebyscore", key, "-inf", this.now - scope.window)
      if (Script.toNumber(redis.call("zcard", key)) >= scope.rate) {
        const [, score] = Script.toStrings(redis.call("zrange", key, 0, 0, "WITHSCORES"))
        const wait = Number(score) + scope.window - this.now
        if (this.wait < 0 || wait < this.wait) this.wait = wait
        return false
      }
    }
    if (scope.concurrency > 0) {
      const key = `${this.prefix}running:${scope.id}`
      redis.call("zremrangebyscore", key, "-inf", this.now)
      if (Script.toNumber(redis.call("zcard", key)) >= scope.concurrency) return false
    }
    return true
  }

  /** `take` of the Lua. */
  take(redis: Script.ScriptRedis, scope: LiveScope, worker: string, runAt: string): void {
    if (scope.rate > 0) {
      const key = `${this.prefix}rate:${scope.id}`
      redis.call("zadd", key, this.now, `${worker}@${runAt}`)
      redis.call("pexpire", key, scope.window)
    }
    if (scope.concurrency > 0) {
      const key = `${this.prefix}running:${scope.id}`
      redis.call("zadd", key, this.now + this.lease, worker)
      redis.call("pexpire", key, this.lease)
    }
  }
}

/** `actionOf` of the Lua: the `class` of a payload as the pick reads it, without parsing the JSON. */
export const actionOf = (payload: string): string => /"class":"([^"]*)"/.exec(payload)?.[1] ?? ""

// ---------------------------------------------------------------------------------------------------------
// the lease renewal
// ---------------------------------------------------------------------------------------------------------

/**
 * Renews the concurrency slots a pool's workers hold (only those they hold: `ZADD XX`), with its pings.
 * ARGV: lease expiry (epoch ms), lease (ms), number of keys, keys..., worker names...
 *
 * @category scripts
 */
export const renew = Script.make({
  name: "limitsRenew",
  lua: String.raw`
local expiry, lease, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
for k = 4, 3 + n do
  for w = 4 + n, #ARGV do redis.call('zadd', ARGV[k], 'XX', expiry, ARGV[w]) end
  if redis.call('exists', ARGV[k]) == 1 then redis.call('pexpire', ARGV[k], lease) end
end
return n
`,
  encode: (input: { readonly keys: Keys; readonly limits: Limits; readonly names: ReadonlyArray<string>; readonly now: number }) => {
    const running = input.limits.scopes.filter((s) => s.concurrency > 0).map((s) => keyOf(input.keys, "running", s))
    return { keys: [], args: [input.now + input.limits.leaseMillis, input.limits.leaseMillis, running.length, ...running, ...input.names] }
  },
  decode: Script.toNumber,
  twin: (redis, _keys, [expiry = "", lease = "", countText = "0", ...rest]) => {
    const n = Number(countText)
    const names = rest.slice(n)
    for (const key of rest.slice(0, n)) {
      for (const name of names) redis.call("zadd", key, "XX", expiry, name)
      if (redis.call("exists", key) === 1) redis.call("pexpire", key, lease)
    }
    return n
  }
})

/** Whether the pool must renew leases with its pings. */
export const holdsSlots = (limits: Limits): boolean => limits.scopes.some((s) => s.concurrency > 0)
