/**
 * The in-memory keyspace answers like a real Redis: every command runs against the private `redis-server` of
 * the global setup (through Lua, `redis.call(unpack(ARGV))`, so replies have exactly the shape a script sees)
 * and against a fresh `MemoryStore`, and the replies must be equal (the blocking commands, which Redis refuses
 * in a script, go through a MULTI, where they do not block either); then the whole keyspace is read back from
 * Redis and compared with `store.snapshot()`. Each test works under its own key prefix and deletes only its own
 * keys; commands that would touch the whole server (FLUSHALL, FLUSHDB, DBSIZE) run on the memory store only.
 */
import { randomBytes } from "node:crypto"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import * as MemoryStore from "../src/internal/MemoryStore.ts"
import * as Blocking from "../src/internal/MemoryStoreBlocking.ts"

type Command = ReadonlyArray<string | number>
type Outcome = { readonly reply: unknown } | { readonly error: string }

const SCRIPT = "return redis.call(unpack(ARGV))"

let redis: Redis
const prefixes: Array<string> = []

beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 })
})

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await scanAll(prefix)
    if (keys.length > 0) await redis.del(...keys)
  }
  await redis.quit()
})

/** Every key of the real server under `prefix` (SCAN MATCH, never KEYS on a shared server). */
const scanAll = async (prefix: string): Promise<Array<string>> => {
  const found = new Set<string>()
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 100)
    for (const key of keys) found.add(key)
    cursor = next
  } while (cursor !== "0")
  return Array.from(found).sort()
}

/**
 * An error as both sides are compared: Redis wraps a script's error (`... script: <sha>, on @user_script:1.`),
 * and refuses unknown commands and bad arities with its own script wording, so those two compare by kind only
 * (their exact direct-client text is checked in a test of its own).
 */
const normalizeError = (message: string): string => {
  const text = message.replace(/ script: [\s\S]*$/, "")
  if (text.startsWith("ERR Wrong number of args calling Redis command from script")) return "ERR wrong number of arguments"
  if (text.startsWith("ERR wrong number of arguments for '")) return "ERR wrong number of arguments"
  if (text.startsWith("ERR Unknown Redis command called from script")) return "ERR unknown command"
  if (text.startsWith("ERR unknown command '")) return "ERR unknown command"
  return text
}

/**
 * Redis 7.0 refuses the blocking commands in a script (they are flagged `noscript`), so on the real server they
 * run inside a MULTI instead, where Redis gives them the semantics the store has everywhere: they never block,
 * answering at once what they would answer with data there, and nil where they would wait.
 */
const BLOCKING = new Set(["BLPOP", "BRPOP", "BLMOVE", "BZPOPMIN", "BZPOPMAX"])

/** One command in a MULTI; an error found while queueing (arity) aborts the EXEC and is the outcome. */
const onRealInMulti = async (command: Command): Promise<Outcome> => {
  const [name, ...args] = command
  try {
    const [[error, reply]] = (await redis.multi().call(String(name), ...args).exec())!
    return error ? { error: normalizeError(error.message) } : { reply }
  } catch (error) {
    const queued = (error as { readonly previousErrors?: ReadonlyArray<Error> }).previousErrors?.[0]
    return { error: normalizeError((queued ?? (error as Error)).message) }
  }
}

const onReal = async (command: Command): Promise<Outcome> => {
  if (BLOCKING.has(String(command[0]).toUpperCase())) return onRealInMulti(command)
  try {
    return { reply: await redis.eval(SCRIPT, 0, ...command) }
  } catch (error) {
    return { error: normalizeError(error instanceof Error ? error.message : String(error)) }
  }
}

const onMemory = (store: MemoryStore.MemoryStore, command: Command): Outcome => {
  const [name, ...args] = command
  try {
    return { reply: store.call(String(name), ...args) }
  } catch (error) {
    if (!(error instanceof MemoryStore.ReplyError)) throw error
    return { error: normalizeError(error.message) }
  }
}

/**
 * ioredis's parser builds an integer reply digit by digit in a double, so beyond 2^53 it is a little off (the
 * stored values themselves are compared exactly, as text, through the keyspace): where the memory reply holds
 * such an integer within 1e-12 of Redis's, Redis's is taken.
 */
const reconcile = (memory: unknown, real: unknown): unknown => {
  if (typeof memory === "number" && typeof real === "number" && !Number.isSafeInteger(memory)) {
    return Math.abs(memory - real) <= Math.abs(real) * 1e-12 ? real : memory
  }
  if (Array.isArray(memory) && Array.isArray(real)) return memory.map((item, i) => reconcile(item, real[i]))
  return memory
}

const rough = (memory: Outcome, real: Outcome): Outcome =>
  "reply" in memory && "reply" in real ? { reply: reconcile(memory.reply, real.reply) } : memory

const sortReply = (outcome: Outcome): Outcome =>
  "reply" in outcome && Array.isArray(outcome.reply) ? { reply: [...(outcome.reply as Array<string>)].sort() } : outcome

/** How a reply may differ between the two sides: exactly, as a set, or by a small amount of time. */
type Compare = "exact" | "unordered" | { readonly within: number }

const agree = (memory: Outcome, real: Outcome, compare: Compare, label: string): void => {
  if (compare === "exact") {
    expect(rough(memory, real), label).toEqual(real)
  } else if (compare === "unordered") {
    expect(sortReply(memory), label).toEqual(sortReply(real))
  } else if ("reply" in memory && "reply" in real && typeof memory.reply === "number" && typeof real.reply === "number") {
    if (memory.reply < 0 || real.reply < 0) expect(memory.reply, label).toBe(real.reply)
    else expect(Math.abs(memory.reply - real.reply), label).toBeLessThanOrEqual(compare.within)
  } else {
    expect(memory, label).toEqual(real)
  }
}

/** A memory store plus a prefix of its own on the real server, and helpers that run commands on both. */
const harness = () => {
  const prefix = `memtest-${randomBytes(6).toString("hex")}:`
  prefixes.push(prefix)
  let time = Date.now()
  let frozen = false
  const store = MemoryStore.make({ now: () => time })
  const k = (name: string): string => prefix + name
  let step = 0

  const both = async (command: Command, compare: Compare = "exact"): Promise<Outcome> => {
    if (!frozen) time = Date.now()
    const memory = onMemory(store, command)
    const real = await onReal(command)
    agree(memory, real, compare, `#${step++} ${JSON.stringify(command)}`)
    return memory
  }

  /** Runs each command on both sides; the replies must be equal. */
  const same = async (...commands: ReadonlyArray<Command>): Promise<void> => {
    for (const command of commands) await both(command)
  }

  /** Runs each command on both sides; the replies must hold the same elements. */
  const sameSet = async (...commands: ReadonlyArray<Command>): Promise<void> => {
    for (const command of commands) await both(command, "unordered")
  }

  /** The real keyspace under the prefix in the form of `KeySnapshot`. */
  const realSnapshot = async (): Promise<Array<MemoryStore.KeySnapshot>> => {
    const out: Array<MemoryStore.KeySnapshot> = []
    for (const key of await scanAll(prefix)) {
      const type = await redis.type(key)
      const pttl = await redis.pttl(key)
      if (type === "string") {
        out.push({ key, pttl, type, value: (await redis.get(key)) ?? "" })
      } else if (type === "list") {
        out.push({ key, pttl, type, value: await redis.lrange(key, 0, -1) })
      } else if (type === "set") {
        out.push({ key, pttl, type, value: (await redis.smembers(key)).sort() })
      } else if (type === "hash") {
        const flat = (await redis.call("HGETALL", key)) as Array<string>
        const fields: Array<readonly [string, string]> = []
        for (let i = 0; i < flat.length; i += 2) fields.push([flat[i], flat[i + 1]])
        fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        out.push({ key, pttl, type, value: fields })
      } else if (type === "zset") {
        const flat = await redis.zrange(key, 0, -1, "WITHSCORES")
        const entries: Array<readonly [string, number]> = []
        for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], parseScore(flat[i + 1])])
        out.push({ key, pttl, type, value: entries })
      }
    }
    return out
  }

  /** The two keyspaces are equal, remaining times to live within `tolerance` ms. */
  const sameKeyspace = async (tolerance = 1000): Promise<void> => {
    if (!frozen) time = Date.now()
    const real = await realSnapshot()
    const memory = store.snapshot()
    const withoutTtl = (keys: ReadonlyArray<MemoryStore.KeySnapshot>) =>
      keys.map((entry) => ({ ...entry, pttl: entry.pttl === -1 ? -1 : "expires" }))
    expect(withoutTtl(memory)).toEqual(withoutTtl(real))
    for (let i = 0; i < real.length; i++) {
      expect(Math.abs(memory[i].pttl - real[i].pttl), memory[i].key).toBeLessThanOrEqual(tolerance)
    }
  }

  return {
    store,
    k,
    both,
    same,
    sameSet,
    sameKeyspace,
    /** Stops the store clock following the wall clock; `advance` then moves it. */
    freeze: () => {
      frozen = true
    },
    advance: (millis: number) => {
      time += millis
    },
    now: () => time
  }
}

const parseScore = (text: string): number => (text === "inf" ? Infinity : text === "-inf" ? -Infinity : Number(text))

