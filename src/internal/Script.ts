/**
 * Lua scripts as typed values. A script is written once for Redis (its Lua names its inputs first:
 * `local working = KEYS[1]`), takes a typed input that it turns into KEYS and ARGV, decodes its reply into a
 * typed output, and carries a JavaScript twin that the in-memory backend runs instead of the Lua: the twin
 * calls the in-memory keyspace exactly where the Lua calls `redis.call`, and answers what Redis would. A
 * conformance test runs every script and its twin from the same seeded state and compares replies and the
 * resulting keyspaces.
 *
 * Backends run a script by its SHA1 (`EVALSHA`) and send its source only when the server answers NOSCRIPT, so
 * there is nothing to load or define before use, on any connection.
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import type { Arg, Reply } from "./MemoryStore.ts"

/** What a twin may call: the in-memory keyspace's `call`, as `redis.call` in Lua. */
export interface ScriptRedis {
  readonly call: (command: string, ...args: ReadonlyArray<Arg>) => Reply
}

/**
 * A script taking `Input` and answering `Output`.
 *
 * @category models
 */
export interface Script<in Input, out Output> {
  readonly name: string
  readonly lua: string
  readonly sha1: string
  /** The script's KEYS and ARGV for an input. */
  readonly encode: (input: Input) => { readonly keys: ReadonlyArray<string>; readonly args: ReadonlyArray<Arg> }
  /** The typed output of a reply. */
  readonly decode: (reply: unknown) => Output
  /** The JavaScript twin: same KEYS and ARGV (as strings, as Lua sees them), same reply. */
  readonly twin: (redis: ScriptRedis, keys: ReadonlyArray<string>, args: ReadonlyArray<string>) => Reply
}

/**
 * Declares a script.
 *
 * @category constructors
 */
export const make = <Input, Output>(options: {
  readonly name: string
  readonly lua: string
  readonly encode: (input: Input) => { readonly keys: ReadonlyArray<string>; readonly args: ReadonlyArray<Arg> }
  readonly decode: (reply: unknown) => Output
  readonly twin: (redis: ScriptRedis, keys: ReadonlyArray<string>, args: ReadonlyArray<string>) => Reply
}): Script<Input, Output> => ({
  ...options,
  sha1: createHash("sha1").update(options.lua).digest("hex")
})

/** Lua's view of a missing value: `redis.call` answers false for nil, which a script may return as nil. */
export const isNil = (reply: Reply): reply is null => reply === null

// ---------------------------------------------------------------------------------------------------------
// reply readers shared by decoders
// ---------------------------------------------------------------------------------------------------------

/** A reply as a number (integer replies, numeric strings); 0 when it is neither. */
export const toNumber = (reply: unknown): number => {
  if (typeof reply === "number") return reply
  if (typeof reply === "string") {
    const n = Number(reply)
    return Number.isFinite(n) ? n : 0
  }
  return 0
}

/** A reply as a string, or null when it is nil. */
export const toStringOrNull = (reply: unknown): string | null =>
  typeof reply === "string" ? reply : typeof reply === "number" ? String(reply) : null

/** A reply as an array of strings (non-string items dropped). */
export const toStrings = (reply: unknown): ReadonlyArray<string> =>
  Array.isArray(reply) ? reply.flatMap((item) => (typeof item === "string" ? [item] : typeof item === "number" ? [String(item)] : [])) : []

/** A reply as an array (empty when it is not one). */
export const toArray = (reply: unknown): ReadonlyArray<unknown> => (Array.isArray(reply) ? reply : [])
