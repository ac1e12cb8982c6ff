/**
 * An in-memory Redis keyspace: the data types, expiry and the subset of commands the runtime uses, run
 * synchronously in this process. It backs the in-memory Redis layer (`layers/RedisMemory.ts`) and runs the
 * JavaScript twin of every Lua script, so a twin calls `store.call(...)` exactly where its Lua calls
 * `redis.call(...)`, and gets the same reply shapes.
 *
 * Replies are RESP2 values as a Lua script sees them: integers are numbers, bulk strings are strings, a
 * missing value is `null`, multi-bulk replies are arrays (`HGETALL` is a flat `[field, value, ...]` array,
 * `ZRANGE ... WITHSCORES` a flat `[member, score, ...]` array with scores as strings). A command Redis would
 * refuse throws a {@link ReplyError} whose message starts like Redis's own (`ERR ...`, `WRONGTYPE ...`).
 *
 * Keys with a time to live expire by the store's clock (`now`), checked when a key is read or listed, so an
 * Effect `TestClock` given as the clock moves expiry too. Blocking commands (BLPOP, BZPOPMIN...) never block:
 * they answer as Redis does inside MULTI, `null` where they would wait, and the caller waits with `onWrite`.
 *
 * This module is the public face and the command table; the rest lives next to it, one concept a module:
 * `MemoryStoreReply.ts` (the reply types and errors), `MemoryStoreValues.ts` (the list and sorted-set
 * structures), `MemoryStoreNumbers.ts` (Redis's number parsing and printing), `MemoryStoreGlob.ts` (patterns),
 * `MemoryStoreKeyspace.ts` (keys, expiry, write notifications), and one module per command family.
 *
 * @since 0.2.0
 */
import * as Blocking from "./MemoryStoreBlocking.ts"
import * as Hashes from "./MemoryStoreHashes.ts"
import * as Keys from "./MemoryStoreKeys.ts"
import { type Db, makeDb, notify, purgeExpired, watch } from "./MemoryStoreKeyspace.ts"
import * as Lists from "./MemoryStoreLists.ts"
import { type Argv, fail, type Reply, wrongArity } from "./MemoryStoreReply.ts"
import * as Sets from "./MemoryStoreSets.ts"
import * as SortedSets from "./MemoryStoreSortedSets.ts"
import * as Strings from "./MemoryStoreStrings.ts"
import { List, type Value } from "./MemoryStoreValues.ts"

export type { Reply } from "./MemoryStoreReply.ts"
export { ReplyError } from "./MemoryStoreReply.ts"

/** An argument as a caller gives it; numbers are sent as their decimal text, as a Redis client does. */
export type Arg = string | number

/**
 * The keyspace.
 *
 * @category models
 */
export interface MemoryStore {
  /** Runs one command atomically and returns its reply; throws {@link ReplyError} where Redis would reply an error. */
  readonly call: (command: string, ...args: ReadonlyArray<Arg>) => Reply
  /**
   * Calls `listener` after every command that wrote to one of `keys` (blocking reads wait on it). Returns the
   * function that removes the listener.
   */
  readonly onWrite: (keys: ReadonlyArray<string>, listener: () => void) => () => void
  /** Every live key with its type, value and remaining time to live, for tests that compare keyspaces. */
  readonly snapshot: () => ReadonlyArray<KeySnapshot>
}

/**
 * One key as {@link MemoryStore.snapshot} reports it: strings as text, lists in order, sets and hash fields
 * sorted, sorted sets by score then member, `pttl` -1 without expiry.
 *
 * @category models
 */
export type KeySnapshot =
  & { readonly key: string; readonly pttl: number }
  & (
    | { readonly type: "string"; readonly value: string }
    | { readonly type: "list"; readonly value: ReadonlyArray<string> }
    | { readonly type: "set"; readonly value: ReadonlyArray<string> }
    | { readonly type: "hash"; readonly value: ReadonlyArray<readonly [string, string]> }
    | { readonly type: "zset"; readonly value: ReadonlyArray<readonly [string, number]> }
  )

