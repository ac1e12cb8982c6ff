/**
 * An in-memory Redis keyspace: the data types, expiry and the subset of commands the runtime uses, run
 * synchronously in this process. It backs the in-memory Redis layer (`layers/RedisMemory.ts`) and runs the
 * JavaScript twin of every Lua script, so a twin calls `store.call(...)` exactly where its Lua calls
 * `redis.call(...)`, and gets the same reply shapes.
 *
 * Replies are RESP2 values as a Lua script sees them: integers are numbers, bulk strings are strings, a
 * missing value is `null`, multi-bulk replies are arrays (`HGETALL` is a flat `[field, value, ...]` array,
 * `ZRANGE ... WITHSCORES` a flat `[member, score, ...]` array with scores as strings). A command Redis would
 * refuse throws a {@link ReplyError} whose message starts like Redis's own (`ERR ...`, `WRONGTYPE ...`).
 *
 * Keys with a time to live expire by the store's clock (`now`), checked when a key is read or listed, so an
 * Effect `TestClock` given as the clock moves expiry too.
 *
 * @since 0.2.0
 */

/** An argument as a caller gives it; numbers are sent as their decimal text, as a Redis client does. */
export type Arg = string | number

/** A RESP2 reply. */
export type Reply = string | number | null | ReadonlyArray<Reply>

/**
 * An error reply. `message` starts with Redis's error code (`ERR`, `WRONGTYPE`, `NOSCRIPT`...).
 *
 * @category errors
 */
export class ReplyError extends Error {
  override readonly name = "ReplyError"
}

/**
 * The keyspace.
 *
 * @category models
 */
export interface MemoryStore {
  /** Runs one command atomically and returns its reply; throws {@link ReplyError} where Redis would reply an error. */
  readonly call: (command: string, ...args: ReadonlyArray<Arg>) => Reply
  /**
   * Calls `listener` after every command that wrote to one of `keys` (blocking reads wait on it). Returns the
   * function that removes the listener.
   */
  readonly onWrite: (keys: ReadonlyArray<string>, listener: () => void) => () => void
  /** Every live key with its type, value and remaining time to live, for tests that compare keyspaces. */
  readonly snapshot: () => ReadonlyArray<KeySnapshot>
}

/**
 * One key as {@link MemoryStore.snapshot} reports it: strings as text, lists in order, sets and hash fields
 * sorted, sorted sets by score then member, `pttl` -1 without expiry.
 *
 * @category models
 */
export type KeySnapshot =
  & { readonly key: string; readonly pttl: number }
  & (
    | { readonly type: "string"; readonly value: string }
    | { readonly type: "list"; readonly value: ReadonlyArray<string> }
    | { readonly type: "set"; readonly value: ReadonlyArray<string> }
    | { readonly type: "hash"; readonly value: ReadonlyArray<readonly [string, string]> }
    | { readonly type: "zset"; readonly value: ReadonlyArray<readonly [string, number]> }
  )

/**
 * Options of {@link make}.
 *
 * @category models
 */
export interface Options {
  /** The clock expiry is measured by, in epoch ms. */
  readonly now: () => number
}

// ---------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------

/** The arguments of one command, after its name, as text. */
type Argv = ReadonlyArray<string>

/** A stored value: strings are kept as JS strings (no wrapper), the containers as the classes below. */
type Value = string | List | Set<string> | Map<string, string> | ZSet

type TypeName = KeySnapshot["type"]

/**
 * A list as a deque: an array with a head offset, so popping from the left does not shift the array.
 * Popped slots are blanked (to free the string) and the array is compacted once more than half of it is dead;
 * pushing left into a full head re-allocates with as much room again, so both ends are O(1) amortised.
 */
