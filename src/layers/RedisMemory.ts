/**
 * An in-memory Redis, so the whole runtime (queue, worker, scheduler, fan-out, operations) runs in tests and
 * demos without a server. Commands run on an in-process keyspace (`internal/MemoryStore.ts`) and scripts run
 * as their JavaScript twins, so a job costs microseconds, not a Lua VM. Each layer has a keyspace of its
 * own, dropped with the layer's scope.
 *
 * **Gotchas**
 *
 * - The data lives in this process only: two processes never share an in-memory Redis.
 * - Time to live follows the Effect `Clock` the layer is built with: under `TestClock`, keys expire when the
 *   test moves the clock.
 * - It cannot fail like a network (connection, AUTH and TLS behaviour need a real server).
 * - Blocking commands (`BZPOPMIN`, `BLPOP`, ...) wait for a write to their keys or their timeout, measured by
 *   the same `Clock`: an idle worker blocked on its wake-up marker costs nothing until a job is pushed.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { RedisError } from "../domain/Errors.ts"
import * as Keys from "../domain/Keys.ts"
import type { Arg, Command, Connection } from "../internal/Connection.ts"
import * as MemoryStore from "../internal/MemoryStore.ts"
import type { Script } from "../internal/Script.ts"
import { Redis } from "./Redis.ts"

/**
 * Options of the in-memory layer.
 *
 * @category models
 */
export interface Options {
  /** Key namespace (prefix), default `resque`. */
  readonly namespace?: string
}

/** `HGETALL` as a client decodes it: an object (the keyspace answers a flat array, as Lua sees it). */
const clientReply = (command: string, reply: MemoryStore.Reply): unknown => {
  if (!Array.isArray(reply) || command.toLowerCase() !== "hgetall") return reply
  const object: Record<string, unknown> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1]
  return object
}

/** Runs commands one after the other, as EXEC does: every command runs, the first error fails the call. */
const runAll = (store: MemoryStore.MemoryStore, op: string, commands: ReadonlyArray<Command>) =>
  Effect.suspend(() => {
    const values: Array<unknown> = []
    let error: unknown
    for (const [command, ...args] of commands) {
      try {
        values.push(clientReply(command, store.call(command, ...args)))
      } catch (cause) {
        error ??= cause
        values.push(null)
      }
    }
    return error === undefined ? Effect.succeed(values) : Effect.fail(new RedisError({ op, cause: error }))
  })

/** Commands that block until their keys get data (the keyspace answers them at once, as inside a script). */
const blocking: ReadonlySet<string> = new Set(["bzpopmin", "bzpopmax", "blpop", "brpop", "blmove"])

/** The keys a blocking command waits on; its timeout (seconds, 0: forever) is its last argument. */
const waitedKeys = (command: string, args: ReadonlyArray<Arg>): ReadonlyArray<string> =>
  (command === "blmove" ? args.slice(0, 1) : args.slice(0, -1)).map(String)

/** Waits for the next write to one of `keys`, or `millis` (by the Effect clock), whichever comes first. */
const nextWrite = (store: MemoryStore.MemoryStore, keys: ReadonlyArray<string>, millis: number | undefined) => {
  const written = Effect.callback<void>((resume) => {
    const stop = store.onWrite(keys, () => {
      stop()
      resume(Effect.void)
    })
    return Effect.sync(stop)
  })
  return millis === undefined ? written : Effect.raceFirst(written, Effect.sleep(millis))
}

/**
 * A blocking command: answered at once when its keys have data, else after the next write to them, or nil
 * when its timeout passes first.
 */
const block = <A>(store: MemoryStore.MemoryStore, command: string, args: ReadonlyArray<Arg>): Effect.Effect<A, RedisError> =>
  Effect.gen(function*() {
    const keys = waitedKeys(command, args)
    const seconds = Number(args[args.length - 1])
    const deadline = seconds > 0 ? (yield* Clock.currentTimeMillis) + seconds * 1000 : undefined
    while (true) {
      const reply = yield* Effect.try({ try: () => store.call(command, ...args), catch: (cause) => new RedisError({ op: command, cause }) })
      if (reply !== null) return reply as A
      const left = deadline === undefined ? undefined : deadline - (yield* Clock.currentTimeMillis)
      if (left !== undefined && left <= 0) return null as A
      yield* nextWrite(store, keys, left)
    }
  })

/** The seam on an in-memory keyspace. */
export const fromStore = (store: MemoryStore.MemoryStore): Connection => ({
  send: <A>(command: string, ...args: ReadonlyArray<Arg>) =>
    blocking.has(command.toLowerCase())
      ? block<A>(store, command.toLowerCase(), args)
      : Effect.try({
        try: () => clientReply(command, store.call(command, ...args)) as A,
        catch: (cause) => new RedisError({ op: command, cause })
      }),
  multi: (commands) => runAll(store, "MULTI", commands),
  pipeline: (commands) => runAll(store, "pipeline", commands),
  eval: <I, A>(script: Script<I, A>, input: I) =>
    Effect.try({
      try: () => {
        const { keys, args } = script.encode(input)
        return script.decode(script.twin(store, keys, args.map(String)))
      },
      catch: (cause) => new RedisError({ op: `script ${script.name}`, cause })
    })
})

/**
 * A fresh in-memory keyspace and the Redis service on it.
 *
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Redis["Service"]> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const connection = fromStore(MemoryStore.make({ now: () => clock.currentTimeMillisUnsafe() }))
    return Redis.of({
      ...connection,
      keys: Keys.make(options.namespace ?? "resque"),
      // one process, one keyspace: a connection of one's own is the same keyspace
      connect: Effect.succeed(connection)
    })
  })

/**
 * The in-memory Redis layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis> => Layer.effect(Redis, make(options))
