/**
 * The seam between the runtime and a Redis backend: what every piece of the runtime may ask of Redis. Four
 * operations, each one round trip: a command, a transaction of commands, a pipeline of commands, and a
 * script. Nothing else of a client (no ioredis type, no "is this the mock" flag) crosses it, so the live and
 * the in-memory backends are interchangeable and every atomic step of the runtime is either one command,
 * one MULTI of plain commands, or one script.
 *
 * Replies are RESP2 values as a client decodes them: integers as numbers, bulk strings as strings, nil as
 * `null`, arrays; `HGETALL` answers an object of field to value (as ioredis gives it).
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import type { RedisError } from "../domain/Errors.ts"
import type * as MemoryStore from "./MemoryStore.ts"
import type { Script } from "./Script.ts"

/** A command argument; numbers travel as their decimal text. */
export type Arg = MemoryStore.Arg

/** A command and its arguments, e.g. `["rpush", key, payload]`. */
export type Command = readonly [command: string, ...args: ReadonlyArray<Arg>]

/**
 * A connection to Redis.
 *
 * @category models
 */
export interface Connection {
  /** Sends one command. `A` is the reply type the caller expects from it. */
  readonly send: <A = unknown>(command: string, ...args: ReadonlyArray<Arg>) => Effect.Effect<A, RedisError>
  /** Runs commands as one transaction (MULTI/EXEC); fails if the transaction or any command in it failed. */
  readonly multi: (commands: ReadonlyArray<Command>) => Effect.Effect<ReadonlyArray<unknown>, RedisError>
  /** Sends commands in one round trip, not atomically; fails if any of them failed. */
  readonly pipeline: (commands: ReadonlyArray<Command>) => Effect.Effect<ReadonlyArray<unknown>, RedisError>
  /** Runs a script (by its SHA1, sending its source once when the server does not know it) and decodes its reply. */
  readonly eval: <I, A>(script: Script<I, A>, input: I) => Effect.Effect<A, RedisError>
}
