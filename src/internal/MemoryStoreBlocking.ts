/**
 * The blocking commands BLPOP, BRPOP, BLMOVE, BZPOPMIN and BZPOPMAX, as Redis runs them where a client may not
 * block (inside MULTI, where Redis 7.0 lets them run; a Lua script may not call them at all): they never wait.
 * Each answers at once what it would answer as soon as data is there (the first non-empty key in argument
 * order: `[key, element]` for the list pops, `[key, member, score]` for the sorted-set pops, the moved element
 * for BLMOVE) and nil (`null`) where it would block. The store runs every command synchronously, so waiting is
 * left to the layer above it: on `null` it waits on `onWrite` for the same keys, then calls again, with the
 * time limit {@link timeoutMillis} reads. The timeout is validated as Redis validates it, before any key is
 * read, so a bad timeout is an error even when data is there.
 *
 * @since 0.2.0
 */
import { listAt, settle, type Db, zsetAt } from "./MemoryStoreKeyspace.ts"
import { move, side } from "./MemoryStoreLists.ts"
import { formatDouble, parseExtended, thousandfoldCeiling } from "./MemoryStoreNumbers.ts"
import { type Argv, fail, type Reply } from "./MemoryStoreReply.ts"
import { popEntries } from "./MemoryStoreSortedSets.ts"

/**
 * A blocking command's timeout in ms, 0 for no limit, read as Redis 7.0's `getTimeoutFromObjectOrReply` does:
 * seconds as a `long double` (`string2ld`, so no spaces, no NaN), times 1000 rounded up, an error if negative.
 * A timeout past int64 ms (`inf` included) converts to INT64_MIN in C, so it too is "negative"; one between
 * -0.001 and 0 rounds up to 0, no limit, and one under 1 ms up to 1 ms. (Redis 7.2 on refuses the huge ones as
 * "out of range" instead; the store follows 7.0, as it does elsewhere.)
 */
export const timeoutMillis = (text: string): number => {
  const seconds = parseExtended(text) ?? fail("ERR timeout is not a float or out of range")
  const millis = thousandfoldCeiling(seconds)
  return millis < 0n ? fail("ERR timeout is negative") : Number(millis)
}

/** BLPOP/BRPOP `key [key ...] timeout`: `[key, element]` from the first non-empty list; a wrong type on the way fails. */
export const blockingPop = (left: boolean) => (db: Db, argv: Argv): Reply => {
  const last = argv.length - 1
  timeoutMillis(argv[last])
  for (let i = 0; i < last; i++) {
    const key = argv[i]
    const list = listAt(db, key)
    if (list === undefined) continue
    const value = left ? list.popLeft() : list.popRight()
    settle(db, key, list.length)
    return [key, value]
  }
  return null
}

/** BLMOVE `source destination LEFT|RIGHT LEFT|RIGHT timeout`: LMOVE once the sides and the timeout are valid. */
export const blmove = (db: Db, argv: Argv): Reply => {
  const fromLeft = side(argv[2])
  const toLeft = side(argv[3])
  timeoutMillis(argv[4])
  return move(db, argv[0], argv[1], fromLeft, toLeft)
}

/** BZPOPMIN/BZPOPMAX `key [key ...] timeout`: `[key, member, score]` from the first non-empty sorted set. */
export const blockingZpop = (max: boolean) => (db: Db, argv: Argv): Reply => {
  const last = argv.length - 1
  timeoutMillis(argv[last])
  for (let i = 0; i < last; i++) {
    const key = argv[i]
    const zset = zsetAt(db, key)
    if (zset === undefined) continue
    const [entry] = popEntries(db, key, zset, max, 1)
    return [key, entry.member, formatDouble(entry.score)]
  }
  return null
}
