/**
 * The containers the in-memory store keeps behind a key, as data structures with no Redis semantics of their
 * own: {@link List}, a deque with O(1) amortised pushes and pops at both ends, and {@link ZSet}, a sorted set
 * kept in sorted chunks so an insert or a removal anywhere moves one chunk, not the whole set. Sets and hashes
 * are plain `Set`/`Map`, strings plain strings. Commands decide what to do with a value (types, errors,
 * replies); this module only holds the elements in Redis's order, which is why it imports nothing.
 *
 * @since 0.2.0
 */

/**
 * A list as a deque: an array with a head offset, so popping from the left does not shift the array.
 * Popped slots are blanked (to free the string) and the array is compacted once more than half of it is dead;
 * pushing left into a full head re-allocates with as much room again, so both ends are O(1) amortised.
 */
export class List {
  items: Array<string> = []
  head = 0

  get length(): number {
    return this.items.length - this.head
  }

  at(index: number): string {
    return this.items[this.head + index]
  }

  put(index: number, value: string): void {
    this.items[this.head + index] = value
  }

  pushRight(value: string): void {
    this.items.push(value)
  }

  pushLeft(value: string): void {
    if (this.head === 0) this.growLeft()
    this.head--
    this.items[this.head] = value
  }

  popLeft(): string {
    const value = this.items[this.head]
    this.items[this.head] = ""
    this.head++
    if (this.head >= 32 && this.head * 2 >= this.items.length) this.replace(this.items.slice(this.head))
    return value
  }

  popRight(): string {
    return this.items.pop()!
  }

  /** The elements at indexes `[from, to)`. */
  slice(from: number, to: number): Array<string> {
    return this.items.slice(this.head + from, this.head + to)
  }

  toArray(): Array<string> {
    return this.items.slice(this.head)
  }

  replace(items: Array<string>): void {
    this.items = items
    this.head = 0
  }

  private growLeft(): void {
    const room = Math.max(16, this.length)
    const grown = new Array<string>(room + this.length)
    grown.fill("", 0, room)
    for (let i = 0; i < this.length; i++) grown[room + i] = this.items[this.head + i]
    this.items = grown
    this.head = room
  }
}

/** One member of a sorted set with its score. */
export interface Scored {
  readonly member: string
  readonly score: number
}

/** Redis's order of sorted-set entries: by score, then by member. */
const precedes = (entry: Scored, score: number, member: string): boolean =>
  entry.score < score || (entry.score === score && entry.member < member)

/** The most entries a chunk of a {@link ZSet} holds before it is split in two. */
const CHUNK_SIZE = 512

/**
 * A sorted set: a member → score map, plus the entries in order as a list of sorted chunks (each at most
 * {@link CHUNK_SIZE}), so inserting or removing anywhere moves at most one chunk instead of the whole set, and
 * ranks cost a walk over the chunks, not the entries.
 */
export class ZSet {
  readonly scores = new Map<string, number>()
  private chunks: Array<Array<Scored>> = []

  get size(): number {
    return this.scores.size
  }

  /** Adds `member`, which must not be in the set; -0 is stored as 0 (as Redis's listpack does). */
  insert(member: string, score: number): void {
    score += 0
    this.scores.set(member, score)
    const entry: Scored = { member, score }
    const chunks = this.chunks
    if (chunks.length === 0) {
      chunks.push([entry])
      return
    }
    let [c, i] = this.locate((e) => precedes(e, score, member))
    if (c === chunks.length) {
      c--
      i = chunks[c].length
    }
    const chunk = chunks[c]
    if (i === chunk.length) chunk.push(entry)
    else chunk.splice(i, 0, entry)
    if (chunk.length > CHUNK_SIZE) chunks.splice(c + 1, 0, chunk.splice(CHUNK_SIZE / 2))
  }

  /** Removes `member`; false when it is not in the set. */
  remove(member: string): boolean {
    const score = this.scores.get(member)
    if (score === undefined) return false
    this.scores.delete(member)
    const [c, i] = this.locate((e) => precedes(e, score, member))
    const chunk = this.chunks[c]
    if (i === 0) chunk.shift()
    else chunk.splice(i, 1)
    if (chunk.length === 0) this.chunks.splice(c, 1)
    return true
  }

  /** The 0-based rank of `member`, which must be in the set. */
  rank(member: string, score: number): number {
    return this.count((e) => precedes(e, score, member))
  }

  /** How many entries have a score below `score` (or not above it, when `inclusive`). */
  below(score: number, inclusive: boolean): number {
    return inclusive ? this.count((e) => e.score <= score) : this.count((e) => e.score < score)
  }

  /** The entries at ranks `[from, to)`, in order. */
  slice(from: number, to: number): Array<Scored> {
    const out: Array<Scored> = []
    let offset = 0
    for (const chunk of this.chunks) {
      if (offset >= to) break
      const end = offset + chunk.length
      if (end > from) {
        for (let i = Math.max(0, from - offset); i < chunk.length && offset + i < to; i++) out.push(chunk[i])
      }
      offset = end
    }
    return out
  }

  entries(): Array<Scored> {
    return this.chunks.flat()
  }

  /** How many entries satisfy `before`, which must hold for a prefix of the order and fail after it. */
  private count(before: (entry: Scored) => boolean): number {
    const [c, i] = this.locate(before)
    let n = i
    for (let k = 0; k < c; k++) n += this.chunks[k].length
    return n
  }

  /** The chunk and offset of the first entry that fails `before` (`[chunks.length, 0]` past the end). */
  private locate(before: (entry: Scored) => boolean): [number, number] {
    const chunks = this.chunks
    let lo = 0
    let hi = chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]
      if (before(chunk[chunk.length - 1])) lo = mid + 1
      else hi = mid
    }
    if (lo === chunks.length) return [lo, 0]
    const chunk = chunks[lo]
    let a = 0
    let b = chunk.length
    while (a < b) {
      const mid = (a + b) >>> 1
      if (before(chunk[mid])) a = mid + 1
      else b = mid
    }
    return [lo, a]
  }
}

/** A stored value: strings are kept as JS strings (no wrapper), the containers as the classes above. */
export type Value = string | List | Set<string> | Map<string, string> | ZSet

/** The name of a value's type. */
export type TypeName = "string" | "list" | "set" | "hash" | "zset"

/** The type of a value, as TYPE and SCAN's TYPE filter name it. */
export const typeOf = (value: Value): TypeName =>
  typeof value === "string"
    ? "string"
    : value instanceof List
    ? "list"
    : value instanceof Set
    ? "set"
    : value instanceof Map
    ? "hash"
    : "zset"

/** Index sanitising shared by LRANGE, LTRIM and ZRANGE: `[start, end]` inclusive, or undefined when empty. */
export const clampRange = (start: number, end: number, length: number): readonly [number, number] | undefined => {
  if (start < 0) start += length
  if (end < 0) end += length
  if (start < 0) start = 0
  if (start > end || start >= length) return undefined
  return [start, Math.min(end, length - 1)]
}
