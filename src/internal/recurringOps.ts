/**
 * Recurring-action operations of the `Tasks` service: state, stop and start, each one round trip.
 *
 * Stopping must also stop the copy running now: the chain's marker is deleted, so that copy's reschedule
 * (which continues only while the marker holds its own token, `recurring.ts`) ends the chain. The waiting
 * copy, queued or delayed, is found by its payload, which is deterministic given the marker's token.
 */
import { Effect } from "effect"
import { NotRecurring } from "../domain/Errors.ts"
import * as T from "../domain/Tasks.ts"
import type { ActionRegistry, Entry } from "../layers/ActionRegistry.ts"
import type { ActionRef } from "../layers/Actions.ts"
import { call, exec } from "../layers/Queue.ts"
import type { Redis } from "../layers/Redis.ts"
import * as Scripts from "./operations.ts"
import * as Recurring from "./recurring.ts"

const queueOf = (entry: Entry) => entry.action.task?.queue ?? "default"

/** Builds the recurring operations on the runtime's Redis and registry. */
export const make = (redis: Redis["Service"], registry: ActionRegistry["Service"]) => {
  const { client, keys } = redis
  // `start` queues the ensure script on a MULTI: it must be defined before the MULTI is created
  Recurring.ensure.define(client)
  const recurringEntries = [...registry.entries.values()].filter((e) => e.frequencyMillis !== undefined)

  const recurring = Effect.gen(function*() {
    if (recurringEntries.length === 0) return []
    const tx = client.pipeline()
    for (const e of recurringEntries) tx.exists(keys.recurringStopped(e.action.name)).exists(keys.recurring(e.action.name))
    const replies = yield* exec("read recurring actions", tx)
    return recurringEntries.map((e, i): T.RecurringStatus => ({
      action: e.action.name,
      queue: queueOf(e),
      frequencyMs: e.frequencyMillis ?? 0,
      stopped: T.count(replies[2 * i]) > 0,
      live: T.count(replies[2 * i + 1]) > 0
    })).sort((a, b) => (a.action < b.action ? -1 : 1))
  })

  const recurringEntry = (action: ActionRef) =>
    Effect.flatMap(registry.get(typeof action === "string" ? action : action.name), (entry) =>
      entry.frequencyMillis === undefined ? Effect.fail(new NotRecurring({ action: entry.action.name })) : Effect.succeed(entry))

  const stopRecurrentAction = (action: ActionRef) =>
    Effect.gen(function*() {
      const entry = yield* recurringEntry(action)
      const name = entry.action.name
      const inputs = yield* entry.normalize({})
      // the copy's payload is deterministic given its token: split it around a placeholder token
      const placeholder = Recurring.newToken()
      const [prefix = "", suffix = ""] = Recurring.payload(queueOf(entry), name, inputs, placeholder).split(placeholder)
      const reply = yield* call(`stop recurring ${name}`, () =>
        Scripts.stopRecurring.run(client, [
          keys.recurring(name),
          keys.recurringStopped(name),
          keys.queue(queueOf(entry)),
          keys.delayedSchedule
        ], [prefix, suffix, keys.key(""), keys.timestamps("")]))
      const [live, queued, delayed] = Array.isArray(reply) ? reply.map(T.count) : [0, 0, 0]
      return { action: name, wasLive: live === 1, queued: queued ?? 0, delayed: delayed ?? 0 }
    })

  const startRecurrentAction = (action: ActionRef) =>
    Effect.gen(function*() {
      const entry = yield* recurringEntry(action)
      const name = entry.action.name
      const inputs = yield* entry.normalize({})
      const queue = queueOf(entry)
      const token = Recurring.newToken()
      const tx = client.multi().del(keys.recurringStopped(name))
      Recurring.ensure.queue(client, tx, [keys.recurring(name), keys.recurringStopped(name), keys.queue(queue), keys.queues], [
        token,
        Recurring.payload(queue, name, inputs, token),
        queue,
        Recurring.markerTtlMillis(entry.frequencyMillis ?? 0)
      ])
      const replies = yield* exec(`start recurring ${name}`, tx)
      return replies[1] === 1
    })

  return { recurring, stopRecurrentAction, startRecurrentAction }
}
