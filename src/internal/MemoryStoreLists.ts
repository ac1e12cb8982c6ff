/**
 * The list commands: pushes and pops at both ends (with counts), LLEN, LRANGE, LINDEX, LSET, LREM, LTRIM, LPOS,
 * LMOVE and RPOPLPUSH, over the deque of `MemoryStoreValues.ts`. Redis's order of checks is kept (arguments,
 * then the source's type, then the destination's), since it decides which error a bad call gets. The blocking
 * forms, which reuse the pops and the move, are in `MemoryStoreBlocking.ts`.
 *
 * @since 0.2.0
 */
import { create, listAt, remove, settle, touch, type Db } from "./MemoryStoreKeyspace.ts"
import { integer, positive } from "./MemoryStoreNumbers.ts"
import { type Argv, fail, NO_SUCH_KEY, type Reply, SYNTAX, wrongArity } from "./MemoryStoreReply.ts"
import { clampRange, List } from "./MemoryStoreValues.ts"

/** LPUSH/RPUSH and their X forms (which push only onto an existing list). */
export const push = (left: boolean, onlyExisting: boolean) => (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const existing = listAt(db, key)
  if (existing === undefined && onlyExisting) return 0
  const list = existing ?? create(db, key, new List())
  for (let i = 1; i < argv.length; i++) {
    if (left) list.pushLeft(argv[i])
    else list.pushRight(argv[i])
  }
  touch(db, key)
  return list.length
}

export const pop = (left: boolean) => (db: Db, argv: Argv): Reply => {
  if (argv.length > 2) wrongArity(left ? "lpop" : "rpop")
  const counted = argv.length === 2
  const count = counted ? positive(argv[1]) : 1
  const key = argv[0]
  const list = listAt(db, key)
  if (list === undefined) return null
  if (!counted) {
    const value = left ? list.popLeft() : list.popRight()
    settle(db, key, list.length)
    return value
  }
  if (count === 0) return []
  const out: Array<string> = []
  while (out.length < count && list.length > 0) out.push(left ? list.popLeft() : list.popRight())
  settle(db, key, list.length)
  return out
}

export const llen = (db: Db, argv: Argv): Reply => listAt(db, argv[0])?.length ?? 0

export const lrange = (db: Db, argv: Argv): Reply => {
  const start = integer(argv[1])
  const end = integer(argv[2])
  const list = listAt(db, argv[0])
  if (list === undefined) return []
  const range = clampRange(start, end, list.length)
  return range === undefined ? [] : list.slice(range[0], range[1] + 1)
}

export const lindex = (db: Db, argv: Argv): Reply => {
  const list = listAt(db, argv[0])
  if (list === undefined) return null
  let index = integer(argv[1])
  if (index < 0) index += list.length
  return index >= 0 && index < list.length ? list.at(index) : null
}

export const lset = (db: Db, argv: Argv): Reply => {
  const list = listAt(db, argv[0]) ?? fail(NO_SUCH_KEY)
  let index = integer(argv[1])
  if (index < 0) index += list.length
  if (index < 0 || index >= list.length) fail("ERR index out of range")
  list.put(index, argv[2])
  touch(db, argv[0])
  return "OK"
}

/** LREM: count > 0 removes the first `count` matches from the head, < 0 from the tail, 0 all of them. */
export const lrem = (db: Db, argv: Argv): Reply => {
  const count = integer(argv[1])
  const key = argv[0]
  const element = argv[2]
  const list = listAt(db, key)
  if (list === undefined) return 0
  const items = list.toArray()
  const limit = count === 0 ? Infinity : Math.abs(count)
  let removed = 0
  if (count >= 0) {
    const kept: Array<string> = []
    for (const item of items) {
      if (item === element && removed < limit) removed++
      else kept.push(item)
    }
    list.replace(kept)
  } else {
    const kept: Array<string> = []
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i] === element && removed < limit) removed++
      else kept.push(items[i])
    }
    list.replace(kept.reverse())
  }
  if (removed > 0) settle(db, key, list.length)
  return removed
}

export const ltrim = (db: Db, argv: Argv): Reply => {
  const start = integer(argv[1])
  const end = integer(argv[2])
  const key = argv[0]
  const list = listAt(db, key)
  if (list === undefined) return "OK"
  const range = clampRange(start, end, list.length)
  if (range === undefined) {
    remove(db, key)
  } else if (range[0] > 0 || range[1] < list.length - 1) {
    list.replace(list.slice(range[0], range[1] + 1))
    touch(db, key)
  }
  return "OK"
}

export const lpos = (db: Db, argv: Argv): Reply => {
  let rank = 1
  let count = -1
  let maxlen = 0
  for (let i = 2; i < argv.length; i++) {
    const option = argv[i].toUpperCase()
    const more = i + 1 < argv.length
    if (option === "RANK" && more) {
      rank = integer(argv[++i])
      if (rank === 0) {
        fail(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
        )
      }
    } else if (option === "COUNT" && more) count = positive(argv[++i], "ERR COUNT can't be negative")
    else if (option === "MAXLEN" && more) maxlen = positive(argv[++i], "ERR MAXLEN can't be negative")
    else fail(SYNTAX)
  }
  const list = listAt(db, argv[0])
  if (list === undefined) return count === -1 ? null : []
  const fromTail = rank < 0
  const skip = Math.abs(rank)
  const length = list.length
  const found: Array<number> = []
  let matches = 0
  for (let seen = 0; seen < length && (maxlen === 0 || seen < maxlen); seen++) {
    const index = fromTail ? length - 1 - seen : seen
    if (list.at(index) !== argv[1]) continue
    matches++
    if (matches < skip) continue
    found.push(index)
    if (count === -1 || (count > 0 && found.length >= count)) break
  }
  if (count === -1) return found.length === 0 ? null : found[0]
  return found
}

export const side = (text: string): boolean => {
  const upper = text.toUpperCase()
  return upper === "LEFT" ? true : upper === "RIGHT" ? false : fail(SYNTAX)
}

/** LMOVE/RPOPLPUSH: the destination's type is checked before popping; source = destination rotates. */
export const move = (db: Db, source: string, target: string, fromLeft: boolean, toLeft: boolean): Reply => {
  const from = listAt(db, source)
  if (from === undefined) return null
  const existing = listAt(db, target)
  const value = fromLeft ? from.popLeft() : from.popRight()
  const to = existing ?? create(db, target, new List())
  if (toLeft) to.pushLeft(value)
  else to.pushRight(value)
  settle(db, source, from.length)
  touch(db, target)
  return value
}

export const lmove = (db: Db, argv: Argv): Reply => {
  const fromLeft = side(argv[2])
  const toLeft = side(argv[3])
  return move(db, argv[0], argv[1], fromLeft, toLeft)
}

export const rpoplpush = (db: Db, argv: Argv): Reply => move(db, argv[0], argv[1], false, true)
