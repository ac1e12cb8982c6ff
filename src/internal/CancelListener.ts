/**
 * How a worker pool hears that a job it runs is cancelled, in this process or another. `cancel` finds the
 * worker running the job (its working-on record) and pushes the job's id onto that worker's cancel list
 * (`Keys.cancel`); the pool's listener blocks on the lists of all its slots (`BLPOP`, on a connection of its
 * own) and interrupts the job's fiber, which then ends as {@link JobCancelled}.
 *
 * Only tracked jobs run in a fiber of their own that a cancel can interrupt, and the listener listens only
 * while such a job runs: a pool that runs none opens no connection and sends nothing, and one that does sends
 * one `BLPOP` per second of waiting at most (its timeout), answered at once when a cancel arrives.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type { RedisError } from "../domain/Errors.ts"
import { JobCancelled } from "../domain/JobControl.ts"
import type { Connection } from "./Connection.ts"

/** A pool's cancellable jobs and the listener that interrupts them. @category models */
export interface CancelListener {
  /**
   * Runs a tracked job in a fiber of its own that a cancel for `id` interrupts: the run then fails with
   * {@link JobCancelled}. Interrupting the caller (a shutdown) interrupts the job too.
   */
  readonly run: <A, E>(id: string, effect: Effect.Effect<A, E>) => Effect.Effect<A, E | JobCancelled>
}

interface Running {
  readonly fiber: Fiber.Fiber<unknown, unknown>
  cancelled: boolean
}

/** How long one `BLPOP` waits, in seconds: while a tracked job runs, the listener sends one command a second at most. */
const listenSeconds = 1

/**
 * The listener of a pool whose slots are named `workers`, listening on their cancel lists `cancelKeys`.
 * `connect` opens its connection (in the pool's scope) the first time a tracked job runs.
 *
 * @category constructors
 */
export const make = (options: {
  readonly cancelKeys: ReadonlyArray<string>
  readonly connect: Effect.Effect<Connection, RedisError, Scope.Scope>
}) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const running = new Map<string, Running>()
    let wakeListener: (() => void) | undefined
    let started = false

    /** Resumes once a cancellable job runs. */
    const someRunning = Effect.callback<void>((resume) => {
      if (running.size > 0) return resume(Effect.void)
      wakeListener = () => {
        wakeListener = undefined
        resume(Effect.void)
      }
    })

    const interrupt = (reply: unknown) => {
      if (!Array.isArray(reply)) return
      const entry = running.get(String(reply[1]))
      if (entry === undefined) return
      entry.cancelled = true
      entry.fiber.interruptUnsafe()
    }

    const listen = (connection: Connection) =>
      Effect.forever(
        Effect.andThen(
          someRunning,
          connection.send("blpop", ...options.cancelKeys, listenSeconds).pipe(
            Effect.map(interrupt),
            // Redis unreachable: the job runs on; try again after a pause
            Effect.catch(() => Effect.sleep(listenSeconds * 1000))
          )
        )
      )

    const start = Effect.suspend(() => {
      if (started) return Effect.void
      started = true
      return options.connect.pipe(
        Effect.provideService(Scope.Scope, scope),
        Effect.tapError((error) => Effect.logWarning("no connection for cancel requests: running jobs cannot be cancelled", error)),
        Effect.flatMap((connection) => listen(connection)),
        Effect.ignore,
        Effect.forkIn(scope),
        Effect.asVoid
      )
    })

    const run = <A, E>(id: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E | JobCancelled> =>
      Effect.andThen(start, Effect.flatMap(Effect.forkChild(effect), (fiber) => {
        const entry: Running = { fiber, cancelled: false }
        running.set(id, entry)
        wakeListener?.()
        return Fiber.await(fiber).pipe(
          Effect.onInterrupt(() => Fiber.interrupt(fiber)),
          Effect.ensuring(Effect.sync(() => {
            if (running.get(id) === entry) running.delete(id)
          })),
          Effect.flatMap((exit): Effect.Effect<A, E | JobCancelled> =>
            entry.cancelled && Exit.hasInterrupts(exit) ? Effect.fail(new JobCancelled({ id })) : exit
          )
        )
      }))

    return { run } satisfies CancelListener
  })
