/**
 * The sorted-set commands: ZADD with NX/XX/GT/LT/CH/INCR, ZINCRBY, ZREM, ZSCORE, ZCARD, ZRANK, ZRANGE (by index
 * or score, REV, LIMIT, WITHSCORES) and ZRANGEBYSCORE, ZREMRANGEBYSCORE, ZCOUNT, ZPOPMIN and ZPOPMAX, over the
 * chunked sorted set of `MemoryStoreValues.ts`. Scores are read and printed exactly as Redis does
 * (`MemoryStoreNumbers.ts`); this module owns the option parsing and Redis's order of checks. The blocking
 * pops, which reuse ZPOPMIN/ZPOPMAX, are in `MemoryStoreBlocking.ts`.
 *
 * @since 0.2.0
 */
import { create, settle, touch, zsetAt, type Db } from "./MemoryStoreKeyspace.ts"
import { type Bound, double, formatDouble, integer, parseBound, positive } from "./MemoryStoreNumbers.ts"
import { type Argv, fail, type Reply, SYNTAX } from "./MemoryStoreReply.ts"
import { clampRange, type Scored, ZSet } from "./MemoryStoreValues.ts"

const NAN_SCORE = "ERR resulting score is not a number (NaN)"

/** ZADD with NX/XX/GT/LT/CH/INCR, in Redis's order of checks (scores are all parsed before anything is added). */
export const zadd = (db: Db, argv: Argv): Reply => {
  let nx = false
  let xx = false
  let gt = false
  let lt = false
  let ch = false
  let incr = false
  let first = 1
  for (; first < argv.length; first++) {
    const option = argv[first].toUpperCase()
    if (option === "NX") nx = true
    else if (option === "XX") xx = true
    else if (option === "GT") gt = true
    else if (option === "LT") lt = true
    else if (option === "CH") ch = true
    else if (option === "INCR") incr = true
    else break
  }
  const pairs = argv.length - first
  if (pairs === 0 || pairs % 2 !== 0) fail(SYNTAX)
  if (nx && xx) fail("ERR XX and NX options at the same time are not compatible")
  if ((gt && nx) || (lt && nx) || (gt && lt)) fail("ERR GT, LT, and/or NX options at the same time are not compatible")
  if (incr && pairs > 2) fail("ERR INCR option supports a single increment-element pair")
  const scores: Array<number> = []
  for (let i = first; i < argv.length; i += 2) scores.push(double(argv[i]))
  const key = argv[0]
  let zset = zsetAt(db, key)
  if (zset === undefined) {
    if (xx) return incr ? null : 0
    zset = create(db, key, new ZSet())
  }
  let added = 0
  let updated = 0
  let result: number | undefined
  for (let j = 0; j < scores.length; j++) {
    const member = argv[first + 2 * j + 1]
    let score = scores[j]
    const current = zset.scores.get(member)
    if (current === undefined) {
      if (xx) continue
      zset.insert(member, score)
      added++
      result = score
      continue
    }
    if (nx) continue
    if (incr) {
      score = current + score
      if (Number.isNaN(score)) {
        settle(db, key, zset.size)
        return fail(NAN_SCORE)
      }
    }
    if ((lt && score >= current) || (gt && score <= current)) continue
    result = score
    if (score !== current) {
      zset.remove(member)
      zset.insert(member, score)
      updated++
    }
  }
  if (added + updated > 0) touch(db, key)
  if (incr) return result === undefined ? null : formatDouble(result)
  return ch ? added + updated : added
}

export const zincrby = (db: Db, argv: Argv): Reply => zadd(db, [argv[0], "INCR", argv[1], argv[2]])

export const zrem = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const zset = zsetAt(db, key)
  if (zset === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (zset.remove(argv[i])) removed++
  if (removed > 0) settle(db, key, zset.size)
  return removed
}

export const zscore = (db: Db, argv: Argv): Reply => {
  const score = zsetAt(db, argv[0])?.scores.get(argv[1])
  return score === undefined ? null : formatDouble(score)
}

export const zcard = (db: Db, argv: Argv): Reply => zsetAt(db, argv[0])?.size ?? 0

export const zrank = (db: Db, argv: Argv): Reply => {
  const zset = zsetAt(db, argv[0])
  const score = zset?.scores.get(argv[1])
  return zset === undefined || score === undefined ? null : zset.rank(argv[1], score)
}

/** The ranks `[from, to)` of the entries within a score range. */
const scoreRanks = (zset: ZSet, low: Bound, high: Bound): readonly [number, number] => {
  const from = zset.below(low.value, low.exclusive)
  const to = zset.below(high.value, !high.exclusive)
  return [from, Math.max(from, to)]
}

