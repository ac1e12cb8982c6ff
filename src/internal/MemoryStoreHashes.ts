/**
 * The hash commands: HSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS and the HINCRBY and
 * HINCRBYFLOAT counters. Fields are kept in insertion order, as a small Redis hash (a listpack) answers them,
 * and the counters share the integer and `long double` arithmetic of the string counters, with the hash's own
 * error texts.
 *
 * @since 0.2.0
 */
import { create, hashAt, settle, touch, type Db } from "./MemoryStoreKeyspace.ts"
import {
  addInt64,
  EXTENDED_ZERO,
  incrementFloat,
  int64,
  NOT_FLOAT,
  parseExtended,
  parseInt64
} from "./MemoryStoreNumbers.ts"
import { type Argv, fail, type Reply, wrongArity } from "./MemoryStoreReply.ts"

export const hset = (db: Db, argv: Argv): Reply => {
  if (argv.length % 2 === 0) wrongArity("hset")
  const key = argv[0]
  const hash = hashAt(db, key) ?? create(db, key, new Map<string, string>())
  const before = hash.size
  for (let i = 1; i < argv.length; i += 2) hash.set(argv[i], argv[i + 1])
  touch(db, key)
  return hash.size - before
}

export const hsetnx = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const existing = hashAt(db, key)
  if (existing?.has(argv[1])) return 0
  const hash = existing ?? create(db, key, new Map<string, string>())
  hash.set(argv[1], argv[2])
  touch(db, key)
  return 1
}

export const hget = (db: Db, argv: Argv): Reply => hashAt(db, argv[0])?.get(argv[1]) ?? null

export const hmget = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return argv.slice(1).map((field) => hash?.get(field) ?? null)
}

export const hgetall = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  const out: Array<string> = []
  if (hash !== undefined) for (const [field, value] of hash) out.push(field, value)
  return out
}

export const hdel = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const hash = hashAt(db, key)
  if (hash === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (hash.delete(argv[i])) removed++
  if (removed > 0) settle(db, key, hash.size)
  return removed
}

export const hexists = (db: Db, argv: Argv): Reply => (hashAt(db, argv[0])?.has(argv[1]) ? 1 : 0)
export const hlen = (db: Db, argv: Argv): Reply => hashAt(db, argv[0])?.size ?? 0

export const hkeys = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return hash === undefined ? [] : Array.from(hash.keys())
}

export const hvals = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return hash === undefined ? [] : Array.from(hash.values())
}

export const hincrby = (db: Db, argv: Argv): Reply => {
  const by = int64(argv[2])
  const key = argv[0]
  const existing = hashAt(db, key)
  const current = existing?.get(argv[1])
  const value = current === undefined ? 0 : parseInt64(current) ?? fail("ERR hash value is not an integer")
  const next = addInt64(value, by)
  const hash = existing ?? create(db, key, new Map<string, string>())
  hash.set(argv[1], next)
  touch(db, key)
  return Number(next)
}

export const hincrbyfloat = (db: Db, argv: Argv): Reply => {
  const increment = parseExtended(argv[2]) ?? fail(NOT_FLOAT)
  if (typeof increment === "number") fail("ERR value is NaN or Infinity")
  const key = argv[0]
  const existing = hashAt(db, key)
  const current = existing?.get(argv[1])
  const value = current === undefined ? EXTENDED_ZERO : parseExtended(current) ?? fail("ERR hash value is not a float")
  const next = incrementFloat(value, increment)
  const hash = existing ?? create(db, key, new Map<string, string>())
  hash.set(argv[1], next)
  touch(db, key)
  return next
}
