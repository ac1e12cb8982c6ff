/**
 * The contract of a command of the in-memory store: it takes its arguments as text ({@link Argv}) and answers
 * a RESP2 {@link Reply} shaped as a Lua script sees it, or throws a {@link ReplyError} where Redis would reply
 * an error. This module sits below every other part of the store (the numbers, the keyspace and each command
 * family throw through {@link fail}), which is why it, not the public `MemoryStore.ts`, defines these types;
 * `MemoryStore.ts` re-exports them. The error texts here are the ones several families share; a text used by
 * one family stays with it.
 *
 * @since 0.2.0
 */

/** A RESP2 reply. */
export type Reply = string | number | null | ReadonlyArray<Reply>

/** The arguments of one command, after its name, as text. */
export type Argv = ReadonlyArray<string>

/**
 * An error reply. `message` starts with Redis's error code (`ERR`, `WRONGTYPE`, `NOSCRIPT`...).
 *
 * @category errors
 */
export class ReplyError extends Error {
  override readonly name = "ReplyError"
}

export const SYNTAX = "ERR syntax error"
export const NO_SUCH_KEY = "ERR no such key"

export const fail = (message: string): never => {
  throw new ReplyError(message)
}

export const wrongArity = (name: string): never => fail(`ERR wrong number of arguments for '${name}' command`)

export const invalidExpire = (name: string): never => fail(`ERR invalid expire time in '${name}' command`)
