/**
 * The string commands: GET, SET with its options and the SETNX/SETEX/PSETEX forms, GETDEL, MGET/MSET, the
 * integer and float counters, APPEND and STRLEN. The parsing and arithmetic of counters is Redis's own
 * (`MemoryStoreNumbers.ts`); what belongs here is when a command keeps or clears a key's time to live, and
 * that lengths count UTF-8 bytes, as Redis does, not UTF-16 code units.
 *
 * @since 0.2.0
 */
import { lookup, putString, remove, stringAt, type Db } from "./MemoryStoreKeyspace.ts"
import {
  addInt64,
  EXTENDED_ZERO,
  incrementFloat,
  INT64_LIMIT,
  INT64_MIN,
  int64,
  integer,
  NOT_FLOAT,
  NOT_INTEGER,
  parseExtended,
  parseInt64
} from "./MemoryStoreNumbers.ts"
import { type Argv, fail, invalidExpire, type Reply, SYNTAX, wrongArity } from "./MemoryStoreReply.ts"

/** The number of bytes of `text` in UTF-8, as Redis counts a string's length. */
const byteLength = (text: string): number => {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2
      i++
    } else bytes += 2
  }
  return bytes
}

export const get = (db: Db, argv: Argv): Reply => stringAt(db, argv[0]) ?? null

type ExpiryUnit = "EX" | "PX" | "EXAT" | "PXAT"

/** The absolute expiry time an expiry option gives, validated as `getExpireMillisecondsOrReply` does. */
const expiryAt = (db: Db, name: string, unit: ExpiryUnit, text: string): number => {
  const amount = integer(text)
  const seconds = unit === "EX" || unit === "EXAT"
  if (amount <= 0 || (seconds && amount > INT64_LIMIT / 1000)) invalidExpire(name)
  const millis = seconds ? amount * 1000 : amount
  const at = unit === "EX" || unit === "PX" ? millis + db.now() : millis
  return at >= INT64_LIMIT ? invalidExpire(name) : at
}

/**
 * SET and its SETNX/SETEX/PSETEX forms: `null` when NX/XX prevents it, the old value with GET (which checks
 * the type first), else `ok`.
 */
const setValue = (
  db: Db,
  key: string,
  value: string,
  options: {
    readonly nx: boolean
    readonly xx: boolean
    readonly get: boolean
    readonly keepTtl: boolean
    readonly at: number | undefined
  },
  ok: Reply,
  aborted: Reply
): Reply => {
  const old = options.get ? stringAt(db, key) : undefined
  const found = options.get ? old !== undefined : lookup(db, key) !== undefined
  if ((options.nx && found) || (options.xx && !found)) return options.get ? old ?? null : aborted
  putString(db, key, value, options.keepTtl)
  if (options.at !== undefined) db.expires.set(key, options.at)
  return options.get ? old ?? null : ok
}

export const set = (db: Db, argv: Argv): Reply => {
  let nx = false
  let xx = false
  let getOld = false
  let keepTtl = false
  let unit: ExpiryUnit | undefined
  let amount = ""
  for (let i = 2; i < argv.length; i++) {
    const option = argv[i].toUpperCase()
    if (option === "NX" && !xx) nx = true
    else if (option === "XX" && !nx) xx = true
    else if (option === "GET") getOld = true
    else if (option === "KEEPTTL" && unit === undefined) keepTtl = true
    else if (
      (option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT") &&
      !keepTtl && (unit === undefined || unit === option) && i + 1 < argv.length
    ) {
      unit = option
      amount = argv[++i]
    } else fail(SYNTAX)
  }
  const at = unit === undefined ? undefined : expiryAt(db, "set", unit, amount)
  return setValue(db, argv[0], argv[1], { nx, xx, get: getOld, keepTtl, at }, "OK", null)
}

const PLAIN = { nx: false, xx: false, get: false, keepTtl: false, at: undefined } as const

export const setnx = (db: Db, argv: Argv): Reply => setValue(db, argv[0], argv[1], { ...PLAIN, nx: true }, 1, 0)

export const setex = (name: string, unit: ExpiryUnit) => (db: Db, argv: Argv): Reply =>
  setValue(db, argv[0], argv[2], { ...PLAIN, at: expiryAt(db, name, unit, argv[1]) }, "OK", null)

export const getdel = (db: Db, argv: Argv): Reply => {
  const value = stringAt(db, argv[0])
  if (value === undefined) return null
  remove(db, argv[0])
  return value
}

export const mget = (db: Db, argv: Argv): Reply =>
  argv.map((key) => {
    const value = lookup(db, key)
    return typeof value === "string" ? value : null
  })

export const mset = (db: Db, argv: Argv): Reply => {
  if (argv.length % 2 !== 0) wrongArity("mset")
  for (let i = 0; i < argv.length; i += 2) putString(db, argv[i], argv[i + 1], false)
  return "OK"
}

/** INCR and friends: the stored value must be a 64-bit integer; the result must stay one; the TTL is kept. */
const incrementBy = (db: Db, key: string, by: number | bigint): Reply => {
  const current = stringAt(db, key)
  const value = current === undefined ? 0 : parseInt64(current) ?? fail(NOT_INTEGER)
  const next = addInt64(value, by)
  putString(db, key, next, true)
  return Number(next)
}

export const incr = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], 1)
export const decr = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], -1)
export const incrby = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], int64(argv[1]))

export const decrby = (db: Db, argv: Argv): Reply => {
  const by = int64(argv[1])
  if (by === INT64_MIN) fail("ERR decrement would overflow")
  return incrementBy(db, argv[0], -by)
}

export const incrbyfloat = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const current = stringAt(db, key)
  const value = current === undefined ? EXTENDED_ZERO : parseExtended(current) ?? fail(NOT_FLOAT)
  const increment = parseExtended(argv[1]) ?? fail(NOT_FLOAT)
  const next = incrementFloat(value, increment)
  putString(db, key, next, true)
  return next
}

export const append = (db: Db, argv: Argv): Reply => {
  const next = (stringAt(db, argv[0]) ?? "") + argv[1]
  putString(db, argv[0], next, true)
  return byteLength(next)
}

export const strlen = (db: Db, argv: Argv): Reply => byteLength(stringAt(db, argv[0]) ?? "")
