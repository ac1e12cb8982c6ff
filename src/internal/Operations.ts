/**
 * What the operations API works with, shared by its parts (`OperationsQueues`, `OperationsFailed`,
 * `OperationsWorkers`, `OperationsRecurring`): the Redis seam, the key names, the registered actions and
 * what the worker middlewares record for a job completed outside a worker.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { UnknownAction } from "../domain/Errors.ts"
import * as Ops from "../domain/Operations.ts"
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

/**
 * Whether two JSON values are equal as values: objects by their keys whatever their order, arrays element by
 * element. Ruby Resque writes `{"class","args"}`, resque-scheduler `{"class","args","queue"}`, node-resque
 * and this runtime `{"class","queue","args"}`, and each client keeps its own key order inside the inputs: a
 * job is found by what it says, not by how it was spelled.
 */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  }
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  return keysA.length === keysB.length && keysA.every((key) => Object.hasOwn(b, key) && sameJson(Reflect.get(a, key), Reflect.get(b, key)))
}

/**
 * What finds a job of an action by its inputs: a stored payload matches when it names the action, its
 * inputs (without `_job`), put through the action's Schema as an enqueue would (defaults filled in, `"3"`
 * read as `3` where the Schema does), equal the wanted ones as values, and, with `forQueue` (a delayed job,
 * whose list does not say its queue), it is for that queue or names none (as Ruby's payloads do). Without
 * inputs every job of the action matches, registered or not.
 */
export const jobMatcher = (context: Context, action: ActionRef, options: { readonly inputs?: unknown; readonly forQueue?: string | undefined }) =>
  Effect.gen(function*() {
    const name = nameOf(action)
    const entry = options.inputs === undefined ? undefined : yield* context.entry(name)
    const wanted = entry === undefined ? undefined : yield* entry.normalize(options.inputs)
    return (raw: string): boolean => {
      const job = Ops.queuedJob(raw, "")
      if (job.action !== name) return false
      if (options.forQueue !== undefined && job.queue !== "" && job.queue !== options.forQueue) return false
      return entry === undefined || sameJson(entry.normalizeSync(job.inputs)?.value ?? job.inputs, wanted)
    }
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
