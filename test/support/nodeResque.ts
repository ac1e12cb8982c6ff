/**
 * node-resque as another Resque client of the test's Redis: its own ioredis connection under the test's
 * namespace (quit with the scope), and a plain `Queue` on it. node-resque needs a real server: tests that
 * use these run on the real backend only.
 */
import { Effect } from "effect"
import { Redis as IORedis } from "ioredis"
import { Queue as NodeResqueQueue } from "node-resque"
import { Redis } from "../../src/layers/Redis.ts"
import { redisUrl } from "./backends.ts"

/** node-resque's connection options: a fresh connection to the test's Redis, under the test's namespace. */
export const nodeResqueConnection = Effect.gen(function*() {
  const { keys } = yield* Redis
  const client = yield* Effect.acquireRelease(
    Effect.sync(() => new IORedis(redisUrl())),
    (client) => Effect.promise(() => client.quit()).pipe(Effect.ignore)
  )
  return { redis: client, namespace: keys.namespace }
})

/** Connects and starts a node-resque Worker or Scheduler, ended with the scope. */
export const runningInScope = <T extends { connect: () => Promise<unknown>; start: () => Promise<unknown>; end: () => Promise<unknown> }>(client: T) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      await client.connect()
      await client.start()
      return client
    }),
    (client) => Effect.promise(() => client.end())
  )

/** A plain node-resque Queue on a connection of its own, ended with the scope. */
export const plainQueue = Effect.gen(function*() {
  const queue = new NodeResqueQueue({ connection: yield* nodeResqueConnection })
  queue.on("error", () => {})
  yield* Effect.acquireRelease(Effect.promise(() => queue.connect()), () => Effect.promise(() => queue.end()))
  return queue
})