class List {
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
interface Scored {
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
class ZSet {
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

const typeOf = (value: Value): TypeName =>
  typeof value === "string"
    ? "string"
    : value instanceof List
    ? "list"
    : value instanceof Set
    ? "set"
    : value instanceof Map
    ? "hash"
    : "zset"

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
const NOT_INTEGER = "ERR value is not an integer or out of range"
const NOT_FLOAT = "ERR value is not a valid float"
const NOT_POSITIVE = "ERR value is out of range, must be positive"
const SYNTAX = "ERR syntax error"
const NO_SUCH_KEY = "ERR no such key"
const BAD_RANGE = "ERR min or max is not a float"
const OVERFLOW = "ERR increment or decrement would overflow"
const FLOAT_OVERFLOW = "ERR increment would produce NaN or Infinity"

const fail = (message: string): never => {
  throw new ReplyError(message)
}

const wrongArity = (name: string): never => fail(`ERR wrong number of arguments for '${name}' command`)

const invalidExpire = (name: string): never => fail(`ERR invalid expire time in '${name}' command`)

/** Redis's message lists the first arguments, each quoted and followed by a space, up to about 128 characters. */
const unknownCommand = (command: string, argv: Argv): never => {
  let args = ""
  for (let i = 0; i < argv.length && args.length < 128; i++) args += `'${argv[i].slice(0, 128 - args.length)}' `
  return fail(`ERR unknown command '${command.slice(0, 128)}', with args beginning with: ${args}`)
}

// ---------------------------------------------------------------------------------------------------------
// Numbers as Redis reads and writes them
// ---------------------------------------------------------------------------------------------------------

/** Redis's `string2ll`: an optional `-`, no `+`, no spaces, no leading zeros (so no `-0`). */
const INTEGER = /^(?:0|-?[1-9][0-9]*)$/
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
/** 2^63 as a number: where expiry arithmetic (in int64 ms in Redis) overflows. */
const INT64_LIMIT = 2 ** 63

/** A 64-bit integer argument, exactly: a number up to 15 digits (always safe), else a bigint; undefined if not one. */
const parseInt64 = (text: string): number | bigint | undefined => {
  if (!INTEGER.test(text)) return undefined
  if (text.length <= 15) return Number(text)
  const value = BigInt(text)
  return value < INT64_MIN || value > INT64_MAX ? undefined : value
}

/** A 64-bit integer argument as a number (approximate beyond 2^53, which only matters for counters). */
const integer = (text: string, message = NOT_INTEGER): number => {
  const value = parseInt64(text)
  return value === undefined ? fail(message) : Number(value)
}

/** A count that must not be negative (`getPositiveLongFromObjectOrReply`: one message for both failures). */
const positive = (text: string, message = NOT_POSITIVE): number => {
  const value = parseInt64(text)
  return value === undefined || value < 0 ? fail(message) : Number(value)
}

/**
 * `current + by` in Redis's int64 arithmetic, as the decimal text to store: plain numbers while both fit in
 * 2^53 (the common case), BigInt beyond, and an overflow past int64 is an error.
 */
const addInt64 = (current: number | bigint, by: number | bigint): string => {
  if (typeof current === "number" && typeof by === "number") {
    const sum = current + by
    if (Number.isSafeInteger(sum)) return String(sum)
  }
  const sum = BigInt(current) + BigInt(by)
  return sum < INT64_MIN || sum > INT64_MAX ? fail(OVERFLOW) : String(sum)
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/
const INFINITE = /^([+-]?)inf(?:inity)?$/i
const NONZERO_MANTISSA = /^[^eE]*[1-9]/

/**
 * Redis's `string2d` (scores): `strtod` over the whole text, no leading space, no overflow to infinity and
 * no underflow to zero, no NaN; `inf`/`-inf` are scores.
 */
const parseDouble = (text: string): number | undefined => {
  if (DECIMAL.test(text)) {
    const value = Number(text)
    if (!Number.isFinite(value)) return undefined
    if (value === 0 && NONZERO_MANTISSA.test(text)) return undefined
    return value
  }
  const infinite = INFINITE.exec(text)
  return infinite === null ? undefined : infinite[1] === "-" ? -Infinity : Infinity
}

const double = (text: string, message = NOT_FLOAT): number => parseDouble(text) ?? fail(message)

/** One end of a score range. */
interface Bound {
  readonly value: number
  readonly exclusive: boolean
}

/** C's `isspace`, which `strtod` skips. */
const C_SPACE = /^[ \t\n\v\f\r]+/

/**
 * A score range bound as `zslParseRange` reads it: `(` makes it exclusive, then bare `strtod`, which skips
 * leading spaces, reads `""` as 0 and saturates to ±inf (unlike {@link parseDouble}).
 */
const parseBound = (text: string): Bound => {
  const exclusive = text.charCodeAt(0) === 40
  const body = exclusive ? text.slice(1) : text
  if (body === "-inf") return { value: -Infinity, exclusive }
  if (body === "+inf" || body === "inf") return { value: Infinity, exclusive }
  if (body === "") return { value: 0, exclusive }
  const trimmed = body.charCodeAt(0) > 32 ? body : body.replace(C_SPACE, "")
  if (DECIMAL.test(trimmed)) return { value: Number(trimmed) + 0, exclusive }
  const infinite = INFINITE.exec(trimmed)
  if (infinite === null) return fail(BAD_RANGE)
  return { value: infinite[1] === "-" ? -Infinity : Infinity, exclusive }
}

/**
 * A double as Redis 7.0 replies it (`%.17g`; `inf`/`-inf`): safe integers print as plain digits, others with
 * 17 significant digits and trailing zeros dropped, in exponent form below 1e-4 or from 1e17.
 */
const formatDouble = (value: number): string => {
  if (Number.isSafeInteger(value)) return Object.is(value, -0) ? "-0" : String(value)
  if (value === Infinity) return "inf"
  if (value === -Infinity) return "-inf"
  const [digits, exponent] = significantDigits(Math.abs(value))
  const sign = value < 0 ? "-" : ""
  if (exponent < -4 || exponent >= 17) {
    const significand = `${digits[0]}.${digits.slice(1)}`.replace(TRAILING_FRACTION_ZEROS, "")
    const magnitude = String(Math.abs(exponent)).padStart(2, "0")
    return `${sign}${significand}e${exponent < 0 ? "-" : "+"}${magnitude}`
  }
  const whole = exponent >= 0 ? digits.slice(0, exponent + 1) : "0"
  const fraction = (exponent >= 0 ? digits.slice(exponent + 1) : "0".repeat(-exponent - 1) + digits).replace(
    TRAILING_ZEROS,
    ""
  )
  return fraction === "" ? `${sign}${whole}` : `${sign}${whole}.${fraction}`
}

/**
 * The 17 significant digits of a positive finite double and the decimal exponent of the first, rounded as
 * glibc's printf does: to nearest, an exact tie to even. `toExponential` rounds a tie up, so when the value
 * has exactly 18 significant digits ending in 5 (checked exactly, with BigInt) the even neighbour is taken.
 */
const significantDigits = (value: number): readonly [string, number] => {
  const [longMantissa, longExponent] = value.toExponential(17).split("e")
  const long = longMantissa.replace(".", "")
  if (long[17] === "5" && Number(long[16]) % 2 === 0 && isExactly(value, long, Number(longExponent) - 17)) {
    return [long.slice(0, 17), Number(longExponent)]
  }
  const [mantissa, exponent] = value.toExponential(16).split("e")
  return [mantissa.replace(".", ""), Number(exponent)]
}

/** Whether the double `value` equals `digits × 10^power` exactly. */
const isExactly = (value: number, digits: string, power: number): boolean => {
  const [mantissa, exponent] = binaryParts(value)
  let left = mantissa
  let right = BigInt(digits)
  if (power >= 0) right *= 10n ** BigInt(power)
  else left *= 10n ** BigInt(-power)
  if (exponent >= 0) left <<= BigInt(exponent)
  else right <<= BigInt(-exponent)
  return left === right
}

/** A positive finite double as `mantissa × 2^exponent`, read from its IEEE 754 bits. */
const binaryParts = (value: number): readonly [bigint, number] => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, value)
  const bits = view.getBigUint64(0)
  const biased = Number((bits >> 52n) & 0x7ffn)
  const fraction = bits & ((1n << 52n) - 1n)
  return biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075]
}

const TRAILING_ZEROS = /0+$/
const TRAILING_FRACTION_ZEROS = /\.?0+$/

// INCRBYFLOAT and HINCRBYFLOAT compute in the x87 80-bit `long double` and print it with `%.17Lf`, which a JS
// double cannot reproduce (Redis answers 0.1 + 0.2 = "0.3" and 1000 + 0.1 = "1000.09999999999999998"), so
// these few functions emulate that type exactly with BigInt. They only run for those two commands.

/** A finite `long double`: `(-1)^negative × significand × 2^exponent`, the significand 0 or in [2^63, 2^64). */
interface Extended {
  readonly negative: boolean
  readonly significand: bigint
  readonly exponent: number
}

const EXTENDED_ZERO: Extended = { negative: false, significand: 0n, exponent: 0 }
const TWO_63 = 1n << 63n
const TWO_64 = 1n << 64n
/** Bit positions of the leading bit of the largest finite and the smallest normal `long double`. */
const EXTENDED_MAX_EXPONENT = 16383
const EXTENDED_MIN_EXPONENT = -16382
/** The longest text `string2ld` accepts (`MAX_LONG_DOUBLE_CHARS`). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024

const SIGN = /^[+-]/
const EXPONENT_MARK = /[eE]/
const LEADING_ZEROS = /^0+/

const bitLength = (n: bigint): number => n.toString(2).length

/**
 * Rounds the positive rational `numerator / denominator × 2^exponent` to a 64-bit significand, ties to even
 * (as the FPU does); undefined on overflow or underflow (subnormals are not modelled).
 */
const roundExtended = (
  negative: boolean,
  numerator: bigint,
  denominator: bigint,
  exponent: number
): Extended | undefined => {
  let shift = 64 - (bitLength(numerator) - bitLength(denominator))
  const quotient = (s: number): [bigint, bigint] => {
    const n = s >= 0 ? numerator << BigInt(s) : numerator
    const d = s >= 0 ? denominator : denominator << BigInt(-s)
    return [n / d, n % d * 2n - d]
  }
  let [q, excess] = quotient(shift)
  if (q >= TWO_64) [q, excess] = quotient(--shift)
  if (excess > 0n || (excess === 0n && (q & 1n) === 1n)) q += 1n
  if (q === TWO_64) {
    q = TWO_63
    shift--
  }
  const top = exponent - shift + 63
  if (top > EXTENDED_MAX_EXPONENT || top < EXTENDED_MIN_EXPONENT) return undefined
  return { negative, significand: q, exponent: exponent - shift }
}

/**
 * Redis's `string2ld` (`strtold` over the whole text, no leading space, no overflow, no underflow to zero, no
 * NaN): an {@link Extended}, `Infinity`/`-Infinity` for `inf`, or undefined when Redis would refuse the text.
 */
const parseExtended = (text: string): Extended | number | undefined => {
  if (text.length === 0 || text.length >= MAX_LONG_DOUBLE_CHARS) return undefined
  if (!DECIMAL.test(text)) {
    const infinite = INFINITE.exec(text)
    return infinite === null ? undefined : infinite[1] === "-" ? -Infinity : Infinity
  }
  const negative = text.startsWith("-")
  const unsigned = text.replace(SIGN, "")
  const [mantissa, exponentText = "0"] = unsigned.split(EXPONENT_MARK)
  const [whole, fraction = ""] = mantissa.split(".")
  const digits = (whole + fraction).replace(LEADING_ZEROS, "")
  if (digits === "") return { ...EXTENDED_ZERO, negative }
  const power = Number(exponentText) - fraction.length
  const magnitude = digits.length + power
  if (magnitude > 4934 || magnitude < -4952) return undefined
  const value = BigInt(digits)
  return power >= 0
    ? roundExtended(negative, value * 10n ** BigInt(power), 1n, 0)
    : roundExtended(negative, value, 10n ** BigInt(-power), 0)
}

/** `a + b` rounded to a `long double`; undefined when it overflows. */
const addExtended = (a: Extended, b: Extended): Extended | undefined => {
  if (a.significand === 0n) return b
  if (b.significand === 0n) return a
  const exponent = Math.min(a.exponent, b.exponent)
  const signed = (x: Extended) => (x.negative ? -1n : 1n) * (x.significand << BigInt(x.exponent - exponent))
  const sum = signed(a) + signed(b)
  if (sum === 0n) return EXTENDED_ZERO
  return roundExtended(sum < 0n, sum < 0n ? -sum : sum, 1n, exponent)
}

/** Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` (ties to even), trailing zeros and a bare `-0` dropped. */
const formatExtended = (x: Extended): string => {
  if (x.significand === 0n) return "0"
  const scaled = x.significand * 10n ** 17n
  let q: bigint
  if (x.exponent >= 0) {
    q = scaled << BigInt(x.exponent)
  } else {
    const d = 1n << BigInt(-x.exponent)
    q = scaled / d
    const twice = scaled % d * 2n
    if (twice > d || (twice === d && (q & 1n) === 1n)) q += 1n
  }
  const digits = q.toString().padStart(18, "0")
  const fraction = digits.slice(-17).replace(TRAILING_ZEROS, "")
  const body = fraction === "" ? digits.slice(0, -17) : `${digits.slice(0, -17)}.${fraction}`
  return x.negative && body !== "0" ? `-${body}` : body
}

/** `current + increment` as INCRBYFLOAT/HINCRBYFLOAT store it; `current` is already known to parse. */
const incrementFloat = (current: Extended | number, increment: Extended | number): string => {
  if (typeof current === "number" || typeof increment === "number") return fail(FLOAT_OVERFLOW)
  const sum = addExtended(current, increment)
  return sum === undefined ? fail(FLOAT_OVERFLOW) : formatExtended(sum)
}

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

// ---------------------------------------------------------------------------------------------------------
// Glob patterns (KEYS, SCAN MATCH)
// ---------------------------------------------------------------------------------------------------------

const STAR = 42
const QUESTION = 63
const OPEN = 91
const CLOSE = 93
const BACKSLASH = 92
const CARET = 94
const DASH = 45

/**
 * A port of Redis's `stringmatchlen` (with its quirks: an unclosed `[` runs to the end, `[a-]` is a range up to
 * `]`, reversed ranges are swapped), over UTF-16 code units where Redis matches bytes. `skip` is Redis's
 * `skipLongerMatches`, which stops retrying earlier stars once a later star failed everywhere.
 */
const globMatch = (pattern: string, p: number, text: string, s: number, skip: { longer: boolean }): boolean => {
  const pl = pattern.length
  const sl = text.length
  while (p < pl && s < sl) {
    const c = pattern.charCodeAt(p)
    if (c === STAR) {
      while (p + 1 < pl && pattern.charCodeAt(p + 1) === STAR) p++
      if (p + 1 === pl) return true
      for (; s < sl; s++) {
        if (globMatch(pattern, p + 1, text, s, skip)) return true
        if (skip.longer) return false
      }
      skip.longer = true
      return false
    } else if (c === QUESTION) {
      s++
    } else if (c === OPEN) {
      p++
      const not = p < pl && pattern.charCodeAt(p) === CARET
      if (not) p++
      const t = text.charCodeAt(s)
      let match = false
      for (;;) {
        if (p < pl && pattern.charCodeAt(p) === BACKSLASH && pl - p >= 2) {
          p++
          if (pattern.charCodeAt(p) === t) match = true
        } else if (p < pl && pattern.charCodeAt(p) === CLOSE) {
          break
        } else if (p >= pl) {
          p--
          break
        } else if (pl - p >= 3 && pattern.charCodeAt(p + 1) === DASH) {
          const a = pattern.charCodeAt(p)
          const b = pattern.charCodeAt(p + 2)
          if (t >= Math.min(a, b) && t <= Math.max(a, b)) match = true
          p += 2
        } else if (pattern.charCodeAt(p) === t) {
          match = true
        }
        p++
      }
      if (not) match = !match
      if (!match) return false
      s++
    } else {
      if (c === BACKSLASH && pl - p >= 2) p++
      if (pattern.charCodeAt(p) !== text.charCodeAt(s)) return false
      s++
    }
    p++
    if (s === sl) {
      while (p < pl && pattern.charCodeAt(p) === STAR) p++
      break
    }
  }
  return p === pl && s === sl
}

const GLOB_SPECIAL = /[*?[\\]/

/** A matcher for `pattern`, with the common shapes (`*`, a literal, `literal*`) answered without the matcher. */
const compileGlob = (pattern: string): (key: string) => boolean => {
  if (pattern === "*") return () => true
  const special = pattern.search(GLOB_SPECIAL)
  if (special === -1) return (key) => key === pattern
  if (special === pattern.length - 1 && pattern.charCodeAt(special) === STAR) {
    const prefix = pattern.slice(0, -1)
    return (key) => key.startsWith(prefix)
  }
  return (key) => globMatch(pattern, 0, key, 0, { longer: false })
}

/** Compiled patterns, shared by every store (a pattern means the same everywhere); cleared when it grows large. */
const globs = new Map<string, (key: string) => boolean>()

const globFor = (pattern: string): (key: string) => boolean => {
  let matcher = globs.get(pattern)
  if (matcher === undefined) {
    if (globs.size >= 256) globs.clear()
    matcher = compileGlob(pattern)
    globs.set(pattern, matcher)
  }
  return matcher
}

// ---------------------------------------------------------------------------------------------------------
// The keyspace
// ---------------------------------------------------------------------------------------------------------

/** One `onWrite` registration; `active` is cleared on unsubscribe so a pending call is skipped. */
interface Watcher {
  readonly listener: () => void
  active: boolean
}

interface Db {
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
const touch = (db: Db, key: string): void => {
  if (db.watchers.size === 0) return
  const watching = db.watchers.get(key)
  if (watching === undefined) return
  const pending = db.pending ??= new Set()
  for (const watcher of watching) pending.add(watcher)
}

/** Deletes `key` and its expiry without marking it. */
const drop = (db: Db, key: string): void => {
  db.data.delete(key)
  if (db.expires.size !== 0) db.expires.delete(key)
}

const remove = (db: Db, key: string): void => {
  drop(db, key)
  touch(db, key)
}

/** The live value at `key`: a key whose time has come is deleted first (lazy expiry, as Redis on access). */
const lookup = (db: Db, key: string): Value | undefined => {
  const value = db.data.get(key)
  if (value === undefined || db.expires.size === 0) return value
  const at = db.expires.get(key)
  if (at === undefined || at > db.now()) return value
  drop(db, key)
  if (db.writing) touch(db, key)
  return undefined
}

/** Deletes every key whose time has come, so listings never show one. */
const purgeExpired = (db: Db): void => {
  if (db.expires.size === 0) return
  const now = db.now()
  for (const [key, at] of db.expires) {
    if (at <= now) drop(db, key)
  }
}

const stringAt = (db: Db, key: string): string | undefined => {
  const value = lookup(db, key)
  return value === undefined || typeof value === "string" ? value : fail(WRONGTYPE)
}

const listAt = (db: Db, key: string): List | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof List ? value : fail(WRONGTYPE)
}

const setAt = (db: Db, key: string): Set<string> | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof Set ? value : fail(WRONGTYPE)
}

const hashAt = (db: Db, key: string): Map<string, string> | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof Map ? value : fail(WRONGTYPE)
}

