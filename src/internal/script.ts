/**
 * Lua scripts registered with ioredis `defineCommand`, which sends EVALSHA and falls back to EVAL once per
 * connection. Scripts avoid `cjson` (ioredis-mock's Lua lacks it) and never put nil inside a returned table
 * (real Redis truncates the table there; the mock returns false).
 */
import type { ChainableCommander, Redis } from "ioredis"

type ScriptCall = (...keysAndArgs: ReadonlyArray<string | number>) => Promise<unknown>

export interface Script {
  readonly name: string
  /** Runs the script on a client (one round trip), defining it on first use. */
  readonly run: (client: Redis, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => Promise<unknown>
  /** Defines the script on a client; needed before `client.multi()` / `pipeline()` if the chain will use it. */
  readonly define: (client: Redis) => void
  /** Queues the script on a pipeline or MULTI created after `define(client)`. */
  readonly queue: (
    client: Redis,
    chain: ChainableCommander,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => ChainableCommander
}

const defined = new WeakMap<Redis, Set<string>>()

const ensure = (client: Redis, name: string, numberOfKeys: number, lua: string) => {
  let names = defined.get(client)
  if (!names) {
    names = new Set()
    defined.set(client, names)
  }
  if (!names.has(name)) {
    client.defineCommand(name, { numberOfKeys, lua })
    names.add(name)
  }
}

const method = (target: object, name: string): ScriptCall => {
  const fn = Reflect.get(target, name) as ScriptCall
  return fn.bind(target)
}

/** Declares a script whose first `numberOfKeys` parameters are keys. */
export const make = (name: string, numberOfKeys: number, lua: string): Script => {
  const scriptName = `effectResque_${name}`
  return {
    name: scriptName,
    run: (client, keys, args) => {
      ensure(client, scriptName, numberOfKeys, lua)
      return method(client, scriptName)(...keys, ...args)
    },
    define: (client) => ensure(client, scriptName, numberOfKeys, lua),
    queue: (client, chain, keys, args) => {
      ensure(client, scriptName, numberOfKeys, lua)
      if (typeof Reflect.get(chain, scriptName) !== "function") {
        throw new Error(`script ${scriptName} was not defined on the client before this pipeline was made`)
      }
      method(chain, scriptName)(...keys, ...args)
      return chain
    }
  }
}
