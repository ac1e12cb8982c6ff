/**
 * The commands on keys whatever their type (Redis's "generic" family): DEL, EXISTS, TYPE, the EXPIRE and TTL
 * forms, PERSIST, KEYS, SCAN, DBSIZE, FLUSHALL/FLUSHDB and RENAME, plus the two connection commands that touch
 * no key, PING and ECHO. They work on the keyspace as a whole (expiry times, listings, cursors) rather than on
 * one kind of value, so they are kept apart from the per-type families.
 *
 * @since 0.2.0
 */
import { globFor } from "./MemoryStoreGlob.ts"
import { drop, lookup, purgeExpired, remove, touch, ttlOf, type Db } from "./MemoryStoreKeyspace.ts"
import { INT64_LIMIT, integer } from "./MemoryStoreNumbers.ts"
import { type Argv, fail, invalidExpire, NO_SUCH_KEY, type Reply, SYNTAX, wrongArity } from "./MemoryStoreReply.ts"
import { typeOf } from "./MemoryStoreValues.ts"

export const del = (db: Db, argv: Argv): Reply => {
  let deleted = 0
  for (const key of argv) {
    if (lookup(db, key) !== undefined) {
      remove(db, key)
      deleted++
    }
  }
  return deleted
}

export const exists = (db: Db, argv: Argv): Reply => {
  let found = 0
  for (const key of argv) if (lookup(db, key) !== undefined) found++
  return found
}

export const type = (db: Db, argv: Argv): Reply => {
  const value = lookup(db, argv[0])
  return value === undefined ? "none" : typeOf(value)
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with their NX/XX/GT/LT options, in Redis's order of checks. */
export const expireCommand = (name: string, seconds: boolean, relative: boolean) => (db: Db, argv: Argv): Reply => {
  let nx = false
  let xx = false
  let gt = false
  let lt = false
  for (let i = 2; i < argv.length; i++) {
    const option = argv[i].toUpperCase()
    if (option === "NX") nx = true
    else if (option === "XX") xx = true
    else if (option === "GT") gt = true
    else if (option === "LT") lt = true
    else fail(`ERR Unsupported option ${argv[i]}`)
  }
  if (nx && (xx || gt || lt)) fail("ERR NX and XX, GT or LT options at the same time are not compatible")
  if (gt && lt) fail("ERR GT and LT options at the same time are not compatible")
  let when = integer(argv[1])
  if (seconds) {
    if (Math.abs(when) > INT64_LIMIT / 1000) invalidExpire(name)
    when *= 1000
  }
  const now = db.now()
  if (relative) when += now
  if (when >= INT64_LIMIT) invalidExpire(name)
  const key = argv[0]
  if (lookup(db, key) === undefined) return 0
  const current = ttlOf(db, key)
  if (nx && current !== -1) return 0
  if (xx && current === -1) return 0
  if (gt && (current === -1 || when <= current)) return 0
  if (lt && current !== -1 && when >= current) return 0
  if (when <= now) {
    remove(db, key)
    return 1
  }
  db.expires.set(key, when)
  touch(db, key)
  return 1
}

export const ttlCommand = (millis: boolean) => (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  if (lookup(db, key) === undefined) return -2
  const at = db.expires.get(key)
  if (at === undefined) return -1
  const left = Math.max(0, at - db.now())
  return millis ? left : Math.floor((left + 500) / 1000)
}

export const persist = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  if (lookup(db, key) === undefined || !db.expires.delete(key)) return 0
  touch(db, key)
  return 1
}

export const keys = (db: Db, argv: Argv): Reply => {
  purgeExpired(db)
  const matches = globFor(argv[0])
  const out: Array<string> = []
  for (const key of db.data.keys()) if (matches(key)) out.push(key)
  return out
}

/** The most SCAN cursors remembered at once; the oldest is forgotten first. */
const MAX_CURSORS = 1024
/** `strtoul` as `parseScanCursorOrReply` uses it: digits after an optional sign, or nothing (cursor 0). */
const CURSOR = /^(?:[+-]?[0-9]+)?$/

/** The index in `sorted` of the first key after `last`. */
const after = (sorted: ReadonlyArray<string>, last: string): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] <= last) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * SCAN walks the live keys in sorted order. A cursor it hands out stands for the last key it examined (kept
 * in a small table), so the next call resumes after that key even if keys before it were deleted meanwhile:
 * every key that exists for the whole scan is returned. A cursor it does not know is read as an index.
 */
export const scan = (db: Db, argv: Argv): Reply => {
  const cursor = argv[0]
  if (!CURSOR.test(cursor)) fail("ERR invalid cursor")
  let count = 10
  let matches: ((key: string) => boolean) | undefined
  let typeName: string | undefined
  for (let i = 1; i < argv.length; i += 2) {
    const option = argv[i].toUpperCase()
    if (i + 1 >= argv.length) fail(SYNTAX)
    if (option === "COUNT") {
      count = integer(argv[i + 1])
      if (count < 1) fail(SYNTAX)
    } else if (option === "MATCH") matches = globFor(argv[i + 1])
    else if (option === "TYPE") typeName = argv[i + 1]
    else fail(SYNTAX)
  }
  purgeExpired(db)
  const sorted = Array.from(db.data.keys()).sort()
  const last = db.cursors.get(cursor)
  const start = last !== undefined ? after(sorted, last) : Math.max(0, Number(cursor) || 0)
  const end = Math.min(sorted.length, start + count)
  const found: Array<string> = []
  for (let i = start; i < end; i++) {
    const key = sorted[i]
    if (matches !== undefined && !matches(key)) continue
    if (typeName !== undefined && typeOf(db.data.get(key)!) !== typeName.toLowerCase()) continue
    found.push(key)
  }
  if (end >= sorted.length) return ["0", found]
  const next = String(++db.cursorSeq)
  db.cursors.set(next, sorted[end - 1])
  if (db.cursors.size > MAX_CURSORS) db.cursors.delete(db.cursors.keys().next().value!)
  return [next, found]
}

export const dbsize = (db: Db): Reply => {
  purgeExpired(db)
  return db.data.size
}

export const flush = (db: Db, argv: Argv): Reply => {
  if (argv.length > 1 || (argv.length === 1 && !["SYNC", "ASYNC"].includes(argv[0].toUpperCase()))) fail(SYNTAX)
  for (const key of db.watchers.keys()) if (db.data.has(key)) touch(db, key)
  db.data.clear()
  db.expires.clear()
  db.cursors.clear()
  return "OK"
}

export const rename = (db: Db, argv: Argv): Reply => {
  const [source, target] = argv
  const value = lookup(db, source) ?? fail(NO_SUCH_KEY)
  if (source === target) return "OK"
  const at = db.expires.get(source)
  lookup(db, target)
  drop(db, target)
  db.data.set(target, value)
  if (at !== undefined) db.expires.set(target, at)
  drop(db, source)
  touch(db, source)
  touch(db, target)
  return "OK"
}

export const ping = (_db: Db, argv: Argv): Reply => {
  if (argv.length > 1) wrongArity("ping")
  return argv.length === 0 ? "PONG" : argv[0]
}

export const echo = (_db: Db, argv: Argv): Reply => argv[0]