const zsetAt = (db: Db, key: string): ZSet | undefined => {
  const value = lookup(db, key)
  return value === undefined || value instanceof ZSet ? value : fail(WRONGTYPE)
}

const create = <A extends Value>(db: Db, key: string, value: A): A => {
  db.data.set(key, value)
  return value
}

/** After a container changed: an empty one is deleted (as Redis does), either way the key is marked written. */
const settle = (db: Db, key: string, size: number): void => {
  if (size === 0) remove(db, key)
  else touch(db, key)
}

/** Stores a string value; its TTL is kept (a value change) or cleared (a SET). */
const putString = (db: Db, key: string, value: string, keepTtl: boolean): void => {
  db.data.set(key, value)
  if (!keepTtl && db.expires.size !== 0) db.expires.delete(key)
  touch(db, key)
}

const ttlOf = (db: Db, key: string): number => db.expires.get(key) ?? -1

/** Index sanitising shared by LRANGE, LTRIM and ZRANGE: `[start, end]` inclusive, or undefined when empty. */
const clampRange = (start: number, end: number, length: number): readonly [number, number] | undefined => {
  if (start < 0) start += length
  if (end < 0) end += length
  if (start < 0) start = 0
  if (start > end || start >= length) return undefined
  return [start, Math.min(end, length - 1)]
}

