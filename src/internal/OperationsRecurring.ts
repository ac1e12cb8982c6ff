/**
 * Operations on recurring actions: their state, stop and start, each one round trip.
 *
 * Stopping must also stop the copy running now: the chain's marker is deleted, so that copy's continuation
 * (which goes on only while the marker holds its own token, `Recurring.ts`) ends the chain. The waiting copy,
 * queued or delayed, is found by its payload, which is deterministic given the marker's token.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { NotRecurring } from "../domain/Errors.ts"
import type * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import * as ActionEntry from "./ActionEntry.ts"
import { type ActionRef, type Context, nameOf } from "./Operations.ts"
import * as OperationsScripts from "./OperationsScripts.ts"
import * as Recurrence from "./Recurrence.ts"
import * as Recurring from "./Recurring.ts"

/** A registered recurring action as a chain the leader keeps alive (its inputs are the Schema's defaults). */
export const chainOf = (entry: ActionEntry.Recurring) =>
  Effect.map(entry.normalize({}), (inputs): Recurring.Chain => ({
    action: entry.name,
    queue: entry.queue,
    inputs,
    recurrence: entry.recurrence
  }))

/** The recurring operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context
  const recurringEntries = [...context.entries.values()].filter(ActionEntry.recurs)

  const recurring = Effect.gen(function*() {
    if (recurringEntries.length === 0) return []
    const replies = yield* redis.pipeline(
      recurringEntries.flatMap((e) => [["exists", keys.recurringStopped(e.name)], ["exists", keys.recurring(e.name)]] as const)
    )
    return recurringEntries.map((e, i): Ops.RecurringStatus => ({
      action: e.name,
      queue: e.queue,
      frequencyMs: e.frequencyMillis ?? 0,
      schedule: Recurrence.describe(e.recurrence),
      stopped: Resque.count(replies[2 * i]) > 0,
      live: Resque.count(replies[2 * i + 1]) > 0
    })).sort((a, b) => (a.action < b.action ? -1 : 1))
  })

  const recurringEntry = (action: ActionRef) =>
    Effect.flatMap(context.entry(nameOf(action)), (entry) =>
      ActionEntry.recurs(entry) ? Effect.succeed(entry) : Effect.fail(new NotRecurring({ action: entry.name })))

  const stopRecurrentAction = (action: ActionRef) =>
    Effect.gen(function*() {
      const entry = yield* recurringEntry(action)
      const chain = yield* chainOf(entry)
      // the copy's payload is deterministic given its token: split it around a placeholder token
      const placeholder = Recurring.newToken(0)
      const [payloadPrefix = "", payloadSuffix = ""] = Recurring.payload(chain.queue, chain.action, chain.inputs, placeholder).split(placeholder)
      const stopped = yield* redis.eval(OperationsScripts.stopRecurring, { keys, action: entry.name, queue: chain.queue, payloadPrefix, payloadSuffix })
      return { action: entry.name, ...stopped } satisfies Ops.RecurringStopped
    })

  const startRecurrentAction = (action: ActionRef) =>
    Effect.gen(function*() {
      const entry = yield* recurringEntry(action)
      const chain = yield* chainOf(entry)
      const now = yield* Clock.currentTimeMillis
      const [started] = yield* redis.eval(Recurring.ensure, { keys, starts: Recurring.starts([chain], now), now, clearStopped: true })
      return started === true
    })

  return { recurring, stopRecurrentAction, startRecurrentAction }
}
