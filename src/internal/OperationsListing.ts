/**
 * What the paged operations share: bounds on a page, the short id of a stored string, and finding a listed
 * job again by its id and the position it was read at.
 *
 * A Redis list changes under a reader: workers pop queues from the head, retries and removals take records
 * out of the middle, new jobs and failures are appended at the tail. So entries only ever move towards the
 * head. A job is found again with one `LINDEX` at its listed position when nothing moved (the common case),
 * else with one `LRANGE` of the window just before it.
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import * as Effect from "effect/Effect"
import { JobNotFound } from "../domain/Errors.ts"
import type * as Ops from "../domain/Operations.ts"
import type { Connection } from "./Connection.ts"

/** Most entries a page returns. */
export const maxLimit = 500

/** How far towards the head a listed job may have moved and still be found. */
export const searchWindow = 2000

/** A page's offset and limit, made whole numbers within bounds. */
export const page = (offset: number | undefined, limit: number | undefined, fallbackLimit = 25) => ({
  offset: Math.max(0, Math.floor(Number.isFinite(offset) ? offset! : 0)),
  limit: Math.min(maxLimit, Math.max(1, Math.floor(Number.isFinite(limit) ? limit! : fallbackLimit)))
})

/** The short id of a stored string (16 hex digits of its SHA-1): enough to tell the entries of one list apart. */
export const idOf = (raw: string): string => createHash("sha1").update(raw).digest("hex").slice(0, 16)

/** Where a raw entry was listed. */
export const listedAt = (raw: string, position: number): Ops.ListedAt => ({ id: idOf(raw), position })

/**
 * The stored string of the entry listed at `at` in the list `key`, or {@link JobNotFound} (`list` names the
 * list in the error). One round trip when the entry did not move, two when it did.
 */
export const locate = (redis: Connection, key: string, list: string, at: Ops.ListedAt) =>
  Effect.gen(function*() {
    const position = Math.max(0, Math.floor(at.position))
    const here = yield* redis.send<string | null>("lindex", key, position)
    if (here !== null && idOf(here) === at.id) return here
    if (position === 0) return yield* new JobNotFound({ list, id: at.id })
    const from = Math.max(0, position - searchWindow)
    const window = yield* redis.send<ReadonlyArray<string>>("lrange", key, from, position - 1)
    // the closest match to the listed position: entries only move towards the head
    for (let i = window.length - 1; i >= 0; i--) {
      const raw = window[i]!
      if (idOf(raw) === at.id) return raw
    }
    return yield* new JobNotFound({ list, id: at.id })
  })