describe("MemoryStore against a real Redis", () => {
  it("keys: DEL, EXISTS, TYPE, RENAME, KEYS patterns, PING, ECHO, unknown commands and arity", async () => {
    const { k, same, sameSet, sameKeyspace } = harness()
    await same(
      ["SET", k("a"), "1"],
      ["RPUSH", k("b"), "x", "y"],
      ["SADD", k("c"), "m"],
      ["HSET", k("d"), "f", "v"],
      ["ZADD", k("e"), 1, "m"],
      ["TYPE", k("a")],
      ["TYPE", k("b")],
      ["TYPE", k("c")],
      ["TYPE", k("d")],
      ["TYPE", k("e")],
      ["TYPE", k("none")],
      ["EXISTS", k("a"), k("a"), k("none"), k("b")],
      ["EXISTS", k("none")],
      ["DEL", k("a"), k("a"), k("none")],
      ["DEL", k("none")],
      ["EXISTS", k("a")],
      ["RENAME", k("b"), k("b2")],
      ["RENAME", k("none"), k("x")],
      ["RENAME", k("b2"), k("b2")],
      ["RENAME", k("c"), k("d")],
      ["TYPE", k("d")],
      ["PING"],
      ["PING", "hello"],
      ["PING", "a", "b"],
      ["ECHO", "hi"],
      ["ECHO"],
      ["GET"],
      ["GET", k("a"), k("b")],
      ["NOSUCHCOMMAND", k("a")],
      ["get", k("d")],
      ["gEt", k("b2")]
    )
    await same(
      ["SET", k("abc"), "1"],
      ["SET", k("abd"), "1"],
      ["SET", k("a*c"), "1"],
      ["SET", k("a[c"), "1"],
      ["SET", k("xbc"), "1"],
      ["SET", k("a\\c"), "1"]
    )
    await sameSet(
      ["KEYS", `${k("")}*`],
      ["KEYS", `${k("")}ab?`],
      ["KEYS", `${k("")}a[bc]*`],
      ["KEYS", `${k("")}[^a]bc`],
      ["KEYS", `${k("")}[a-b]b[c-d]`],
      ["KEYS", `${k("")}[z-a]bc`],
      ["KEYS", `${k("")}a\\*c`],
      ["KEYS", `${k("")}a\\[c`],
      ["KEYS", `${k("")}a\\\\c`],
      ["KEYS", `${k("")}a[\\[]c`],
      ["KEYS", `${k("")}a*`],
      ["KEYS", `${k("")}*c`],
      ["KEYS", `${k("")}**c`],
      ["KEYS", `${k("")}a[bc`],
      ["KEYS", `${k("")}nothing*`],
      ["KEYS", `${k("")}abc`]
    )
    await sameKeyspace()
  })

  it("reports unknown commands and wrong arities with Redis's own text (direct calls, not through Lua)", async () => {
    const { k, store } = harness()
    const commands = [
      ["GET"],
      ["SET", k("x")],
      ["HSET", k("h"), "f"],
      ["MSET", k("a")],
      ["LPOP", k("a"), "1", "2"],
      ["ZADD", k("z"), "1"],
      ["PING", "a", "b"],
      ["FOO", k("a"), "b"],
      ["foo"]
    ]
    for (const command of commands) {
      const real = await redis.call(command[0], ...command.slice(1)).then(
        () => "no error",
        (error: Error) => error.message
      )
      expect(() => store.call(command[0], ...command.slice(1)), JSON.stringify(command)).toThrow(real)
      expect(real).toMatch(/^ERR (wrong number of arguments|unknown command)/)
    }
  })

  it("strings: SET options, SETNX/SETEX/PSETEX, GETDEL, MGET/MSET, counters, APPEND, STRLEN", async () => {
    const { k, same, sameKeyspace } = harness()
    const future = Date.now() + 3_600_000
    await same(
      ["GET", k("s")],
      ["SET", k("s"), "v"],
      ["GET", k("s")],
      ["SET", k("s"), "w", "NX"],
      ["SET", k("s"), "w", "XX"],
      ["SET", k("t"), "w", "XX"],
      ["SET", k("t"), "w", "NX"],
      ["SET", k("s"), "x", "GET"],
      ["SET", k("new"), "x", "GET"],
      ["SET", k("new2"), "x", "NX", "GET"],
      ["SET", k("new2"), "y", "NX", "GET"],
      ["SET", k("s"), "y", "NX", "XX"],
      ["SET", k("s"), "y", "EX", 10, "PX", 100],
      ["SET", k("s"), "y", "EX", 10, "KEEPTTL"],
      ["SET", k("s"), "y", "EX"],
      ["SET", k("s"), "y", "EX", 0],
      ["SET", k("s"), "y", "EX", -1],
      ["SET", k("s"), "y", "PX", "abc"],
      ["SET", k("s"), "y", "BOGUS"],
      ["SET", k("s"), "y", "ex", 100, "ex", 200],
      ["TTL", k("s")],
      ["SET", k("s"), "z", "KEEPTTL"],
      ["TTL", k("s")],
      ["SET", k("s"), "z"],
      ["TTL", k("s")],
      ["SET", k("s"), "z", "PXAT", future],
      ["SET", k("s"), "z", "EXAT", Math.floor(future / 1000)],
      ["SET", k("gone"), "z", "PXAT", Date.now() - 1000],
      ["EXISTS", k("gone")],
      ["RPUSH", k("l"), "a"],
      ["SET", k("l"), "x", "GET"],
      ["SET", k("l"), "x"],
      ["TYPE", k("l")],
      ["SETNX", k("s"), "q"],
      ["SETNX", k("n"), "q"],
      ["SETEX", k("ex"), 100, "v"],
      ["SETEX", k("ex"), 0, "v"],
      ["SETEX", k("ex"), "x", "v"],
      ["PSETEX", k("pex"), 100000, "v"],
      ["PSETEX", k("pex"), -5, "v"],
      ["GETDEL", k("n")],
      ["GETDEL", k("n")],
      ["RPUSH", k("list"), "a"],
      ["GETDEL", k("list")],
      ["MSET", k("m1"), "1", k("m2"), "2"],
      ["MSET", k("m1"), "1", k("m2")],
      ["MGET", k("m1"), k("none"), k("list"), k("m2")]
    )
    await same(
      ["INCR", k("c")],
      ["INCRBY", k("c"), 41],
      ["INCRBY", k("c"), "-50"],
      ["DECR", k("c")],
      ["DECRBY", k("c"), 10],
      ["DECRBY", k("c"), "-10"],
      ["INCRBY", k("c"), "1.5"],
      ["INCRBY", k("c"), "+1"],
      ["INCRBY", k("c"), " 1"],
      ["INCRBY", k("c"), "01"],
      ["INCRBY", k("c"), "-0"],
      ["SET", k("f"), "1.5"],
      ["INCR", k("f")],
      ["SET", k("f"), " 12"],
      ["INCR", k("f")],
      ["SET", k("f"), "012"],
      ["INCR", k("f")],
      ["INCR", k("list")],
      ["SET", k("big"), "9007199254740993"],
      ["INCR", k("big")],
      ["GET", k("big")],
      ["INCRBY", k("big"), 3],
      ["GET", k("big")],
      ["SET", k("max"), "9223372036854775807"],
      ["INCR", k("max")],
      ["DECRBY", k("max"), "-1"],
      ["SET", k("min"), "-9223372036854775808"],
      ["DECR", k("min")],
      ["DECRBY", k("x"), "-9223372036854775808"],
      ["INCRBY", k("x"), "9223372036854775808"],
      ["SETEX", k("kept"), 100, "5"],
      ["INCR", k("kept")],
      ["TTL", k("kept")]
    )
    await same(
      ["INCRBYFLOAT", k("fl"), "0.1"],
      ["INCRBYFLOAT", k("fl"), "0.2"],
      ["SET", k("fl"), "1000"],
      ["INCRBYFLOAT", k("fl"), "0.1"],
      ["SET", k("fl"), "10.50"],
      ["INCRBYFLOAT", k("fl"), "0.1"],
      ["INCRBYFLOAT", k("fl"), "-5.0e3"],
      ["INCRBYFLOAT", k("fl"), "2.0e2"],
      ["INCRBYFLOAT", k("fl"), "3"],
      ["INCRBYFLOAT", k("fl2"), "3.0e-5"],
      ["INCRBYFLOAT", k("fl2"), "-3.0e-5"],
      ["INCRBYFLOAT", k("fl3"), "1e400"],
      ["INCRBYFLOAT", k("fl3"), "-1e400"],
      ["INCRBYFLOAT", k("fl4"), "123456789.123456789"],
      ["INCRBYFLOAT", k("fl4"), ".5"],
      ["INCRBYFLOAT", k("fl4"), "5."],
      ["INCRBYFLOAT", k("fl5"), "-0.00000000000000000001"],
      ["INCRBYFLOAT", k("fl"), "inf"],
      ["INCRBYFLOAT", k("fl"), "abc"],
      ["INCRBYFLOAT", k("fl"), ""],
      ["INCRBYFLOAT", k("fl"), " 1"],
      ["INCRBYFLOAT", k("fl"), "1e"],
      ["INCRBYFLOAT", k("fl"), "nan"],
      ["INCRBYFLOAT", k("list"), "1"],
      ["SET", k("notnum"), "abc"],
      ["INCRBYFLOAT", k("notnum"), "1"],
      ["SET", k("int"), "7"],
      ["INCRBYFLOAT", k("int"), "0.25"],
      ["APPEND", k("ap"), "abc"],
      ["APPEND", k("ap"), "def"],
      ["APPEND", k("ap"), ""],
      ["APPEND", k("apempty"), ""],
      ["EXISTS", k("apempty")],
      ["STRLEN", k("ap")],
      ["STRLEN", k("none")],
      ["STRLEN", k("list")],
      ["APPEND", k("list"), "x"],
      ["SET", k("utf"), "héllo €𝄞"],
      ["STRLEN", k("utf")],
      ["APPEND", k("utf"), "é"]
    )
    await sameKeyspace()
  })

  it("lists: pushes, pops with counts, LRANGE/LINDEX/LSET/LREM/LTRIM/LPOS edge cases, LMOVE, RPOPLPUSH", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["LPUSH", k("l"), "a", "b", "c"],
      ["RPUSH", k("l"), "d", "e"],
      ["LRANGE", k("l"), 0, -1],
      ["LPUSHX", k("none"), "a"],
      ["RPUSHX", k("none"), "a"],
      ["EXISTS", k("none")],
      ["LPUSHX", k("l"), "z", "y"],
      ["RPUSHX", k("l"), "q"],
      ["LRANGE", k("l"), 0, -1],
      ["LRANGE", k("l"), -3, -1],
      ["LRANGE", k("l"), -100, 2],
      ["LRANGE", k("l"), 5, 2],
      ["LRANGE", k("l"), 3, 100],
      ["LRANGE", k("l"), 100, 200],
      ["LRANGE", k("l"), "x", 1],
      ["LRANGE", k("none"), 0, -1],
      ["LRANGE", k("none"), "x", 1],
      ["LINDEX", k("l"), 0],
      ["LINDEX", k("l"), -1],
      ["LINDEX", k("l"), 100],
      ["LINDEX", k("l"), -100],
      ["LINDEX", k("none"), "x"],
      ["LINDEX", k("l"), "x"],
      ["LSET", k("l"), 0, "first"],
      ["LSET", k("l"), -1, "last"],
      ["LSET", k("l"), 100, "x"],
      ["LSET", k("none"), 0, "x"],
      ["LSET", k("l"), "x", "x"],
      ["LLEN", k("l")],
      ["LLEN", k("none")],
      ["LPOP", k("l")],
      ["RPOP", k("l")],
      ["LPOP", k("l"), 2],
      ["RPOP", k("l"), 2],
      ["LPOP", k("l"), 0],
      ["LPOP", k("l"), -1],
      ["LPOP", k("l"), "x"],
      ["LPOP", k("none")],
      ["LPOP", k("none"), 2],
      ["LPOP", k("none"), 0],
      ["RPOP", k("l"), 100],
      ["EXISTS", k("l")],
      ["LPOP", k("l"), 1, 2]
    )
    await same(
      ["RPUSH", k("r"), "a", "b", "a", "c", "a", "b", "a"],
      ["LREM", k("r"), 2, "a"],
      ["LRANGE", k("r"), 0, -1],
      ["RPUSH", k("r"), "a", "a"],
      ["LREM", k("r"), -2, "a"],
      ["LRANGE", k("r"), 0, -1],
      ["LREM", k("r"), 0, "b"],
      ["LRANGE", k("r"), 0, -1],
      ["LREM", k("r"), 0, "nothing"],
      ["LREM", k("none"), 0, "a"],
      ["LREM", k("r"), "x", "a"],
      ["LREM", k("r"), 0, "a"],
      ["LREM", k("r"), 0, "c"],
      ["EXISTS", k("r")]
    )
    await same(
      ["RPUSH", k("t"), 1, 2, 3, 4, 5, 6, 7],
      ["LTRIM", k("t"), 1, -2],
      ["LRANGE", k("t"), 0, -1],
      ["LTRIM", k("t"), -100, 100],
      ["LRANGE", k("t"), 0, -1],
      ["LTRIM", k("t"), 1, 1],
      ["LRANGE", k("t"), 0, -1],
      ["LTRIM", k("t"), 5, 1],
      ["EXISTS", k("t")],
      ["LTRIM", k("none"), 0, 1],
      ["LTRIM", k("none"), "x", 1]
    )
    await same(
      ["RPUSH", k("p"), "a", "b", "c", "b", "a", "b"],
      ["LPOS", k("p"), "b"],
      ["LPOS", k("p"), "b", "RANK", 2],
      ["LPOS", k("p"), "b", "RANK", -1],
      ["LPOS", k("p"), "b", "RANK", -2, "COUNT", 0],
      ["LPOS", k("p"), "b", "COUNT", 0],
      ["LPOS", k("p"), "b", "COUNT", 2],
      ["LPOS", k("p"), "b", "COUNT", 0, "MAXLEN", 3],
      ["LPOS", k("p"), "z"],
      ["LPOS", k("p"), "z", "COUNT", 1],
      ["LPOS", k("none"), "z"],
      ["LPOS", k("none"), "z", "COUNT", 1],
      ["LPOS", k("p"), "b", "RANK", 0],
      ["LPOS", k("p"), "b", "COUNT", -1],
      ["LPOS", k("p"), "b", "MAXLEN", -1],
      ["LPOS", k("p"), "b", "BOGUS", 1],
      ["LPOS", k("p"), "b", "RANK"]
    )
    await same(
      ["RPUSH", k("src"), "1", "2", "3"],
      ["LMOVE", k("src"), k("dst"), "LEFT", "RIGHT"],
      ["LMOVE", k("src"), k("dst"), "right", "left"],
      ["LMOVE", k("src"), k("src"), "LEFT", "RIGHT"],
      ["LRANGE", k("src"), 0, -1],
      ["LMOVE", k("src"), k("dst"), "LEFT", "LEFT"],
      ["EXISTS", k("src")],
      ["LMOVE", k("src"), k("dst"), "LEFT", "LEFT"],
      ["LMOVE", k("dst"), k("dst"), "UP", "LEFT"],
      ["LRANGE", k("dst"), 0, -1],
      ["SET", k("str"), "x"],
      ["LMOVE", k("dst"), k("str"), "LEFT", "LEFT"],
      ["LMOVE", k("str"), k("dst"), "LEFT", "LEFT"],
      ["LMOVE", k("none"), k("str"), "LEFT", "LEFT"],
      ["RPOPLPUSH", k("dst"), k("other")],
      ["RPOPLPUSH", k("dst"), k("dst")],
      ["RPOPLPUSH", k("dst"), k("str")],
      ["RPOPLPUSH", k("none"), k("dst")],
      ["LRANGE", k("dst"), 0, -1],
      ["LRANGE", k("other"), 0, -1],
      ["LPUSH", k("str"), "x"],
      ["LLEN", k("str")]
    )
    await sameKeyspace()
  })

  it("lists: a long queue through both ends keeps its order (deque compaction and growth)", async () => {
    const { k, same, sameKeyspace, store } = harness()
    for (let round = 0; round < 5; round++) {
      const values = Array.from({ length: 150 }, (_, i) => `${round}-${i}`)
      await same(["RPUSH", k("q"), ...values], ["LPUSH", k("q"), ...values.slice(0, 40)], ["LPOP", k("q"), 100])
      await same(["RPOP", k("q"), 3], ["LINDEX", k("q"), 5], ["LRANGE", k("q"), 10, 20], ["LLEN", k("q")])
    }
    for (let i = 0; i < 200; i++) store.call("RPUSH", k("mem"), i)
    for (let i = 0; i < 150; i++) expect(store.call("LPOP", k("mem"))).toBe(String(i))
    for (let i = 0; i < 100; i++) store.call("LPUSH", k("mem"), `l${i}`)
    expect(store.call("LLEN", k("mem"))).toBe(150)
    expect(store.call("LINDEX", k("mem"), 0)).toBe("l99")
    expect(store.call("LINDEX", k("mem"), 100)).toBe("150")
    expect(store.call("LINDEX", k("mem"), -1)).toBe("199")
    store.call("DEL", k("mem"))
    await sameKeyspace()
  })

  it("sets: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP", async () => {
    const { k, same, sameSet, sameKeyspace, store } = harness()
    await same(
      ["SADD", k("s"), "a", "b", "a", "c"],
      ["SADD", k("s"), "a"],
      ["SCARD", k("s")],
      ["SCARD", k("none")],
      ["SISMEMBER", k("s"), "a"],
      ["SISMEMBER", k("s"), "z"],
      ["SISMEMBER", k("none"), "z"],
      ["SMISMEMBER", k("s"), "a", "z", "c"],
      ["SMISMEMBER", k("none"), "a"],
      ["SREM", k("s"), "a", "z"],
      ["SREM", k("none"), "a"],
      ["SMEMBERS", k("none")],
      ["SADD", k("i"), 3, 1, 2],
      ["SET", k("str"), "x"],
      ["SADD", k("str"), "a"],
      ["SMEMBERS", k("str")],
      ["SCARD", k("str")],
      ["SISMEMBER", k("str"), "a"],
      ["SREM", k("s"), "b", "c"],
      ["EXISTS", k("s")],
      ["SPOP", k("none")],
      ["SPOP", k("none"), 2],
      ["SPOP", k("i"), 0],
      ["SPOP", k("i"), -1],
      ["SPOP", k("i"), 1, 2],
      ["SPOP", k("str")]
    )
    await sameSet(["SMEMBERS", k("i")], ["SPOP", k("i"), 10])
    await same(["EXISTS", k("i")], ["SADD", k("one"), "only"], ["SPOP", k("one")], ["EXISTS", k("one")])
    store.call("SADD", k("mem"), "a", "b", "c", "d")
    const popped = store.call("SPOP", k("mem"), 2) as Array<string>
    expect(popped).toHaveLength(2)
    expect(store.call("SCARD", k("mem"))).toBe(2)
    expect(store.call("SMISMEMBER", k("mem"), ...popped)).toEqual([0, 0])
    const last = store.call("SPOP", k("mem"))
    expect(["a", "b", "c", "d"]).toContain(last)
    store.call("DEL", k("mem"))
    await sameKeyspace()
  })

  it("hashes: HSET pairs, HSETNX, HGET/HMGET/HGETALL in insertion order, HDEL, counters", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["HSET", k("h"), "b", "2", "a", "1", "c", "3"],
      ["HSET", k("h"), "a", "10", "d", "4"],
      ["HGETALL", k("h")],
      ["HKEYS", k("h")],
      ["HVALS", k("h")],
      ["HLEN", k("h")],
      ["HGET", k("h"), "a"],
      ["HGET", k("h"), "z"],
      ["HGET", k("none"), "z"],
      ["HMGET", k("h"), "a", "z", "b"],
      ["HMGET", k("none"), "a"],
      ["HEXISTS", k("h"), "a"],
      ["HEXISTS", k("h"), "z"],
      ["HSETNX", k("h"), "a", "x"],
      ["HSETNX", k("h"), "e", "5"],
      ["HSETNX", k("new"), "f", "v"],
      ["HDEL", k("h"), "a", "z", "a"],
      ["HDEL", k("none"), "a"],
      ["HGETALL", k("h")],
      ["HGETALL", k("none")],
      ["HKEYS", k("none")],
      ["HSET", k("h"), "odd"],
      ["HSET", k("h"), "a", "1", "b"],
      ["SET", k("str"), "x"],
      ["HSET", k("str"), "a", "1"],
      ["HGET", k("str"), "a"],
      ["HMGET", k("str"), "a"],
      ["HGETALL", k("str")],
      ["HLEN", k("str")],
      ["HDEL", k("new"), "f"],
      ["EXISTS", k("new")]
    )
    await same(
      ["HINCRBY", k("n"), "c", 5],
      ["HINCRBY", k("n"), "c", -7],
      ["HINCRBY", k("n"), "c", "x"],
      ["HINCRBY", k("h"), "b", 1],
      ["HSET", k("n"), "s", "abc", "max", "9223372036854775807"],
      ["HINCRBY", k("n"), "s", 1],
      ["HINCRBY", k("n"), "max", 1],
      ["HINCRBY", k("str"), "f", 1],
      ["HINCRBYFLOAT", k("n"), "f", "0.1"],
      ["HINCRBYFLOAT", k("n"), "f", "0.2"],
      ["HINCRBYFLOAT", k("n"), "c", "1.5"],
      ["HINCRBYFLOAT", k("n"), "f", "inf"],
      ["HINCRBYFLOAT", k("n"), "f", "x"],
      ["HINCRBYFLOAT", k("n"), "s", "1"],
      ["HINCRBYFLOAT", k("str"), "f", "1"],
      ["HGETALL", k("n")],
      ["HINCRBYFLOAT", k("long"), "big", "1e300"],
      ["HINCRBYFLOAT", k("long"), "big", "1e300"],
      ["HGET", k("long"), "big"]
    )
    await sameKeyspace()
  })

  it("sorted sets: ZADD options, scores formatted as Redis, ZRANGE forms, BYSCORE bounds, LIMIT, WITHSCORES", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["ZADD", k("z"), 1, "a", 2, "b", 3, "c"],
      ["ZADD", k("z"), 1700000000, "ts", "1.1", "f", "-2.5", "neg", "1e20", "huge", "0.00001", "tiny"],
      ["ZADD", k("z"), "-inf", "minf", "+inf", "pinf"],
      ["ZSCORE", k("z"), "ts"],
      ["ZSCORE", k("z"), "f"],
      ["ZSCORE", k("z"), "huge"],
      ["ZSCORE", k("z"), "tiny"],
      ["ZSCORE", k("z"), "minf"],
      ["ZSCORE", k("z"), "pinf"],
      ["ZSCORE", k("z"), "none"],
      ["ZSCORE", k("none"), "a"],
      ["ZRANGE", k("z"), 0, -1, "WITHSCORES"],
      ["ZADD", k("z"), "NX", 10, "a", 4, "d"],
      ["ZADD", k("z"), "XX", 10, "a", 5, "e"],
      ["ZADD", k("z"), "XX", "CH", 11, "a", 5, "e"],
      ["ZADD", k("z"), "CH", 11, "a", 6, "e"],
      ["ZADD", k("z"), "GT", "CH", 1, "a", 12, "b"],
      ["ZADD", k("z"), "LT", "CH", 1, "a", 12, "b"],
      ["ZADD", k("z"), "XX", "GT", 100, "zz", 20, "b"],
      ["ZADD", k("z"), "NX", "XX", 1, "a"],
      ["ZADD", k("z"), "NX", "GT", 1, "a"],
      ["ZADD", k("z"), "GT", "LT", 1, "a"],
      ["ZADD", k("z"), 1, "a", 2],
      ["ZADD", k("z"), "x", "a"],
      ["ZADD", k("z"), "nan", "a"],
      ["ZADD", k("z"), "INCR", 1, "a", 2, "b"],
      ["ZADD", k("z"), "INCR", 5, "a"],
      ["ZADD", k("z"), "INCR", "NX", 5, "a"],
      ["ZADD", k("z"), "INCR", "GT", -5, "a"],
      ["ZADD", k("xx"), "XX", 1, "a"],
      ["EXISTS", k("xx")],
      ["ZINCRBY", k("z"), "0.1", "c"],
      ["ZINCRBY", k("z"), "0.2", "c"],
      ["ZINCRBY", k("z"), 1, "new"],
      ["ZINCRBY", k("z"), "x", "new"],
      ["ZINCRBY", k("z"), "-inf", "pinf"],
      ["ZCARD", k("z")],
      ["ZCARD", k("none")],
      ["ZRANK", k("z"), "a"],
      ["ZRANK", k("z"), "minf"],
      ["ZRANK", k("z"), "none"],
      ["ZRANK", k("none"), "a"],
      ["ZREM", k("z"), "minf", "none", "pinf"],
      ["ZREM", k("none"), "a"]
    )
    await same(
      ["ZADD", k("r"), 1, "a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f"],
      ["ZRANGE", k("r"), 0, -1],
      ["ZRANGE", k("r"), -2, -1, "WITHSCORES"],
      ["ZRANGE", k("r"), 1, 3, "REV"],
      ["ZRANGE", k("r"), 0, 0, "REV", "WITHSCORES"],
      ["ZRANGE", k("r"), 4, 1],
      ["ZRANGE", k("r"), -100, 100],
      ["ZRANGE", k("r"), 10, 20],
      ["ZRANGE", k("r"), "x", 1],
      ["ZRANGE", k("none"), 0, -1],
      ["ZRANGE", k("r"), 0, -1, "LIMIT", 0, 1],
      ["ZRANGE", k("r"), 0, -1, "LIMIT", 0, -1],
      ["ZRANGE", k("r"), 0, -1, "BOGUS"],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE"],
      ["ZRANGE", k("r"), "(1", "3", "BYSCORE", "WITHSCORES"],
      ["ZRANGE", k("r"), "1", "(3", "BYSCORE"],
      ["ZRANGE", k("r"), "(1", "(1", "BYSCORE"],
      ["ZRANGE", k("r"), "3", "1", "BYSCORE"],
      ["ZRANGE", k("r"), "+inf", "-inf", "BYSCORE", "REV"],
      ["ZRANGE", k("r"), "(4", "1", "BYSCORE", "REV", "WITHSCORES"],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2, "REV"],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 5, -1],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 6, 1],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", -1, 2],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 0, 0],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", 0],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "LIMIT", "x", 1],
      ["ZRANGE", k("r"), "a", "+inf", "BYSCORE"],
      ["ZRANGE", k("r"), "(", "+inf", "BYSCORE"],
      ["ZRANGE", k("r"), "", "2", "BYSCORE"],
      ["ZRANGE", k("r"), " 2", "1e1", "BYSCORE"],
      ["ZRANGE", k("r"), "-inf", "+inf", "BYSCORE", "BYSCORE"],
      ["ZRANGEBYSCORE", k("r"), "-inf", "+inf"],
      ["ZRANGEBYSCORE", k("r"), "(1", "+inf", "WITHSCORES", "LIMIT", 0, 3],
      ["ZRANGEBYSCORE", k("r"), "2", "4", "LIMIT", 1, 1, "WITHSCORES"],
      ["ZRANGEBYSCORE", k("r"), "5", "1"],
      ["ZRANGEBYSCORE", k("r"), "x", "1"],
      ["ZRANGEBYSCORE", k("r"), "1", "2", "REV"],
      ["ZRANGEBYSCORE", k("none"), "1", "2"],
      ["ZCOUNT", k("r"), "-inf", "+inf"],
      ["ZCOUNT", k("r"), "(1", "3"],
      ["ZCOUNT", k("r"), "3", "1"],
      ["ZCOUNT", k("r"), "x", "1"],
      ["ZCOUNT", k("none"), "1", "2"],
      ["ZREMRANGEBYSCORE", k("r"), "(4", "+inf"],
      ["ZREMRANGEBYSCORE", k("r"), "10", "20"],
      ["ZREMRANGEBYSCORE", k("r"), "x", "20"],
      ["ZREMRANGEBYSCORE", k("none"), "1", "2"],
      ["ZRANGE", k("r"), 0, -1, "WITHSCORES"],
      ["ZPOPMIN", k("r")],
      ["ZPOPMIN", k("r"), 2],
      ["ZPOPMIN", k("r"), 0],
      ["ZPOPMIN", k("r"), -1],
      ["ZPOPMIN", k("r"), 1, 2],
      ["ZPOPMIN", k("none")],
      ["ZPOPMIN", k("none"), 2],
      ["ZPOPMIN", k("r"), 100],
      ["EXISTS", k("r")],
      ["ZREMRANGEBYSCORE", k("z"), "-inf", "+inf"],
      ["EXISTS", k("z")]
    )
    await same(
      ["SET", k("str"), "x"],
      ["ZADD", k("str"), 1, "a"],
      ["ZADD", k("str"), "x", "a"],
      ["ZSCORE", k("str"), "a"],
      ["ZRANGE", k("str"), 0, -1],
      ["ZRANGE", k("str"), "x", -1],
      ["ZRANGEBYSCORE", k("str"), 0, 1],
      ["ZCOUNT", k("str"), 0, 1],
      ["ZPOPMIN", k("str")],
      ["ZPOPMIN", k("str"), 0],
      ["ZRANK", k("str"), "a"],
      ["ZCARD", k("str")],
      ["ZREM", k("str"), "a"]
    )
    await sameKeyspace()
  })

  it("sorted sets: a large set keeps Redis's order through inserts, updates and removals (chunked storage)", async () => {
    const { k, same, sameKeyspace } = harness()
    const random = prng(7)
    for (let batch = 0; batch < 6; batch++) {
      const args: Array<string | number> = []
      for (let i = 0; i < 400; i++) args.push(Math.floor(random() * 300), `m${Math.floor(random() * 1500)}`)
      await same(["ZADD", k("big"), ...args])
      await same(
        ["ZREM", k("big"), ...Array.from({ length: 50 }, () => `m${Math.floor(random() * 1500)}`)],
        ["ZCARD", k("big")],
        ["ZRANK", k("big"), `m${Math.floor(random() * 1500)}`],
        ["ZRANGE", k("big"), 500, 520, "WITHSCORES"],
        ["ZRANGE", k("big"), 100, 120, "REV"],
        ["ZRANGEBYSCORE", k("big"), "(100", "150", "LIMIT", 30, 10],
        ["ZCOUNT", k("big"), "50", "(250"],
        ["ZPOPMIN", k("big"), 3]
      )
    }
    await same(["ZREMRANGEBYSCORE", k("big"), "100", "200"], ["ZRANGE", k("big"), 0, -1, "WITHSCORES"])
    await sameKeyspace()
  })

  it("ZPOPMAX: highest first (ties by member, descending), counts, wrong types", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["ZADD", k("z"), 1, "a", 2, "b", 3, "c", 3, "d", "-inf", "m", "+inf", "p"],
      ["ZPOPMAX", k("z")],
      ["ZPOPMAX", k("z"), 2],
      ["ZPOPMAX", k("z"), 0],
      ["ZPOPMAX", k("z"), -1],
      ["ZPOPMAX", k("z"), "x"],
      ["ZPOPMAX", k("z"), "1.5"],
      ["ZPOPMAX", k("z"), 1, 2],
      ["ZPOPMAX", k("z"), "9223372036854775807"],
      ["EXISTS", k("z")],
      ["ZPOPMAX", k("none")],
      ["ZPOPMAX", k("none"), 2],
      ["ZPOPMAX", k("none"), 0],
      ["ZPOPMAX"],
      ["SET", k("str"), "x"],
      ["ZPOPMAX", k("str")],
      ["ZPOPMAX", k("str"), 0],
      ["ZADD", k("y"), 1, "a", 2, "b"],
      ["ZPOPMAX", k("y"), 1],
      ["ZPOPMIN", k("y"), 1],
      ["EXISTS", k("y")]
    )
    await sameKeyspace()
  })

  it("BLPOP, BRPOP: the first non-empty list in argument order, nil when all are empty, never blocking", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["BLPOP", k("none"), 0],
      ["BRPOP", k("none"), k("none2"), "0.5"],
      ["RPUSH", k("l1"), "a", "b", "c", "d"],
      ["RPUSH", k("l2"), "x"],
      ["BLPOP", k("none"), k("l2"), k("l1"), 0],
      ["EXISTS", k("l2")],
      ["BLPOP", k("l2"), k("l1"), 0],
      ["BRPOP", k("l1"), 0],
      ["BLPOP", k("l1"), k("l1"), 1],
      ["BRPOP", k("none"), k("l1"), "0.01"],
      ["EXISTS", k("l1")],
      ["BLPOP", k("l1"), k("l2"), 0],
      ["SET", k("str"), "v"],
      ["ZADD", k("z"), 1, "m"],
      ["RPUSH", k("l1"), "e"],
      ["BLPOP", k("none"), k("str"), k("l1"), 0],
      ["BLPOP", k("z"), 0],
      ["BRPOP", k("l1"), k("str"), 0],
      ["BRPOP", k("str"), 0],
      ["BLPOP", k("l1")],
      ["BRPOP"],
      ["LLEN", k("l1")]
    )
    await sameKeyspace()
  })

  it("blocking commands validate the timeout first, in seconds as a long double, as Redis does", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(["RPUSH", k("l"), ...Array.from({ length: 40 }, (_, i) => `v${i}`)], ["ZADD", k("z"), 1, "a"])
    const timeouts = [
      "0", "0.0", "1", "1.5", ".5", "+1", "1e3", "1e-400", "-0", "-0.0001", "-0.0009999", "-0.001",
      "-0.00099999999999999999", "-0.00100000000000000001", "-1", "-1.5", "x", "", " 1", "1 ", "1e", "inf", "+inf",
      "-inf", "infinity", "nan", "1e400", "1e5000", "1e30", "5e15", "9.3e15", "9223372036854775",
      "9223372036854775.807", "9223372036854775.8072", "9223372036854775.808", "9223372036854775807",
      "-9223372036854775.808", "-9223372036854775.809"
    ]
    // not among them: hex floats ("0x10"), which `strtold` reads and the store's parsers (scores, INCRBYFLOAT,
    // timeouts alike) refuse as not a float
    for (const timeout of timeouts) {
      await same(
        ["BLPOP", k("l"), timeout],
        ["BRPOP", k("none"), timeout],
        ["BZPOPMIN", k("none"), timeout],
        ["BLMOVE", k("none"), k("l"), "LEFT", "RIGHT", timeout]
      )
    }
    await same(["BLPOP", k("str"), "x"], ["BLMOVE", k("l"), k("l"), "UP", "LEFT", "x"])
    await sameKeyspace()
    // what the waiting layer gets: ms, rounded up (a sub-ms timeout still ends), 0 for no limit
    expect(Blocking.timeoutMillis("0")).toBe(0)
    expect(Blocking.timeoutMillis("1.5")).toBe(1500)
    expect(Blocking.timeoutMillis("0.0019")).toBe(2)
    expect(Blocking.timeoutMillis("0.0009")).toBe(1)
    expect(Blocking.timeoutMillis("1e-400")).toBe(1)
    expect(Blocking.timeoutMillis("-0.0009")).toBe(0)
    expect(Blocking.timeoutMillis("9223372036854775")).toBe(9223372036854775000)
    expect(() => Blocking.timeoutMillis("-0.001000000000000000001")).toThrow("ERR timeout is negative")
    expect(() => Blocking.timeoutMillis("inf")).toThrow("ERR timeout is negative")
    expect(() => Blocking.timeoutMillis("nan")).toThrow("ERR timeout is not a float or out of range")
  })

  it("BLMOVE: LMOVE once the sides and the timeout are valid; nil for a missing source", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["RPUSH", k("src"), "1", "2", "3", "4"],
      ["BLMOVE", k("src"), k("dst"), "LEFT", "RIGHT", 0],
      ["BLMOVE", k("src"), k("dst"), "right", "left", "0.1"],
      ["BLMOVE", k("src"), k("src"), "LEFT", "RIGHT", 0],
      ["LRANGE", k("src"), 0, -1],
      ["BLMOVE", k("src"), k("dst"), "LEFT", "LEFT", 0],
      ["BLMOVE", k("src"), k("dst"), "LEFT", "LEFT", 0],
      ["EXISTS", k("src")],
      ["BLMOVE", k("src"), k("dst"), "LEFT", "LEFT", 0],
      ["SET", k("str"), "x"],
      ["BLMOVE", k("none"), k("str"), "LEFT", "LEFT", 0],
      ["BLMOVE", k("dst"), k("str"), "LEFT", "LEFT", 0],
      ["BLMOVE", k("str"), k("dst"), "LEFT", "LEFT", 0],
      ["BLMOVE", k("dst"), k("dst"), "UP", "LEFT", 0],
      ["BLMOVE", k("dst"), k("dst"), "LEFT", "DOWN", "x"],
      ["BLMOVE", k("dst"), k("dst"), "LEFT", "LEFT", "x"],
      ["BLMOVE", k("dst"), k("dst"), "LEFT", "LEFT", -1],
      ["BLMOVE", k("dst"), k("dst"), "LEFT", "LEFT"],
      ["BLMOVE", k("dst"), k("dst"), "LEFT", "LEFT", 0, 0],
      ["BLMOVE", k("dst"), k("other"), "RIGHT", "RIGHT", 0],
      ["LRANGE", k("dst"), 0, -1],
      ["LRANGE", k("other"), 0, -1]
    )
    await sameKeyspace()
  })

  it("BZPOPMIN, BZPOPMAX: [key, member, score] from the first non-empty sorted set, nil when all are empty", async () => {
    const { k, same, sameKeyspace } = harness()
    await same(
      ["BZPOPMIN", k("none"), 0],
      ["BZPOPMAX", k("none"), k("none2"), "0.5"],
      ["ZADD", k("z1"), 1, "a", 2, "b", "2.5", "c", "2.5", "d"],
      ["ZADD", k("z2"), "-inf", "m", "+inf", "n", "1e20", "huge", "0.1", "tenth"],
      ["BZPOPMIN", k("none"), k("z1"), k("z2"), 0],
      ["BZPOPMAX", k("z1"), 0],
      ["BZPOPMAX", k("z1"), 0],
      ["BZPOPMIN", k("z2"), k("z1"), 0],
      ["BZPOPMAX", k("z2"), 0],
      ["BZPOPMAX", k("z2"), 0],
      ["BZPOPMIN", k("z2"), "0.01"],
      ["EXISTS", k("z2")],
      ["BZPOPMIN", k("z2"), k("z1"), k("z1"), 1],
      ["EXISTS", k("z1")],
      ["BZPOPMIN", k("z1"), k("z2"), 0],
      ["SET", k("str"), "x"],
      ["RPUSH", k("list"), "x"],
      ["ZADD", k("z1"), 5, "e"],
      ["BZPOPMIN", k("str"), k("z1"), 0],
      ["BZPOPMAX", k("none"), k("list"), k("z1"), 0],
      ["BZPOPMAX", k("z1"), k("list"), 0],
      ["BZPOPMIN", k("z1"), "x"],
      ["BZPOPMAX", k("z1"), "-1"],
      ["BZPOPMIN", k("z1")],
      ["BZPOPMAX"],
      ["ZADD", k("z1"), 7, "f"],
      ["BZPOPMAX", k("z1"), "0.0"],
      ["EXISTS", k("z1")]
    )
    await sameKeyspace()
  })

  it("expiry by the store clock: PX waited out, TTL rounding, SET clears and KEEPTTL keeps, writes keep the TTL", async () => {
    const { k, same, both, sameKeyspace, store, freeze, advance, now } = harness()
    freeze()
    await both(["SET", k("p"), "v", "PX", 80], { within: 80 })
    expect(store.call("PTTL", k("p"))).toBe(80)
    const realPttl = await redis.pttl(k("p"))
    expect(realPttl).toBeGreaterThan(0)
    expect(realPttl).toBeLessThanOrEqual(80)
    expect(store.call("TTL", k("p"))).toBe(0)
    advance(79)
    expect(store.call("PTTL", k("p"))).toBe(1)
    expect(store.call("GET", k("p"))).toBe("v")
    advance(1)
    expect(store.call("GET", k("p"))).toBe(null)
    expect(store.call("EXISTS", k("p"))).toBe(0)
    expect(store.call("PTTL", k("p"))).toBe(-2)
    expect(store.call("TTL", k("p"))).toBe(-2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await redis.exists(k("p"))).toBe(0)

    store.call("PSETEX", k("r"), 1500, "v")
    expect(store.call("TTL", k("r"))).toBe(2)
    advance(1)
    expect(store.call("TTL", k("r"))).toBe(1)
    advance(1000)
    expect(store.call("TTL", k("r"))).toBe(0)
    store.call("DEL", k("r"))

    const at = now() + 3_600_000
    const atSeconds = Math.floor(at / 1000) * 1000
    await same(
      ["SET", k("s"), "1"],
      ["PEXPIREAT", k("s"), at],
      ["PEXPIREAT", k("s"), at + 1000, "NX"],
      ["PEXPIREAT", k("s"), at + 1000, "XX"],
      ["PEXPIREAT", k("s"), at, "GT"],
      ["PEXPIREAT", k("s"), at + 2000, "GT"],
      ["PEXPIREAT", k("s"), at + 5000, "LT"],
      ["PEXPIREAT", k("s"), at + 500, "LT"],
      ["PEXPIREAT", k("none"), at],
      ["PEXPIREAT", k("s"), at, "NX", "XX"],
      ["PEXPIREAT", k("s"), at, "GT", "LT"],
      ["PEXPIREAT", k("s"), at, "BOGUS"],
      ["PEXPIREAT", k("s"), "x"],
      ["SET", k("n"), "1"],
      ["PEXPIREAT", k("n"), at, "XX"],
      ["PEXPIREAT", k("n"), at, "GT"],
      ["PEXPIREAT", k("n"), at, "LT"],
      ["PERSIST", k("n")],
      ["EXPIREAT", k("n"), atSeconds / 1000],
      ["PERSIST", k("n")],
      ["PERSIST", k("n")],
      ["PERSIST", k("none")],
      ["INCR", k("s")],
      ["APPEND", k("s"), "0"],
      ["SET", k("s"), "5", "KEEPTTL"]
    )
    expect(store.call("PTTL", k("s"))).toBe(at + 500 - now())
    expect(await redis.call("PEXPIRETIME", k("s"))).toBe(at + 500)
    await same(
      ["RPUSH", k("l"), "a", "b"],
      ["PEXPIREAT", k("l"), at],
      ["RPUSH", k("l"), "c"],
      ["LPOP", k("l")],
      ["HSET", k("h"), "f", "1"],
      ["PEXPIREAT", k("h"), at],
      ["HINCRBY", k("h"), "f", 1],
      ["ZADD", k("z"), 1, "a"],
      ["PEXPIREAT", k("z"), at],
      ["ZADD", k("z"), 2, "a"],
      ["RENAME", k("z"), k("z2")],
      ["SET", k("s"), "6"],
      ["TTL", k("s")],
      ["SETEX", k("e"), 100, "v"],
      ["MSET", k("e"), "w"],
      ["TTL", k("e")],
      ["SET", k("gone"), "v"],
      ["PEXPIREAT", k("gone"), Date.now() - 60_000],
      ["EXISTS", k("gone")],
      ["SET", k("gone"), "v"],
      ["EXPIRE", k("gone"), 0],
      ["EXISTS", k("gone")],
      ["SET", k("gone"), "v"],
      ["PEXPIRE", k("gone"), -10],
      ["EXISTS", k("gone")],
      ["EXPIRE", k("s"), 9223372036854775],
      ["EXPIRE", k("s"), "9223372036854775807"],
      ["PEXPIRE", k("s"), "9223372036854775807"]
    )
    await sameKeyspace(60_000)
  })

  it("expired keys are gone for every command and every listing", () => {
    let time = 1_000_000
    const store = MemoryStore.make({ now: () => time })
    store.call("SET", "a", "1", "PX", 10)
    store.call("RPUSH", "b", "x")
    store.call("PEXPIRE", "b", 10)
    store.call("SET", "c", "keep")
    expect(store.call("DBSIZE")).toBe(3)
    time += 10
    expect(store.call("DBSIZE")).toBe(1)
    expect(store.call("KEYS", "*")).toEqual(["c"])
    expect(store.call("SCAN", 0)).toEqual(["0", ["c"]])
    expect(store.snapshot()).toEqual([{ key: "c", type: "string", value: "keep", pttl: -1 }])
    store.call("SET", "d", "1", "PX", 5)
    time += 5
    expect(store.call("LPUSH", "d", "x")).toBe(1)
    expect(store.call("TYPE", "d")).toBe("list")
    expect(store.call("PTTL", "d")).toBe(-1)
    expect(() => store.call("RENAME", "a", "z")).toThrow("ERR no such key")
  })

  it("SCAN: cursors, MATCH, COUNT, TYPE, and every key that lives through the scan is returned", async () => {
    const { k, store } = harness()
    const names = Array.from({ length: 40 }, (_, i) => `key${i}`)
    for (const name of names) {
      store.call("SET", k(name), "v")
      await redis.set(k(name), "v")
    }
    store.call("RPUSH", k("list"), "x")
    await redis.rpush(k("list"), "x")
    const scanOf = async (call: (cursor: string) => Promise<[string, Array<string>]>) => {
      const found: Array<string> = []
      let cursor = "0"
      do {
        const [next, keys] = await call(cursor)
        found.push(...keys)
        cursor = next
      } while (cursor !== "0")
      return [...new Set(found)].sort()
    }
    const memoryScan = (args: ReadonlyArray<string | number>) => (cursor: string) =>
      Promise.resolve(store.call("SCAN", cursor, ...args) as [string, Array<string>])
    const realScan = (args: ReadonlyArray<string | number>) => (cursor: string) =>
      redis.eval(SCRIPT, 0, "SCAN", cursor, ...args) as Promise<[string, Array<string>]>
    for (
      const args of [
        ["MATCH", `${k("")}*`, "COUNT", 3],
        ["MATCH", `${k("")}key1?`, "COUNT", 7],
        ["MATCH", `${k("")}*`, "TYPE", "list"],
        ["MATCH", `${k("")}*`, "TYPE", "STRING", "COUNT", 1000]
      ]
    ) {
      expect(await scanOf(memoryScan(args)), JSON.stringify(args)).toEqual(await scanOf(realScan(args)))
    }
    const [first, keys] = store.call("SCAN", 0, "COUNT", 5) as [string, Array<string>]
    expect(keys).toHaveLength(5)
    expect(first).not.toBe("0")
    // keys deleted behind the cursor do not make the scan skip live keys
    store.call("DEL", ...keys)
    const rest = await scanOf((cursor) => memoryScan(["COUNT", 5])(cursor === "0" ? first : cursor))
    expect(rest).toEqual([...names.map(k), k("list")].filter((key) => !keys.includes(key)).sort())
    expect(() => store.call("SCAN", "x")).toThrow("ERR invalid cursor")
    expect(() => store.call("SCAN", 0, "COUNT", 0)).toThrow("ERR syntax error")
    expect(() => store.call("SCAN", 0, "COUNT", "x")).toThrow("ERR value is not an integer or out of range")
    expect(() => store.call("SCAN", 0, "MATCH")).toThrow("ERR syntax error")
    await expect(redis.eval(SCRIPT, 0, "SCAN", "x")).rejects.toThrow("ERR invalid cursor")
    await expect(redis.eval(SCRIPT, 0, "SCAN", 0, "COUNT", 0)).rejects.toThrow("ERR syntax error")
  })

  it("FLUSHALL, FLUSHDB and DBSIZE (memory store only: never on the shared server)", () => {
    const store = MemoryStore.make({ now: () => 0 })
    store.call("SET", "a", "1")
    store.call("RPUSH", "b", "1")
    expect(store.call("DBSIZE")).toBe(2)
    expect(store.call("FLUSHALL")).toBe("OK")
    expect(store.call("DBSIZE")).toBe(0)
    expect(store.snapshot()).toEqual([])
    store.call("SET", "a", "1")
    expect(store.call("FLUSHDB", "ASYNC")).toBe("OK")
    expect(store.call("FLUSHALL", "sync")).toBe("OK")
    expect(() => store.call("FLUSHALL", "NOW")).toThrow("ERR syntax error")
    expect(() => store.call("DBSIZE", "x")).toThrow("ERR wrong number of arguments for 'dbsize' command")
  })

  it("replies have the shapes a Lua script sees", () => {
    const store = MemoryStore.make({ now: () => 0 })
    expect(store.call("SET", "s", 12)).toBe("OK")
    expect(store.call("GET", "s")).toBe("12")
    expect(store.call("INCRBY", "s", 3)).toBe(15)
    expect(store.call("HSET", "h", "a", 1, "b", 2)).toBe(2)
    expect(store.call("HGETALL", "h")).toEqual(["a", "1", "b", "2"])
    expect(store.call("ZADD", "z", 1700000000, "m", 0.5, "n")).toBe(2)
    expect(store.call("ZSCORE", "z", "m")).toBe("1700000000")
    expect(store.call("ZRANGE", "z", 0, -1, "WITHSCORES")).toEqual(["n", "0.5", "m", "1700000000"])
    expect(store.call("GET", "missing")).toBe(null)
    expect(store.call("TYPE", "z")).toBe("zset")
    expect(() => store.call("LPUSH", "s", "x")).toThrow(MemoryStore.ReplyError)
    expect(() => store.call("LPUSH", "s", "x")).toThrow(/^WRONGTYPE Operation against a key holding the wrong kind of value$/)
  })

  it("a randomized sequence over every family agrees reply by reply, and so do the keyspaces", async () => {
    const { k, both, sameKeyspace } = harness()
    // MEMTEST_SEED / MEMTEST_COMMANDS replay or widen a run
    const random = prng(Number(process.env["MEMTEST_SEED"] ?? 20240611))
    const generate = commandGenerator(random, k, Date.now())
    const count = Number(process.env["MEMTEST_COMMANDS"] ?? 4000)
    for (let i = 0; i < count; i++) {
      const [command, compare] = generate()
      await both(command, compare)
      if (i % 500 === 499) await sameKeyspace()
    }
    await sameKeyspace()
  })

  it("a randomized sequence of blocking pops, moves and ZPOPMAX among pushes and wrong types agrees too", async () => {
    const { k, both, sameKeyspace } = harness()
    const random = prng(Number(process.env["MEMTEST_SEED"] ?? 20240612))
    const generate = blockingGenerator(random, k)
    const count = Number(process.env["MEMTEST_COMMANDS"] ?? 4000) / 5
    for (let i = 0; i < count; i++) {
      await both(generate())
      if (i % 200 === 199) await sameKeyspace()
    }
    await sameKeyspace()
  })
})

