/**
 * The keyspace of one in-memory store: the values by key, their expiry by the store's clock, the per-store
 * state some commands keep (SCAN cursors, SPOP's PRNG), and the write notifications `onWrite` hands out. Every
 * command family reads and writes keys through the functions here, which apply Redis's rules that hold for all
 * of them: a key whose time has come is gone (deleted on access, as Redis does lazily), a key of another type is
 * a WRONGTYPE error, an emptied container is deleted, and a write marks the key so its watchers are called
 * once the command returns. It knows no command; the public `MemoryStore.ts` dispatches to the families.
 *
 * @since 0.2.0
 */
import { fail } from "./MemoryStoreReply.ts"
import { List, type Value, ZSet } from "./MemoryStoreValues.ts"

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

/** One `onWrite` registration; `active` is cleared on unsubscribe so a pending call is skipped. */
interface Watcher {
  readonly listener: () => void
  active: boolean
}

export interface Db {
  readonly now: () => number
  readonly data: Map<string, Value>
  /** Expiry times in epoch ms, only for keys that have one (so an empty map skips every clock read). */
  readonly expires: Map<string, number>
  readonly watchers: Map<string, Set<Watcher>>
  /** The watchers of the keys the current command wrote, called once it returns. */
  pending: Set<Watcher> | undefined
  /** Whether the current command is a write (a key expired by a write counts as written). */
  writing: boolean
  /** SCAN cursors handed out: cursor → the last key that scan examined. */
  readonly cursors: Map<string, string>
  cursorSeq: number
  /** State of the PRNG SPOP picks with (deterministic per store, so tests are reproducible). */
  seed: number
}

/** Marks `key` written, if anyone watches it: a size check when nobody does, one Map lookup otherwise. */
export const touch = (db: Db, key: string): void => {
  if (db.watchers.size === 0) return
  const watching = db.watchers.get(key)
  if (watching === undefined) return
  const pending = db.pending ??= new Set()
  for (const watcher of watching) pending.add(watcher)
}

/** Deletes `key` and its expiry without marking it. */
export const drop = (db: Db, key: string): void => {
  db.data.delete(key)
  if (db.expires.size !== 0) db.expires.delete(key)
}

export const remove = (db: Db, key: string): void => {
  drop(db, key)
  touch(db, key)
}

/** The live value at `key`: a key whose time has come is deleted first (lazy expiry, as Redis on access). */
export const lookup = (db: Db, key: string): Value | undefined => {
  const value = db.data.get(key)
  if (value === undefined || db.expires.size === 0) return value
  const at = db.expires.get(key)
  if (at === undefined || at > db.now()) return value
  drop(db, key)
  if (db.writing) touch(db, key)
  return undefined
}

/** Deletes every key whose time has come, so listings never show one. */
export const purgeExpired = (db: Db): void => {
  if (db.expires.size === 0) return
  const now = db.now()
  for (const [key, at] of db.expires) {
    if (at <= now) drop(db, key)
  }
}

export const stringAt = (db: Db, key: string): string | undefined => {
  const value = lookup(db, key)
  return value === undefined || typeof value === "string" ? value : fail(WRONGTYPE)
}

export const listAt = (db: Db, key: string): List | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof List ? value : fail(WRONGTYPE)
}

export const setAt = (db: Db, key: string): Set<string> | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof Set ? value : fail(WRONGTYPE)
}

export const hashAt = (db: Db, key: string): Map<string, string> | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof Map ? value : fail(WRONGTYPE)
}

export const zsetAt = (db: Db, key: string): ZSet | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof ZSet ? value : fail(WRONGTYPE)
}

export const create = <A extends Value>(db: Db, key: string, value: A): A => {
  db.data.set(key, value)
  return value
}

/** After a container changed: an empty one is deleted (as Redis does), either way the key is marked written. */
export const settle = (db: Db, key: string, size: number): void => {
  if (size === 0) remove(db, key)
  else touch(db, key)
}

/** Stores a string value; its TTL is kept (a value change) or cleared (a SET). */
export const putString = (db: Db, key: string, value: string, keepTtl: boolean): void => {
  db.data.set(key, value)
  if (!keepTtl && db.expires.size !== 0) db.expires.delete(key)
  touch(db, key)
}

export const ttlOf = (db: Db, key: string): number => db.expires.get(key) ?? -1

/** An empty keyspace measuring expiry by `now`. */
export const makeDb = (now: () => number): Db => ({
  now,
  data: new Map(),
  expires: new Map(),
  watchers: new Map(),
  pending: undefined,
  writing: false,
  cursors: new Map(),
  cursorSeq: 0,
  seed: 0x2545f491
})

// ---------------------------------------------------------------------------------------------------------
// Write notifications
// ---------------------------------------------------------------------------------------------------------

/** Registers `listener` for writes to `keys`; returns the function that removes it (idempotent). */
export const watch = (db: Db, keys: ReadonlyArray<string>, listener: () => void): () => void => {
  const watcher: Watcher = { listener, active: true }
  for (const key of keys) {
    let watching = db.watchers.get(key)
    if (watching === undefined) {
      watching = new Set()
      db.watchers.set(key, watching)
    }
    watching.add(watcher)
  }
  return () => {
    if (!watcher.active) return
    watcher.active = false
    for (const key of keys) {
      const watching = db.watchers.get(key)
      if (watching === undefined) continue
      watching.delete(watcher)
      if (watching.size === 0) db.watchers.delete(key)
    }
  }
}

/** Calls the watchers a command marked, once each; a throwing listener does not stop the others (first error rethrown). */
export const notify = (db: Db): void => {
  const due = db.pending!
  db.pending = undefined
  let failure: { readonly error: unknown } | undefined
  for (const watcher of due) {
    if (!watcher.active) continue
    try {
      watcher.listener()
    } catch (error) {
      failure ??= { error }
    }
  }
  if (failure !== undefined) throw failure.error
}