const withScores = (entries: ReadonlyArray<Scored>, scores: boolean): Reply => {
  if (!scores) return entries.map((entry) => entry.member)
  const out: Array<string> = []
  for (const entry of entries) out.push(entry.member, formatDouble(entry.score))
  return out
}

/**
 * ZRANGE (index or BYSCORE, REV, LIMIT, WITHSCORES) and ZRANGEBYSCORE (`byScoreOnly`), parsed as Redis's
 * `zrangeGenericCommand`: options, then the range, then the key. A negative LIMIT offset gives nothing, a
 * negative count everything.
 */
export const zrangeCommand = (byScoreOnly: boolean) => (db: Db, argv: Argv): Reply => {
  let scores = false
  let byScore = byScoreOnly
  let reverse = false
  let offset = 0
  let limit = -1
  for (let i = 3; i < argv.length; i++) {
    const option = argv[i].toUpperCase()
    if (option === "WITHSCORES") scores = true
    else if (option === "LIMIT" && i + 2 < argv.length) {
      offset = integer(argv[i + 1])
      limit = integer(argv[i + 2])
      i += 2
    } else if (!byScoreOnly && option === "REV" && !reverse) reverse = true
    else if (!byScoreOnly && option === "BYSCORE" && !byScore) byScore = true
    else if (!byScoreOnly && option === "BYLEX") fail("ERR BYLEX is not supported by the in-memory store")
    else fail(SYNTAX)
  }
  if (limit !== -1 && !byScore) {
    fail("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
  }
  if (!byScore) {
    const start = integer(argv[1])
    const end = integer(argv[2])
    const zset = zsetAt(db, argv[0])
    if (zset === undefined) return []
    const range = clampRange(start, end, zset.size)
    if (range === undefined) return []
    if (!reverse) return withScores(zset.slice(range[0], range[1] + 1), scores)
    return withScores(zset.slice(zset.size - 1 - range[1], zset.size - range[0]).reverse(), scores)
  }
  const low = parseBound(reverse ? argv[2] : argv[1])
  const high = parseBound(reverse ? argv[1] : argv[2])
  const zset = zsetAt(db, argv[0])
  if (zset === undefined) return []
  if (offset < 0 || (offset > 0 && offset >= zset.size)) return []
  const [from, to] = scoreRanks(zset, low, high)
  const available = Math.max(0, to - from - offset)
  const taken = limit < 0 ? available : Math.min(limit, available)
  if (taken === 0) return []
  if (!reverse) return withScores(zset.slice(from + offset, from + offset + taken), scores)
  return withScores(zset.slice(to - offset - taken, to - offset).reverse(), scores)
}

export const zremrangebyscore = (db: Db, argv: Argv): Reply => {
  const low = parseBound(argv[1])
  const high = parseBound(argv[2])
  const key = argv[0]
  const zset = zsetAt(db, key)
  if (zset === undefined) return 0
  const [from, to] = scoreRanks(zset, low, high)
  if (to === from) return 0
  for (const entry of zset.slice(from, to)) zset.remove(entry.member)
  settle(db, key, zset.size)
  return to - from
}

/** Removes the `count` lowest entries of `zset` (the highest, `max`), lowest first (highest first), and settles `key`. */
export const popEntries = (db: Db, key: string, zset: ZSet, max: boolean, count: number): Array<Scored> => {
  const popped = max ? zset.slice(Math.max(0, zset.size - count), zset.size).reverse() : zset.slice(0, count)
  for (const entry of popped) zset.remove(entry.member)
  settle(db, key, zset.size)
  return popped
}

/** ZPOPMIN and ZPOPMAX: a flat `[member, score, ...]` reply, empty for a missing key or a count of 0. */
export const zpop = (max: boolean) => (db: Db, argv: Argv): Reply => {
  if (argv.length > 2) fail(SYNTAX)
  const count = argv.length === 2 ? positive(argv[1]) : 1
  const key = argv[0]
  const zset = zsetAt(db, key)
  if (zset === undefined || count === 0) return []
  return withScores(popEntries(db, key, zset, max, count), true)
}

export const zcount = (db: Db, argv: Argv): Reply => {
  const low = parseBound(argv[1])
  const high = parseBound(argv[2])
  const zset = zsetAt(db, argv[0])
  if (zset === undefined) return 0
  const [from, to] = scoreRanks(zset, low, high)
  return to - from
}