describe("MemoryStore.onWrite", () => {
  it("calls the listener after writes to watched keys, once per command, not for reads or other keys", () => {
    let time = 0
    const store = MemoryStore.make({ now: () => time })
    const calls: Array<string> = []
    const stop = store.onWrite(["a", "b"], () => calls.push("ab"))
    store.onWrite(["c"], () => calls.push("c"))
    store.call("RPUSH", "a", "1")
    expect(calls).toEqual(["ab"])
    store.call("LRANGE", "a", 0, -1)
    store.call("GET", "b")
    store.call("EXISTS", "a", "b")
    store.call("RPUSH", "other", "1")
    expect(calls).toEqual(["ab"])
    store.call("MSET", "b", "1", "c", "2")
    expect(calls).toEqual(["ab", "ab", "c"])
    store.call("DEL", "a", "b")
    expect(calls).toEqual(["ab", "ab", "c", "ab"])
    store.call("DEL", "a")
    store.call("SREM", "a", "x")
    expect(calls).toHaveLength(4)
    expect(() => store.call("LPUSH", "c", "x")).toThrow("WRONGTYPE")
    expect(calls).toHaveLength(4)
    store.call("LMOVE", "other", "a", "LEFT", "LEFT")
    expect(calls).toHaveLength(5)
    store.call("PEXPIRE", "a", 10)
    expect(calls).toHaveLength(6)
    stop()
    stop()
    store.call("RPUSH", "a", "2")
    expect(calls).toHaveLength(6)
    store.call("FLUSHALL")
    expect(calls).toEqual(["ab", "ab", "c", "ab", "ab", "ab", "c"])
  })

  it("a key expired by a write command counts as written, by a read it does not", () => {
    let time = 0
    const store = MemoryStore.make({ now: () => time })
    let calls = 0
    store.onWrite(["q"], () => calls++)
    store.call("RPUSH", "q", "1")
    store.call("PEXPIRE", "q", 5)
    expect(calls).toBe(2)
    time = 5
    expect(store.call("LLEN", "q")).toBe(0)
    expect(calls).toBe(2)
    store.call("RPUSH", "q", "1")
    store.call("PEXPIRE", "q", 5)
    calls = 0
    time = 10
    expect(store.call("LPOP", "q")).toBe(null)
    expect(calls).toBe(1)
  })

  it("listeners may call the store and unsubscribe each other; a throwing listener does not starve the rest", () => {
    const store = MemoryStore.make({ now: () => 0 })
    const seen: Array<unknown> = []
    store.onWrite(["k"], () => seen.push(store.call("LLEN", "k")))
    store.onWrite(["k"], () => {
      store.call("RPUSH", "log", "x")
    })
    let stopLater = () => {}
    store.onWrite(["k"], () => stopLater())
    stopLater = store.onWrite(["k"], () => seen.push("never: unsubscribed before its turn"))
    store.call("RPUSH", "k", "v")
    expect(seen).toEqual([1])
    expect(store.call("LLEN", "log")).toBe(1)
    const other = MemoryStore.make({ now: () => 0 })
    let after = 0
    other.onWrite(["x"], () => {
      throw new Error("boom")
    })
    other.onWrite(["x"], () => after++)
    expect(() => other.call("SET", "x", "1")).toThrow("boom")
    expect(after).toBe(1)
    expect(other.call("GET", "x")).toBe("1")
  })
  it("a blocking command answers null where it would wait; onWrite on its keys says when to call again", () => {
    let time = 0
    const store = MemoryStore.make({ now: () => time })
    const keys = ["q1", "q2"]
    expect(store.call("BLPOP", ...keys, 0)).toBe(null)
    let woken = 0
    const stop = store.onWrite(keys, () => woken++)
    store.call("RPUSH", "other", "x")
    expect(woken).toBe(0)
    store.call("RPUSH", "q2", "job")
    expect(woken).toBe(1)
    stop()
    expect(store.call("BLPOP", ...keys, 0)).toEqual(["q2", "job"])
    expect(store.call("EXISTS", "q2")).toBe(0)
    // the pop is a write: whoever else waits on the key hears of it, and so does an expiry found by the pop
    const heard: Array<string> = []
    store.onWrite(["z", "l"], () => heard.push("write"))
    store.call("ZADD", "z", 1, "m")
    store.call("RPUSH", "l", "x")
    store.call("PEXPIRE", "l", 5)
    heard.length = 0
    expect(store.call("BZPOPMAX", "z", 0)).toEqual(["z", "m", "1"])
    time = 5
    expect(store.call("BLMOVE", "l", "dst", "LEFT", "RIGHT", 0)).toBe(null)
    expect(heard).toEqual(["write", "write"])
    expect(store.call("BZPOPMIN", "z", 0)).toBe(null)
    expect(heard).toHaveLength(2)
  })
})