/**
 * Options of {@link make}.
 *
 * @category models
 */
export interface Options {
  /** The clock expiry is measured by, in epoch ms. */
  readonly now: () => number
}

// ---------------------------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------------------------

interface Command {
  readonly name: string
  /** Redis's arity, counting the command name: exact when positive, a minimum when negative. */
  readonly arity: number
  readonly write: boolean
  readonly run: (db: Db, argv: Argv) => Reply
}

/** By name, lower and upper case (so the usual spellings skip `toLowerCase`). */
const commands = new Map<string, Command>()

const define = (name: string, arity: number, write: boolean, run: (db: Db, argv: Argv) => Reply): void => {
  const command: Command = { name, arity, write, run }
  commands.set(name, command)
  commands.set(name.toUpperCase(), command)
}

define("del", -2, true, Keys.del)
define("exists", -2, false, Keys.exists)
define("type", 2, false, Keys.type)
define("expire", -3, true, Keys.expireCommand("expire", true, true))
define("pexpire", -3, true, Keys.expireCommand("pexpire", false, true))
define("expireat", -3, true, Keys.expireCommand("expireat", true, false))
define("pexpireat", -3, true, Keys.expireCommand("pexpireat", false, false))
define("ttl", 2, false, Keys.ttlCommand(false))
define("pttl", 2, false, Keys.ttlCommand(true))
define("persist", 2, true, Keys.persist)
define("keys", 2, false, Keys.keys)
define("scan", -2, false, Keys.scan)
define("dbsize", 1, false, Keys.dbsize)
define("flushall", -1, true, Keys.flush)
define("flushdb", -1, true, Keys.flush)
define("rename", 3, true, Keys.rename)
define("ping", -1, false, Keys.ping)
define("echo", 2, false, Keys.echo)

define("get", 2, false, Strings.get)
define("set", -3, true, Strings.set)
define("setnx", 3, true, Strings.setnx)
define("setex", 4, true, Strings.setex("setex", "EX"))
define("psetex", 4, true, Strings.setex("psetex", "PX"))
define("getdel", 2, true, Strings.getdel)
define("mget", -2, false, Strings.mget)
define("mset", -3, true, Strings.mset)
define("incr", 2, true, Strings.incr)
define("incrby", 3, true, Strings.incrby)
define("decr", 2, true, Strings.decr)
define("decrby", 3, true, Strings.decrby)
define("incrbyfloat", 3, true, Strings.incrbyfloat)
define("append", 3, true, Strings.append)
define("strlen", 2, false, Strings.strlen)

define("lpush", -3, true, Lists.push(true, false))
define("rpush", -3, true, Lists.push(false, false))
define("lpushx", -3, true, Lists.push(true, true))
define("rpushx", -3, true, Lists.push(false, true))
define("lpop", -2, true, Lists.pop(true))
define("rpop", -2, true, Lists.pop(false))
define("llen", 2, false, Lists.llen)
define("lrange", 4, false, Lists.lrange)
define("lindex", 3, false, Lists.lindex)
define("lset", 4, true, Lists.lset)
define("lrem", 4, true, Lists.lrem)
define("ltrim", 4, true, Lists.ltrim)
define("lpos", -3, false, Lists.lpos)
define("lmove", 5, true, Lists.lmove)
define("rpoplpush", 3, true, Lists.rpoplpush)
define("blpop", -3, true, Blocking.blockingPop(true))
define("brpop", -3, true, Blocking.blockingPop(false))
define("blmove", 6, true, Blocking.blmove)

define("sadd", -3, true, Sets.sadd)
define("srem", -3, true, Sets.srem)
define("smembers", 2, false, Sets.smembers)
define("sismember", 3, false, Sets.sismember)
define("smismember", -3, false, Sets.smismember)
define("scard", 2, false, Sets.scard)
define("spop", -2, true, Sets.spop)

