/**
 * The set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD and SPOP. SPOP picks with a small
 * seeded PRNG kept in the keyspace, so it is random but the same from run to run (tests are reproducible);
 * SMEMBERS answers in insertion order (Redis promises no order at all).
 *
 * @since 0.2.0
 */
import { create, remove, setAt, settle, touch, type Db } from "./MemoryStoreKeyspace.ts"
import { positive } from "./MemoryStoreNumbers.ts"
import { type Argv, fail, type Reply, SYNTAX } from "./MemoryStoreReply.ts"

export const sadd = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const set = setAt(db, key) ?? create(db, key, new Set<string>())
  const before = set.size
  for (let i = 1; i < argv.length; i++) set.add(argv[i])
  const added = set.size - before
  if (added > 0) touch(db, key)
  return added
}

export const srem = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const set = setAt(db, key)
  if (set === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (set.delete(argv[i])) removed++
  if (removed > 0) settle(db, key, set.size)
  return removed
}

export const smembers = (db: Db, argv: Argv): Reply => {
  const set = setAt(db, argv[0])
  return set === undefined ? [] : Array.from(set)
}

export const sismember = (db: Db, argv: Argv): Reply => (setAt(db, argv[0])?.has(argv[1]) ? 1 : 0)

export const smismember = (db: Db, argv: Argv): Reply => {
  const set = setAt(db, argv[0])
  return argv.slice(1).map((member) => (set?.has(member) ? 1 : 0))
}

export const scard = (db: Db, argv: Argv): Reply => setAt(db, argv[0])?.size ?? 0

/** mulberry32: a small PRNG, so SPOP is random but the same from run to run. */
const random = (db: Db, below: number): number => {
  db.seed = (db.seed + 0x6d2b79f5) | 0
  let t = db.seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below)
}

const pickMember = (db: Db, set: Set<string>): string => {
  let index = random(db, set.size)
  for (const member of set) if (index-- === 0) return member
  return fail("ERR empty set")
}

export const spop = (db: Db, argv: Argv): Reply => {
  if (argv.length > 2) fail(SYNTAX)
  const key = argv[0]
  if (argv.length === 1) {
    const set = setAt(db, key)
    if (set === undefined) return null
    const member = pickMember(db, set)
    set.delete(member)
    settle(db, key, set.size)
    return member
  }
  const count = positive(argv[1])
  const set = setAt(db, key)
  if (set === undefined || count === 0) return []
  const out: Array<string> = []
  if (count >= set.size) {
    out.push(...set)
    remove(db, key)
    return out
  }
  while (out.length < count) {
    const member = pickMember(db, set)
    set.delete(member)
    out.push(member)
  }
  touch(db, key)
  return out
}
