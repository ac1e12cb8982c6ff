/**
 * Numbers as Redis reads and writes them: 64-bit integer arguments (`string2ll`, and int64 arithmetic that
 * reports overflow), double scores (`string2d`, score range bounds as `zslParseRange` reads them, and the
 * `%.17g` replies), and the x87 80-bit `long double` INCRBYFLOAT, HINCRBYFLOAT and blocking timeouts compute
 * in. A JS number is not enough for any of them at the edges (integers past 2^53, printf's rounding of ties,
 * `long double` sums), so each is emulated exactly here, apart from the commands; a text Redis refuses is an
 * error reply with Redis's own message.
 *
 * @since 0.2.0
 */
import { fail } from "./MemoryStoreReply.ts"

export const NOT_INTEGER = "ERR value is not an integer or out of range"
export const NOT_FLOAT = "ERR value is not a valid float"
const NOT_POSITIVE = "ERR value is out of range, must be positive"
const BAD_RANGE = "ERR min or max is not a float"
const OVERFLOW = "ERR increment or decrement would overflow"
const FLOAT_OVERFLOW = "ERR increment would produce NaN or Infinity"

// ---------------------------------------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------------------------------------

/** Redis's `string2ll`: an optional `-`, no `+`, no spaces, no leading zeros (so no `-0`). */
const INTEGER = /^(?:0|-?[1-9][0-9]*)$/
export const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
/** 2^63 as a number: where expiry arithmetic (in int64 ms in Redis) overflows. */
export const INT64_LIMIT = 2 ** 63

/** A 64-bit integer argument, exactly: a number up to 15 digits (always safe), else a bigint; undefined if not one. */
export const parseInt64 = (text: string): number | bigint | undefined => {
  if (!INTEGER.test(text)) return undefined
  if (text.length <= 15) return Number(text)
  const value = BigInt(text)
  return value < INT64_MIN || value > INT64_MAX ? undefined : value
}

/** A 64-bit integer argument as a number (approximate beyond 2^53, which only matters for counters). */
export const integer = (text: string, message = NOT_INTEGER): number => {
  const value = parseInt64(text)
  return value === undefined ? fail(message) : Number(value)
}

/** A count that must not be negative (`getPositiveLongFromObjectOrReply`: one message for both failures). */
export const positive = (text: string, message = NOT_POSITIVE): number => {
  const value = parseInt64(text)
  return value === undefined || value < 0 ? fail(message) : Number(value)
}

/** A 64-bit integer argument, exactly, as {@link parseInt64} reads it; an error reply if it is not one. */
export const int64 = (text: string): number | bigint => parseInt64(text) ?? fail(NOT_INTEGER)

/**
 * `current + by` in Redis's int64 arithmetic, as the decimal text to store: plain numbers while both fit in
 * 2^53 (the common case), BigInt beyond, and an overflow past int64 is an error.
 */
export const addInt64 = (current: number | bigint, by: number | bigint): string => {
  if (typeof current === "number" && typeof by === "number") {
    const sum = current + by
    if (Number.isSafeInteger(sum)) return String(sum)
  }
  const sum = BigInt(current) + BigInt(by)
  return sum < INT64_MIN || sum > INT64_MAX ? fail(OVERFLOW) : String(sum)
}

// ---------------------------------------------------------------------------------------------------------
// Doubles (scores)
// ---------------------------------------------------------------------------------------------------------

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

export const double = (text: string, message = NOT_FLOAT): number => parseDouble(text) ?? fail(message)

/** One end of a score range. */
export interface Bound {
  readonly value: number
  readonly exclusive: boolean
}

/** C's `isspace`, which `strtod` skips. */
const C_SPACE = /^[ \t\n\v\f\r]+/

/**
 * A score range bound as `zslParseRange` reads it: `(` makes it exclusive, then bare `strtod`, which skips
 * leading spaces, reads `""` as 0 and saturates to ±inf (unlike {@link parseDouble}).
 */
export const parseBound = (text: string): Bound => {
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
export const formatDouble = (value: number): string => {
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

// ---------------------------------------------------------------------------------------------------------
// The x87 `long double`
// ---------------------------------------------------------------------------------------------------------

// INCRBYFLOAT and HINCRBYFLOAT compute in the x87 80-bit `long double` and print it with `%.17Lf`, which a JS
// double cannot reproduce (Redis answers 0.1 + 0.2 = "0.3" and 1000 + 0.1 = "1000.09999999999999998"), and
// blocking commands turn their timeout into ms in it, so these few functions emulate that type exactly with
// BigInt. They only run for those commands.

/** A finite `long double`: `(-1)^negative × significand × 2^exponent`, the significand 0 or in [2^63, 2^64). */
export interface Extended {
  readonly negative: boolean
  readonly significand: bigint
  readonly exponent: number
}

export const EXTENDED_ZERO: Extended = { negative: false, significand: 0n, exponent: 0 }
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
export const parseExtended = (text: string): Extended | number | undefined => {
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
export const incrementFloat = (current: Extended | number, increment: Extended | number): string => {
  if (typeof current === "number" || typeof increment === "number") return fail(FLOAT_OVERFLOW)
  const sum = addExtended(current, increment)
  return sum === undefined ? fail(FLOAT_OVERFLOW) : formatExtended(sum)
}

/**
 * `(long long) ceill(seconds * 1000.0)` for a `long double`, as Redis 7.0 turns a blocking timeout into ms:
 * the product rounded to a `long double`, then rounded up (so a timeout under 1 ms is 1 ms, not none). Past
 * int64 (infinity included) the conversion is invalid and x87 gives its "integer indefinite", INT64_MIN, so
 * such a timeout reads as negative.
 */
export const thousandfoldCeiling = (seconds: Extended | number): bigint => {
  if (typeof seconds === "number") return INT64_MIN
  if (seconds.significand === 0n) return 0n
  const product = roundExtended(seconds.negative, seconds.significand * 1000n, 1n, seconds.exponent)
  if (product === undefined) return INT64_MIN
  const { exponent, significand } = product
  const whole = exponent >= 0 ? significand << BigInt(exponent) : significand >> BigInt(-exponent)
  const exact = exponent >= 0 || whole << BigInt(-exponent) === significand
  const ceiling = product.negative ? -whole : exact ? whole : whole + 1n
  return ceiling >= TWO_63 || ceiling < INT64_MIN ? INT64_MIN : ceiling
}