define("hset", -4, true, Hashes.hset)
define("hsetnx", 4, true, Hashes.hsetnx)
define("hget", 3, false, Hashes.hget)
define("hmget", -3, false, Hashes.hmget)
define("hgetall", 2, false, Hashes.hgetall)
define("hdel", -3, true, Hashes.hdel)
define("hexists", 3, false, Hashes.hexists)
define("hlen", 2, false, Hashes.hlen)
define("hkeys", 2, false, Hashes.hkeys)
define("hvals", 2, false, Hashes.hvals)
define("hincrby", 4, true, Hashes.hincrby)
define("hincrbyfloat", 4, true, Hashes.hincrbyfloat)

define("zadd", -4, true, SortedSets.zadd)
define("zrem", -3, true, SortedSets.zrem)
define("zscore", 3, false, SortedSets.zscore)
define("zcard", 2, false, SortedSets.zcard)
define("zincrby", 4, true, SortedSets.zincrby)
define("zrange", -4, false, SortedSets.zrangeCommand(false))
define("zrangebyscore", -4, false, SortedSets.zrangeCommand(true))
define("zremrangebyscore", 4, true, SortedSets.zremrangebyscore)
define("zpopmin", -2, true, SortedSets.zpop(false))
define("zpopmax", -2, true, SortedSets.zpop(true))
define("bzpopmin", -3, true, Blocking.blockingZpop(false))
define("bzpopmax", -3, true, Blocking.blockingZpop(true))
define("zcount", 4, false, SortedSets.zcount)
define("zrank", 3, false, SortedSets.zrank)

/** The arguments as text; the array itself when they already are (the common case, no copy). */
const asText = (args: ReadonlyArray<Arg>): Argv => {
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== "string") return args.map(String)
  }
  return args as Argv
}

/** Redis's message lists the first arguments, each quoted and followed by a space, up to about 128 characters. */
const unknownCommand = (command: string, argv: Argv): never => {
  let args = ""
  for (let i = 0; i < argv.length && args.length < 128; i++) args += `'${argv[i].slice(0, 128 - args.length)}' `
  return fail(`ERR unknown command '${command.slice(0, 128)}', with args beginning with: ${args}`)
}

const run = (db: Db, command: string, args: ReadonlyArray<Arg>): Reply => {
  const spec = commands.get(command) ?? commands.get(command.toLowerCase())
  const argv = asText(args)
  if (spec === undefined) return unknownCommand(command, argv)
  const argc = argv.length + 1
  if (spec.arity > 0 ? argc !== spec.arity : argc < -spec.arity) wrongArity(spec.name)
  db.writing = spec.write
  try {
    return spec.run(db, argv)
  } finally {
    if (db.pending !== undefined) notify(db)
  }
}

const sortedStrings = (values: Iterable<string>): Array<string> => Array.from(values).sort()

const snapshotOf = (key: string, value: Value, pttl: number): KeySnapshot => {
  if (typeof value === "string") return { key, pttl, type: "string", value }
  if (value instanceof List) return { key, pttl, type: "list", value: value.toArray() }
  if (value instanceof Set) return { key, pttl, type: "set", value: sortedStrings(value) }
  if (value instanceof Map) {
    const fields = Array.from(value.entries()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return { key, pttl, type: "hash", value: fields }
  }
  return { key, pttl, type: "zset", value: value.entries().map((e) => [e.member, e.score] as const) }
}

const snapshot = (db: Db): ReadonlyArray<KeySnapshot> => {
  purgeExpired(db)
  const now = db.expires.size === 0 ? 0 : db.now()
  return sortedStrings(db.data.keys()).map((key) => {
    const at = db.expires.get(key)
    return snapshotOf(key, db.data.get(key)!, at === undefined ? -1 : at - now)
  })
}

/**
 * An empty keyspace.
 *
 * @category constructors
 */
export const make = (options: Options): MemoryStore => {
  const db = makeDb(options.now)
  return {
    call: (command, ...args) => run(db, command, args),
    onWrite: (keys, listener) => watch(db, keys, listener),
    snapshot: () => snapshot(db)
  }
}