// ---------------------------------------------------------------------------------------------------------
// Commands: keys
// ---------------------------------------------------------------------------------------------------------

const del = (db: Db, argv: Argv): Reply => {
  let deleted = 0
  for (const key of argv) {
    if (lookup(db, key) !== undefined) {
      remove(db, key)
      deleted++
    }
  }
  return deleted
}

const exists = (db: Db, argv: Argv): Reply => {
  let found = 0
  for (const key of argv) if (lookup(db, key) !== undefined) found++
  return found
}

const type = (db: Db, argv: Argv): Reply => {
  const value = lookup(db, argv[0])
  return value === undefined ? "none" : typeOf(value)
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with their NX/XX/GT/LT options, in Redis's order of checks. */
const expireCommand = (name: string, seconds: boolean, relative: boolean) => (db: Db, argv: Argv): Reply => {
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

const ttlCommand = (millis: boolean) => (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  if (lookup(db, key) === undefined) return -2
  const at = db.expires.get(key)
  if (at === undefined) return -1
  const left = Math.max(0, at - db.now())
  return millis ? left : Math.floor((left + 500) / 1000)
}

const persist = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  if (lookup(db, key) === undefined || !db.expires.delete(key)) return 0
  touch(db, key)
  return 1
}

const keys = (db: Db, argv: Argv): Reply => {
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
const scan = (db: Db, argv: Argv): Reply => {
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

const dbsize = (db: Db): Reply => {
  purgeExpired(db)
  return db.data.size
}

const flush = (db: Db, argv: Argv): Reply => {
  if (argv.length > 1 || (argv.length === 1 && !["SYNC", "ASYNC"].includes(argv[0].toUpperCase()))) fail(SYNTAX)
  for (const key of db.watchers.keys()) if (db.data.has(key)) touch(db, key)
  db.data.clear()
  db.expires.clear()
  db.cursors.clear()
  return "OK"
}

const rename = (db: Db, argv: Argv): Reply => {
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

const ping = (_db: Db, argv: Argv): Reply => {
  if (argv.length > 1) wrongArity("ping")
  return argv.length === 0 ? "PONG" : argv[0]
}

const echo = (_db: Db, argv: Argv): Reply => argv[0]

// ---------------------------------------------------------------------------------------------------------
// Commands: strings
// ---------------------------------------------------------------------------------------------------------

const get = (db: Db, argv: Argv): Reply => stringAt(db, argv[0]) ?? null

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

const set = (db: Db, argv: Argv): Reply => {
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

const setnx = (db: Db, argv: Argv): Reply => setValue(db, argv[0], argv[1], { ...PLAIN, nx: true }, 1, 0)

const setex = (name: string, unit: ExpiryUnit) => (db: Db, argv: Argv): Reply =>
  setValue(db, argv[0], argv[2], { ...PLAIN, at: expiryAt(db, name, unit, argv[1]) }, "OK", null)

const getdel = (db: Db, argv: Argv): Reply => {
  const value = stringAt(db, argv[0])
  if (value === undefined) return null
  remove(db, argv[0])
  return value
}

const mget = (db: Db, argv: Argv): Reply =>
  argv.map((key) => {
    const value = lookup(db, key)
    return typeof value === "string" ? value : null
  })

const mset = (db: Db, argv: Argv): Reply => {
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

const int64 = (text: string): number | bigint => parseInt64(text) ?? fail(NOT_INTEGER)

const incr = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], 1)
const decr = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], -1)
const incrby = (db: Db, argv: Argv): Reply => incrementBy(db, argv[0], int64(argv[1]))

const decrby = (db: Db, argv: Argv): Reply => {
  const by = int64(argv[1])
  if (by === INT64_MIN) fail("ERR decrement would overflow")
  return incrementBy(db, argv[0], -by)
}

const incrbyfloat = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const current = stringAt(db, key)
  const value = current === undefined ? EXTENDED_ZERO : parseExtended(current) ?? fail(NOT_FLOAT)
  const increment = parseExtended(argv[1]) ?? fail(NOT_FLOAT)
  const next = incrementFloat(value, increment)
  putString(db, key, next, true)
  return next
}

const append = (db: Db, argv: Argv): Reply => {
  const next = (stringAt(db, argv[0]) ?? "") + argv[1]
  putString(db, argv[0], next, true)
  return byteLength(next)
}

const strlen = (db: Db, argv: Argv): Reply => byteLength(stringAt(db, argv[0]) ?? "")

// ---------------------------------------------------------------------------------------------------------
// Commands: lists
// ---------------------------------------------------------------------------------------------------------

/** LPUSH/RPUSH and their X forms (which push only onto an existing list). */
const push = (left: boolean, onlyExisting: boolean) => (db: Db, argv: Argv): Reply => {
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

const pop = (left: boolean) => (db: Db, argv: Argv): Reply => {
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

const llen = (db: Db, argv: Argv): Reply => listAt(db, argv[0])?.length ?? 0

const lrange = (db: Db, argv: Argv): Reply => {
  const start = integer(argv[1])
  const end = integer(argv[2])
  const list = listAt(db, argv[0])
  if (list === undefined) return []
  const range = clampRange(start, end, list.length)
  return range === undefined ? [] : list.slice(range[0], range[1] + 1)
}

const lindex = (db: Db, argv: Argv): Reply => {
  const list = listAt(db, argv[0])
  if (list === undefined) return null
  let index = integer(argv[1])
  if (index < 0) index += list.length
  return index >= 0 && index < list.length ? list.at(index) : null
}

const lset = (db: Db, argv: Argv): Reply => {
  const list = listAt(db, argv[0]) ?? fail(NO_SUCH_KEY)
  let index = integer(argv[1])
  if (index < 0) index += list.length
  if (index < 0 || index >= list.length) fail("ERR index out of range")
  list.put(index, argv[2])
  touch(db, argv[0])
  return "OK"
}

/** LREM: count > 0 removes the first `count` matches from the head, < 0 from the tail, 0 all of them. */
const lrem = (db: Db, argv: Argv): Reply => {
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

const ltrim = (db: Db, argv: Argv): Reply => {
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

const lpos = (db: Db, argv: Argv): Reply => {
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

const side = (text: string): boolean => {
  const upper = text.toUpperCase()
  return upper === "LEFT" ? true : upper === "RIGHT" ? false : fail(SYNTAX)
}

/** LMOVE/RPOPLPUSH: the destination's type is checked before popping; source = destination rotates. */
const move = (db: Db, source: string, target: string, fromLeft: boolean, toLeft: boolean): Reply => {
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

const lmove = (db: Db, argv: Argv): Reply => {
  const fromLeft = side(argv[2])
  const toLeft = side(argv[3])
  return move(db, argv[0], argv[1], fromLeft, toLeft)
}

const rpoplpush = (db: Db, argv: Argv): Reply => move(db, argv[0], argv[1], false, true)

// ---------------------------------------------------------------------------------------------------------
// Commands: sets
// ---------------------------------------------------------------------------------------------------------

const sadd = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const set = setAt(db, key) ?? create(db, key, new Set<string>())
  const before = set.size
  for (let i = 1; i < argv.length; i++) set.add(argv[i])
  const added = set.size - before
  if (added > 0) touch(db, key)
  return added
}

const srem = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const set = setAt(db, key)
  if (set === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (set.delete(argv[i])) removed++
  if (removed > 0) settle(db, key, set.size)
  return removed
}

const smembers = (db: Db, argv: Argv): Reply => {
  const set = setAt(db, argv[0])
  return set === undefined ? [] : Array.from(set)
}

const sismember = (db: Db, argv: Argv): Reply => (setAt(db, argv[0])?.has(argv[1]) ? 1 : 0)

const smismember = (db: Db, argv: Argv): Reply => {
  const set = setAt(db, argv[0])
  return argv.slice(1).map((member) => (set?.has(member) ? 1 : 0))
}

const scard = (db: Db, argv: Argv): Reply => setAt(db, argv[0])?.size ?? 0

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

const spop = (db: Db, argv: Argv): Reply => {
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

// ---------------------------------------------------------------------------------------------------------
// Commands: hashes
// ---------------------------------------------------------------------------------------------------------

const hset = (db: Db, argv: Argv): Reply => {
  if (argv.length % 2 === 0) wrongArity("hset")
  const key = argv[0]
  const hash = hashAt(db, key) ?? create(db, key, new Map<string, string>())
  const before = hash.size
  for (let i = 1; i < argv.length; i += 2) hash.set(argv[i], argv[i + 1])
  touch(db, key)
  return hash.size - before
}

const hsetnx = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const existing = hashAt(db, key)
  if (existing?.has(argv[1])) return 0
  const hash = existing ?? create(db, key, new Map<string, string>())
  hash.set(argv[1], argv[2])
  touch(db, key)
  return 1
}

const hget = (db: Db, argv: Argv): Reply => hashAt(db, argv[0])?.get(argv[1]) ?? null

const hmget = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return argv.slice(1).map((field) => hash?.get(field) ?? null)
}

const hgetall = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  const out: Array<string> = []
  if (hash !== undefined) for (const [field, value] of hash) out.push(field, value)
  return out
}

const hdel = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const hash = hashAt(db, key)
  if (hash === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (hash.delete(argv[i])) removed++
  if (removed > 0) settle(db, key, hash.size)
  return removed
}

const hexists = (db: Db, argv: Argv): Reply => (hashAt(db, argv[0])?.has(argv[1]) ? 1 : 0)
const hlen = (db: Db, argv: Argv): Reply => hashAt(db, argv[0])?.size ?? 0

const hkeys = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return hash === undefined ? [] : Array.from(hash.keys())
}

const hvals = (db: Db, argv: Argv): Reply => {
  const hash = hashAt(db, argv[0])
  return hash === undefined ? [] : Array.from(hash.values())
}

const hincrby = (db: Db, argv: Argv): Reply => {
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

const hincrbyfloat = (db: Db, argv: Argv): Reply => {
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

// ---------------------------------------------------------------------------------------------------------
// Commands: sorted sets
// ---------------------------------------------------------------------------------------------------------

const NAN_SCORE = "ERR resulting score is not a number (NaN)"

/** ZADD with NX/XX/GT/LT/CH/INCR, in Redis's order of checks (scores are all parsed before anything is added). */
const zadd = (db: Db, argv: Argv): Reply => {
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

const zincrby = (db: Db, argv: Argv): Reply => zadd(db, [argv[0], "INCR", argv[1], argv[2]])

const zrem = (db: Db, argv: Argv): Reply => {
  const key = argv[0]
  const zset = zsetAt(db, key)
  if (zset === undefined) return 0
  let removed = 0
  for (let i = 1; i < argv.length; i++) if (zset.remove(argv[i])) removed++
  if (removed > 0) settle(db, key, zset.size)
  return removed
}

const zscore = (db: Db, argv: Argv): Reply => {
  const score = zsetAt(db, argv[0])?.scores.get(argv[1])
  return score === undefined ? null : formatDouble(score)
}

const zcard = (db: Db, argv: Argv): Reply => zsetAt(db, argv[0])?.size ?? 0

const zrank = (db: Db, argv: Argv): Reply => {
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
const zrangeCommand = (byScoreOnly: boolean) => (db: Db, argv: Argv): Reply => {
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

const zremrangebyscore = (db: Db, argv: Argv): Reply => {
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

const zpopmin = (db: Db, argv: Argv): Reply => {
  if (argv.length > 2) fail(SYNTAX)
  const count = argv.length === 2 ? positive(argv[1]) : 1
  const key = argv[0]
  const zset = zsetAt(db, key)
  if (zset === undefined || count === 0) return []
  const popped = zset.slice(0, count)
  for (const entry of popped) zset.remove(entry.member)
  settle(db, key, zset.size)
  return withScores(popped, true)
}

const zcount = (db: Db, argv: Argv): Reply => {
  const low = parseBound(argv[1])
  const high = parseBound(argv[2])
  const zset = zsetAt(db, argv[0])
  if (zset === undefined) return 0
  const [from, to] = scoreRanks(zset, low, high)
  return to - from
}

// ---------------------------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------------------------

interface Command {
  readonly name: string
  /** Redis's arity, counting the command name: exact when positive, a minimum when negative. */
  readonly arity: number
  readonly write: boolean
  readonly run: (db: Db, argv: Argv) => Reply
}

/** By name, lower and upper case (so the usual spellings skip `toLowerCase`). */
const commands = new Map<string, Command>()

const define = (name: string, arity: number, write: boolean, run: (db: Db, argv: Argv) => Reply): void => {
  const command: Command = { name, arity, write, run }
  commands.set(name, command)
  commands.set(name.toUpperCase(), command)
}

define("del", -2, true, del)
define("exists", -2, false, exists)
define("type", 2, false, type)
define("expire", -3, true, expireCommand("expire", true, true))
define("pexpire", -3, true, expireCommand("pexpire", false, true))
define("expireat", -3, true, expireCommand("expireat", true, false))
define("pexpireat", -3, true, expireCommand("pexpireat", false, false))
define("ttl", 2, false, ttlCommand(false))
define("pttl", 2, false, ttlCommand(true))
define("persist", 2, true, persist)
define("keys", 2, false, keys)
define("scan", -2, false, scan)
define("dbsize", 1, false, dbsize)
define("flushall", -1, true, flush)
define("flushdb", -1, true, flush)
define("rename", 3, true, rename)
define("ping", -1, false, ping)
define("echo", 2, false, echo)

define("get", 2, false, get)
define("set", -3, true, set)
define("setnx", 3, true, setnx)
define("setex", 4, true, setex("setex", "EX"))
define("psetex", 4, true, setex("psetex", "PX"))
define("getdel", 2, true, getdel)
define("mget", -2, false, mget)
define("mset", -3, true, mset)
define("incr", 2, true, incr)
define("incrby", 3, true, incrby)
define("decr", 2, true, decr)
define("decrby", 3, true, decrby)
define("incrbyfloat", 3, true, incrbyfloat)
define("append", 3, true, append)
define("strlen", 2, false, strlen)

define("lpush", -3, true, push(true, false))
define("rpush", -3, true, push(false, false))
define("lpushx", -3, true, push(true, true))
define("rpushx", -3, true, push(false, true))
define("lpop", -2, true, pop(true))
define("rpop", -2, true, pop(false))
define("llen", 2, false, llen)
define("lrange", 4, false, lrange)
define("lindex", 3, false, lindex)
define("lset", 4, true, lset)
define("lrem", 4, true, lrem)
define("ltrim", 4, true, ltrim)
define("lpos", -3, false, lpos)
define("lmove", 5, true, lmove)
define("rpoplpush", 3, true, rpoplpush)

define("sadd", -3, true, sadd)
define("srem", -3, true, srem)
define("smembers", 2, false, smembers)
define("sismember", 3, false, sismember)
define("smismember", -3, false, smismember)
define("scard", 2, false, scard)
define("spop", -2, true, spop)

define("hset", -4, true, hset)
define("hsetnx", 4, true, hsetnx)
define("hget", 3, false, hget)
define("hmget", -3, false, hmget)
define("hgetall", 2, false, hgetall)
define("hdel", -3, true, hdel)
define("hexists", 3, false, hexists)
define("hlen", 2, false, hlen)
define("hkeys", 2, false, hkeys)
define("hvals", 2, false, hvals)
define("hincrby", 4, true, hincrby)
define("hincrbyfloat", 4, true, hincrbyfloat)

define("zadd", -4, true, zadd)
define("zrem", -3, true, zrem)
define("zscore", 3, false, zscore)
define("zcard", 2, false, zcard)
define("zincrby", 4, true, zincrby)
define("zrange", -4, false, zrangeCommand(false))
define("zrangebyscore", -4, false, zrangeCommand(true))
define("zremrangebyscore", 4, true, zremrangebyscore)
define("zpopmin", -2, true, zpopmin)
define("zcount", 4, false, zcount)
define("zrank", 3, false, zrank)

/** The arguments as text; the array itself when they already are (the common case, no copy). */
const asText = (args: ReadonlyArray<Arg>): Argv => {
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== "string") return args.map(String)
  }
  return args as Argv
}

/** Calls the watchers a command marked, once each; a throwing listener does not stop the others (first error rethrown). */
const notify = (db: Db): void => {
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

const run = (db: Db, command: string, args: ReadonlyArray<Arg>): Reply => {
  const spec = commands.get(command) ?? commands.get(command.toLowerCase())
  const argv = asText(args)
  if (spec === undefined) return unknownCommand(command, argv)
  const argc = argv.length + 1
  if (spec.arity > 0 ? argc !== spec.arity : argc < -spec.arity) wrongArity(spec.name)
  db.writing = spec.write
  try {
    return spec.run(db, argv)
  } finally {
    if (db.pending !== undefined) notify(db)
  }
}

const watch = (db: Db, keys: ReadonlyArray<string>, listener: () => void): () => void => {
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

const sortedStrings = (values: Iterable<string>): Array<string> => Array.from(values).sort()

const snapshotOf = (key: string, value: Value, pttl: number): KeySnapshot => {
  if (typeof value === "string") return { key, pttl, type: "string", value }
  if (value instanceof List) return { key, pttl, type: "list", value: value.toArray() }
  if (value instanceof Set) return { key, pttl, type: "set", value: sortedStrings(value) }
  if (value instanceof Map) {
    const fields = Array.from(value.entries()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return { key, pttl, type: "hash", value: fields }
  }
  return { key, pttl, type: "zset", value: value.entries().map((e) => [e.member, e.score] as const) }
}

const snapshot = (db: Db): ReadonlyArray<KeySnapshot> => {
  purgeExpired(db)
  const now = db.expires.size === 0 ? 0 : db.now()
  return sortedStrings(db.data.keys()).map((key) => {
    const at = db.expires.get(key)
    return snapshotOf(key, db.data.get(key)!, at === undefined ? -1 : at - now)
  })
}

/**
 * An empty keyspace.
 *
 * @category constructors
 */
export const make = (options: Options): MemoryStore => {
  const db: Db = {
    now: options.now,
    data: new Map(),
    expires: new Map(),
    watchers: new Map(),
    pending: undefined,
    writing: false,
    cursors: new Map(),
    cursorSeq: 0,
    seed: 0x2545f491
  }
  return {
    call: (command, ...args) => run(db, command, args),
    onWrite: (keys, listener) => watch(db, keys, listener),
    snapshot: () => snapshot(db)
  }
}
