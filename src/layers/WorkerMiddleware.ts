/**
 * Worker middleware: code that runs as part of every job's completion. A middleware adds Redis commands to
 * the job's completion transaction, so whatever it records (fan-out results, per-action stats) lands in the
 * same round trip and atomically with the job's own bookkeeping: there is no window where a job is counted
 * as done but its result is not recorded.
 *
 * @since 0.1.0
 */
import { Context } from "effect"
import type { ChainableCommander, Redis as IORedis } from "ioredis"
import { fanOutRecorder } from "../internal/fanOutRecord.ts"
import type { Script } from "../internal/script.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Outcome } from "../domain/Outcome.ts"
import type { ParsedJob } from "../domain/Payload.ts"

/**
 * A job as it completes.
 *
 * @category models
 */
export interface CompletedJob {
  readonly job: ParsedJob
  readonly outcome: Outcome
  readonly worker: string
}

/**
 * A middleware. `onComplete` must only add commands to `tx`; it runs inside the worker's completion path.
 *
 * @category models
 */
export interface Middleware {
  readonly name: string
  /** Scripts `onComplete` queues; they are defined on the client before any transaction is made. */
  readonly scripts?: ReadonlyArray<Script>
  readonly onComplete: (completed: CompletedJob, tx: ChainableCommander, context: MiddlewareContext) => void
}

/** What a middleware may use when adding its commands. @category models */
export interface MiddlewareContext {
  readonly client: IORedis
  readonly keys: Keys
  readonly now: number
}

/**
 * The middlewares in force. Defaults to per-action statistics and the fan-out recorder (on by default, so a
 * fan-out never waits forever because a layer was forgotten; `FanOut.layer` puts it back in a custom list).
 *
 * @category services
 */
export const WorkerMiddleware = Context.Reference<ReadonlyArray<Middleware>>("effect-resque/WorkerMiddleware", {
  defaultValue: () => [actionStats, fanOutRecorder]
})

/**
 * Per-action statistics: runs, failures and total duration in ms, in the hash `actionstat:NAME`.
 *
 * @category middlewares
 */
export const actionStats: Middleware = {
  name: "actionStats",
  onComplete: ({ job, outcome }, tx, { keys }) => {
    const key = keys.actionStats(job.action)
    tx.hincrby(key, "runs", 1).hincrby(key, "durationMs", Math.round(outcome.durationMs))
    if (outcome._tag === "Failure") tx.hincrby(key, "failures", 1)
  }
}

/**
 * Adds every middleware's writes for one completed job to `tx`. Shared by every path that completes a job
 * outside the worker's own completion (a stuck job cleaned by an operator, a dead worker's job), so a fan-out
 * child counts there exactly as it does when a worker completes it.
 *
 * @category middlewares
 */
export const recordOutcome = (
  middlewares: ReadonlyArray<Middleware>,
  completed: CompletedJob,
  tx: ChainableCommander,
  context: MiddlewareContext
): void => {
  for (const middleware of middlewares) middleware.onComplete(completed, tx, context)
}

/**
 * Defines the middlewares' scripts on a client; call it before creating a MULTI that `recordOutcome` fills.
 *
 * @category middlewares
 */
export const defineScripts = (middlewares: ReadonlyArray<Middleware>, client: IORedis): void => {
  for (const middleware of middlewares) for (const script of middleware.scripts ?? []) script.define(client)
}