/** mulberry32: a seeded PRNG, so a failing randomized run can be replayed. */
const prng = (seed: number): () => number => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Random commands over five keys shared by every family (so wrong types come up all the time), with arguments
 * drawn from small pools of valid and invalid values. Expiry uses relative times up to 500 s and absolute times
 * from `base` + 1000 s on, so NX/XX/GT/LT comparisons never depend on the few ms between the two sides.
 */
const commandGenerator = (random: () => number, k: (name: string) => string, base: number) => {
  const pick = <A>(values: ReadonlyArray<A>): A => values[Math.floor(random() * values.length)]
  const chance = (p: number) => random() < p
  const some = <A>(values: ReadonlyArray<A>, max: number): Array<A> =>
    Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(values))
  const key = () => k(pick(["a", "b", "c", "d", "e"]))
  const values = ["", "x", "y", "z", "1", "-2", "10", "3.5", "abc", "007", "9007199254740993", " 5"]
  const members = ["x", "y", "z", "1", "2", "10", "-3", ""]
  const fields = ["f", "g", "h", "1", "n"]
  const ints = ["0", "1", "-1", "2", "-2", "3", "10", "-10", "100", "x", "1.5"]
  const floats = ["0.1", "0.2", "-0.1", "1.5", "1000", "1e3", "3.0e-5", "-7", "x", "inf"]
  const scores = ["0", "1", "-1", "2.5", "1.1", "1e3", "-inf", "+inf", "3", "0.1", "1e-5", "x", "-0"]
  const bounds = ["-inf", "+inf", "(1", "1", "(2.5", "2.5", "0", "(-inf", "10", "x", "(3", "-1"]
  const relativeSeconds = ["100", "500", "0", "-5", "x"]
  const relativeMillis = ["100000", "400000", "0", "-1"]
  const absoluteMillis = [base + 1_000_000, base + 2_000_000, base + 3_000_000, base - 1000].map(String)
  const absoluteSeconds = [Math.floor(base / 1000) + 1500, Math.floor(base / 1000) - 10].map(String)
  const ttl: Compare = { within: 1 }
  const pttl: Compare = { within: 1000 }

  const setOptions = (): Array<string> => {
    const out: Array<string> = []
    if (chance(0.2)) out.push(pick(["NX", "XX"]))
    if (chance(0.2)) out.push("GET")
    if (chance(0.3)) {
      out.push(...pick([["EX", "300"], ["PX", "200000"], ["PXAT", absoluteMillis[0]], ["EXAT", absoluteSeconds[0]], [
        "PXAT",
        absoluteMillis[3]
      ], ["EX", "0"], ["KEEPTTL"]]))
    }
    return out
  }

  const families: ReadonlyArray<() => [Command, Compare?]> = [
    // keys
    () =>
      pick<() => [Command, Compare?]>([
        () => [["DEL", ...some([key(), key()], 2)]],
        () => [["EXISTS", ...some([key(), key(), key()], 3)]],
        () => [["TYPE", key()]],
        () => [["EXPIRE", key(), pick(relativeSeconds), ...(chance(0.3) ? [pick(["NX", "XX"])] : [])]],
        () => [["PEXPIRE", key(), pick(relativeMillis), ...(chance(0.3) ? [pick(["NX", "XX"])] : [])]],
        () => [["PEXPIREAT", key(), pick(absoluteMillis), ...(chance(0.5) ? [pick(["NX", "XX", "GT", "LT"])] : [])]],
        () => [["EXPIREAT", key(), pick(absoluteSeconds), ...(chance(0.5) ? [pick(["NX", "XX", "GT", "LT"])] : [])]],
        () => [["TTL", key()], ttl],
        () => [["PTTL", key()], pttl],
        () => [["PERSIST", key()]],
        () => [["RENAME", key(), key()]],
        () => [["KEYS", `${k("")}${pick(["*", "[a-c]", "?", "[^a]*", "\\a", "d*", "[ae]"])}`], "unordered"],
        () => [["ECHO", pick(values)]]
      ])(),
    // strings
    () =>
      pick<() => [Command, Compare?]>([
        () => [["GET", key()]],
        () => [["SET", key(), pick(values), ...setOptions()]],
        () => [["SETNX", key(), pick(values)]],
        () => [["SETEX", key(), pick(relativeSeconds), pick(values)]],
        () => [["PSETEX", key(), pick(relativeMillis), pick(values)]],
        () => [["GETDEL", key()]],
        () => [["MGET", ...some([key(), key()], 3)]],
        () => [["MSET", key(), pick(values), ...(chance(0.5) ? [key(), pick(values)] : [])]],
        () => [["INCR", key()]],
        () => [["DECR", key()]],
        () => [["INCRBY", key(), pick(ints)]],
        () => [["DECRBY", key(), pick(ints)]],
        () => [["INCRBYFLOAT", key(), pick(floats)]],
        () => [["APPEND", key(), pick(values)]],
        () => [["STRLEN", key()]]
      ])(),
    // lists
    () =>
      pick<() => [Command, Compare?]>([
        () => [[pick(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), key(), ...some(values, 3)]],
        () => [[pick(["LPOP", "RPOP"]), key(), ...(chance(0.4) ? [pick(ints)] : [])]],
        () => [["LLEN", key()]],
        () => [["LRANGE", key(), pick(ints), pick(ints)]],
        () => [["LINDEX", key(), pick(ints)]],
        () => [["LSET", key(), pick(ints), pick(values)]],
        () => [["LREM", key(), pick(ints), pick(values)]],
        () => [["LTRIM", key(), pick(ints), pick(ints)]],
        () => [["LPOS", key(), pick(values), ...(chance(0.4) ? ["RANK", pick(ints)] : []), ...(chance(0.4) ? ["COUNT", pick(ints)] : [])]],
        () => [["LMOVE", key(), key(), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])]],
        () => [["RPOPLPUSH", key(), key()]]
      ])(),
    // sets
    () =>
      pick<() => [Command, Compare?]>([
        () => [["SADD", key(), ...some(members, 3)]],
        () => [["SREM", key(), ...some(members, 3)]],
        () => [["SMEMBERS", key()], "unordered"],
        () => [["SISMEMBER", key(), pick(members)]],
        () => [["SMISMEMBER", key(), ...some(members, 3)]],
        () => [["SCARD", key()]]
      ])(),
    // hashes
    () =>
      pick<() => [Command, Compare?]>([
        () => [["HSET", key(), ...some(fields, 2).flatMap((field) => [field, pick(values)])]],
        () => [["HSETNX", key(), pick(fields), pick(values)]],
        () => [["HGET", key(), pick(fields)]],
        () => [["HMGET", key(), ...some(fields, 3)]],
        () => [["HGETALL", key()]],
        () => [["HDEL", key(), ...some(fields, 2)]],
        () => [["HEXISTS", key(), pick(fields)]],
        () => [["HLEN", key()]],
        () => [["HKEYS", key()]],
        () => [["HVALS", key()]],
        () => [["HINCRBY", key(), pick(fields), pick(ints)]],
        () => [["HINCRBYFLOAT", key(), pick(fields), pick(floats)]]
      ])(),
    // sorted sets
    () =>
      pick<() => [Command, Compare?]>([
        () => [[
          "ZADD",
          key(),
          ...(chance(0.3) ? [pick(["NX", "XX", "GT", "LT", "CH", "INCR"])] : []),
          ...(chance(0.15) ? [pick(["XX", "GT", "CH"])] : []),
          ...some(members, 3).flatMap((member) => [pick(scores), member])
        ]],
        () => [["ZREM", key(), ...some(members, 2)]],
        () => [["ZSCORE", key(), pick(members)]],
        () => [["ZCARD", key()]],
        () => [["ZINCRBY", key(), pick(scores), pick(members)]],
        () => [["ZRANGE", key(), pick(ints), pick(ints), ...(chance(0.3) ? ["REV"] : []), ...(chance(0.4) ? ["WITHSCORES"] : [])]],
        () => [[
          "ZRANGE",
          key(),
          pick(bounds),
          pick(bounds),
          "BYSCORE",
          ...(chance(0.3) ? ["REV"] : []),
          ...(chance(0.4) ? ["LIMIT", pick(ints), pick(ints)] : []),
          ...(chance(0.4) ? ["WITHSCORES"] : [])
        ]],
        () => [["ZRANGEBYSCORE", key(), pick(bounds), pick(bounds), ...(chance(0.4) ? ["WITHSCORES"] : []), ...(chance(0.4) ? ["LIMIT", pick(ints), pick(ints)] : [])]],
        () => [["ZREMRANGEBYSCORE", key(), pick(bounds), pick(bounds)]],
        () => [["ZPOPMIN", key(), ...(chance(0.5) ? [pick(ints)] : [])]],
        () => [["ZCOUNT", key(), pick(bounds), pick(bounds)]],
        () => [["ZRANK", key(), pick(members)]]
      ])()
  ]
  return (): [Command, Compare] => {
    const [command, compare = "exact"] = pick(families)()
    return [command, compare]
  }
}

