/**
 * What the operations API works with, shared by its parts (`OperationsQueues`, `OperationsFailed`,
 * `OperationsWorkers`, `OperationsRecurring`): the Redis seam, the key names, the registered actions and
 * what the worker middlewares record for a job completed outside a worker.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { UnknownAction } from "../domain/Errors.ts"
import * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Entry } from "./ActionEntry.ts"
import type { CompletedJob, Write } from "./Completion.ts"
import type { Connection } from "./Connection.ts"

/** An action named by its definition or by its name. @category models */
export type ActionRef = { readonly name: string } | string

/**
 * The context of the operations.
 *
 * @category models
 */
export interface Context {
  readonly redis: Connection
  readonly keys: Keys
  readonly entries: ReadonlyMap<string, Entry>
  readonly entry: (name: string) => Effect.Effect<Entry, UnknownAction>
  /** What the worker middlewares write for a job completed outside a worker (a stuck job failed by an operator). */
  readonly middlewareWrites: (completed: CompletedJob, now: number) => ReadonlyArray<Write>
}

/** The name of an action reference. */
export const nameOf = (action: ActionRef): string => (typeof action === "string" ? action : action.name)

/** Orders by `name`. */
export const byName = <A extends { readonly name: string }>(a: A, b: A): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

/** A reply as an array of strings. */
export const strings = (reply: unknown): ReadonlyArray<string> => (Array.isArray(reply) ? reply.map(String) : [])

/** The payload `enqueue` would write for this action and inputs (no metadata). */
export const payloadOf = (context: Context, action: ActionRef, inputs: unknown, queue?: string) =>
  Effect.gen(function*() {
    const entry = yield* context.entry(nameOf(action))
    const encoded = yield* entry.normalize(inputs)
    return Job.encode(queue ?? entry.queue, entry.name, encoded)
  })

/** Every key matching `pattern` (SCAN, 1000 at a time). */
export const scan = (context: Context, pattern: string) =>
  Effect.gen(function*() {
    const found: Array<string> = []
    let cursor = "0"
    for (let i = 0; i < 100_000; i++) {
      const [next, batch] = yield* context.redis.send<readonly [string, ReadonlyArray<string>]>("scan", cursor, "MATCH", pattern, "COUNT", 1000)
      found.push(...batch)
      cursor = next
      if (cursor === "0") break
    }
    return found
  })
