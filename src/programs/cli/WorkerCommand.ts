/**
 * `worker`: runs a worker pool (and, unless `--no-scheduler`, the job scheduler) until interrupted, logging
 * one line per job. The pool and the scheduler are one `Layer.mergeAll`, so on SIGINT/SIGTERM they stop at
 * once, side by side, and the process exits within the grace period even when Redis is unreachable.
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Layer, PubSub } from "effect"
import { Command, Flag } from "effect/cli"
import type * as Outcome from "../../domain/Outcome.ts"
import * as JobScheduler from "../../layers/JobScheduler.ts"
import * as Worker from "../../layers/Worker.ts"
import { type App, BadArgument, handler, parseDelay, sharedRedis } from "./Shared.ts"

const describeOutcome = (event: Worker.JobEvent): string => {
  const action = event.job?.action ?? "(unreadable job)"
  const outcome: Outcome.Outcome = event.outcome
  const base = `${action} on ${event.queue} by ${event.worker}`
  return outcome._tag === "Success"
    ? `ok ${base} in ${Math.round(outcome.durationMs)} ms -> ${outcome.result.length > 200 ? `${outcome.result.slice(0, 200)}...` : outcome.result}`
    : `failed ${base} in ${Math.round(outcome.durationMs)} ms: ${outcome.exception}: ${outcome.error}${outcome.final ? "" : " (will retry)"}`
}

/** A duration flag (`30s`, `5m`, `500ms`), with its default shown in the help. */
const durationFlag = (name: string, fallback: string, description: string) =>
  Flag.String(name).pipe(Flag.withMetavar("duration"), Flag.withDefault(fallback), Flag.withDescription(`${description} (default ${fallback})`))

/** A flag's duration in ms, or a {@link BadArgument} naming the flag. */
const millisOf = (flag: string, text: string, minimum = 1) => {
  const ms = parseDelay(text)
  return ms === undefined || ms < minimum
    ? Effect.fail(new BadArgument({ detail: `--${flag}: cannot read "${text}" as a duration of at least ${minimum} ms (try 30s, 5m, 500ms)` }))
    : Effect.succeed(Duration.millis(ms))
}

/**
 * `worker [--queues a,b] [--concurrency n] [--grace-period 10s] [--poll-interval 5s] [--stuck-timeout 1m]
 * [--retry-stuck-jobs] [--no-scheduler]`.
 *
 * @category commands
 */
export const command = (app: App) =>
  Command.make("worker", {
    queues: Flag.String("queues").pipe(Flag.withDefault("*"), Flag.withDescription("Queues in priority order, comma-separated; * for all (default)")),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDefault(10), Flag.withDescription("Jobs run at once (default 10)")),
    scheduler: Flag.Boolean("scheduler").pipe(Flag.withDefault(true), Flag.withDescription("Also run the scheduler (delayed jobs, recurring actions, dead workers); --no-scheduler to leave it out")),
    gracePeriod: durationFlag("grace-period", "10s", "On SIGINT/SIGTERM, how long running jobs may finish before they are failed; the process exits within it"),
    pollInterval: durationFlag("poll-interval", "5s", "How long an idle pool waits before it looks for jobs other Resque clients wrote"),
    stuckTimeout: durationFlag("stuck-timeout", "1m", "The scheduler reclaims the jobs of a worker silent this long (never less than 3 of that worker's ping intervals)"),
    retryStuckJobs: Flag.Boolean("retry-stuck-jobs").pipe(Flag.withDefault(false), Flag.withDescription("Re-enqueue a dead worker's job (up to 3 runs) instead of failing it, for actions without a retry policy"))
  }, (flags) =>
    handler(Effect.gen(function*() {
      if (flags.concurrency < 1) return yield* new BadArgument({ detail: "--concurrency must be at least 1" })
      const queues = flags.queues.split(",").map((q) => q.trim()).filter((q) => q.length > 0)
      const gracePeriod = yield* millisOf("grace-period", flags.gracePeriod, 0)
      const pollInterval = yield* millisOf("poll-interval", flags.pollInterval)
      const stuckWorkerTimeout = yield* millisOf("stuck-timeout", flags.stuckTimeout)
      const redis = yield* sharedRedis("worker")
      const pool = Worker.layer({ queues, concurrency: flags.concurrency, gracePeriod, pollInterval })
      const scheduler = JobScheduler.layer({
        stuckWorkerTimeout,
        retryStuckJobs: flags.retryStuckJobs,
        // it stops beside the pool: within the grace period too
        stopTimeout: Duration.min(gracePeriod, Duration.seconds(1))
      })
      yield* Effect.gen(function*() {
        const context = yield* Layer.build(flags.scheduler ? Layer.mergeAll(pool, scheduler) : pool)
        const running = Context.get(context, Worker.Worker)
        // subscribe before the slots' first pick completes (it is a Redis round trip away): no job goes unlogged
        const events = yield* PubSub.subscribe(running.events)
        yield* Effect.logInfo(
          `${running.names.length} workers on ${queues.join(",")}${flags.scheduler ? " with the scheduler" : ""}; Ctrl-C to stop`
        )
        // one log line per job, until the process is interrupted (SIGINT/SIGTERM), which shuts the pool down
        return yield* PubSub.take(events).pipe(
          Effect.flatMap((event) =>
            event.outcome._tag === "Success" ? Effect.logInfo(describeOutcome(event)) : Effect.logWarning(describeOutcome(event))
          ),
          Effect.forever
        )
      }).pipe(Effect.scoped, Effect.provide(app.runtime(redis)))
    }))
  ).pipe(Command.withDescription("Run workers (and the scheduler) until interrupted, logging each job"))