/**
 * Random commands for the blocking family over five keys shared with lists, sorted sets and strings (so every
 * pop meets wrong types and empty keys): pushes and ZADDs to feed them, the pops and moves with several keys
 * and valid or invalid timeouts, and reads to watch the effect.
 */
const blockingGenerator = (random: () => number, k: (name: string) => string) => {
  const pick = <A>(values: ReadonlyArray<A>): A => values[Math.floor(random() * values.length)]
  const some = <A>(values: ReadonlyArray<A>, max: number): Array<A> =>
    Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(values))
  const key = () => k(pick(["a", "b", "c", "d", "e"]))
  const keys = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, key)
  const values = ["x", "y", "z", "1", "", "-2"]
  const scores = ["0", "1", "-1", "2.5", "-inf", "+inf", "1e3"]
  const timeout = () =>
    random() < 0.85 ? pick(["0", "0.1", "1", "2.5", "0.0001", "-0.0001"]) : pick(["-1", "x", "inf", ""])
  const sideOf = () => (random() < 0.95 ? pick(["LEFT", "RIGHT", "left", "right"]) : "UP")
  const push = (): Command => [pick(["LPUSH", "RPUSH"]), key(), ...some(values, 3)]
  const zadd = (): Command => ["ZADD", key(), ...some(values, 3).flatMap((member) => [pick(scores), member])]
  const commands: ReadonlyArray<() => Command> = [
    push,
    push,
    push,
    zadd,
    zadd,
    zadd,
    () => (random() < 0.3 ? ["SET", key(), pick(values)] : ["DEL", key()]),
    () => ["DEL", key()],
    () => [pick(["BLPOP", "BRPOP"]), ...keys(3), timeout()],
    () => [pick(["BLPOP", "BRPOP"]), ...keys(3), timeout()],
    () => ["BLMOVE", key(), key(), sideOf(), sideOf(), timeout()],
    () => ["BLMOVE", key(), key(), sideOf(), sideOf(), timeout()],
    () => [pick(["BZPOPMIN", "BZPOPMAX"]), ...keys(3), timeout()],
    () => [pick(["BZPOPMIN", "BZPOPMAX"]), ...keys(3), timeout()],
    () => [pick(["ZPOPMAX", "ZPOPMIN"]), key(), ...(random() < 0.5 ? [pick(["0", "1", "2", "5", "-1", "x"])] : [])],
    () => ["LRANGE", key(), 0, -1],
    () => ["ZRANGE", key(), 0, -1, "WITHSCORES"],
    () => ["TYPE", key()]
  ]
  return (): Command => pick(commands)()
}
