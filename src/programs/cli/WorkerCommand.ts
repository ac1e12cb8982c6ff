/**
 * `worker`: runs a worker pool (and, unless `--no-scheduler`, the job scheduler) until interrupted, logging
 * one line per job. The pool and the scheduler are one `Layer.mergeAll`, so on SIGINT/SIGTERM they stop at
 * once, side by side, and the process exits within the grace period even when Redis is unreachable.
 *
 * @since 0.2.0
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import * as JobLog from "../../internal/JobLog.ts"
import * as JobMetrics from "../../layers/JobMetrics.ts"
import * as JobScheduler from "../../layers/JobScheduler.ts"
import * as Worker from "../../layers/Worker.ts"
import { type App, BadArgument, handler, parseDelay, sharedRedis } from "./Shared.ts"

/** Log formats of `--log-format`: Effect's pretty console logger, or one JSON object a line. */
const logFormats = [["pretty", Logger.consolePretty()], ["json", Logger.consoleJson]] as const

/**
 * Serves the metrics in Prometheus's text format at `/metrics` (anything else is 404) until the scope
 * closes; `port` 0 picks a free port. Logs the address it listens on.
 */
const serveMetrics = (port: number, host: string) =>
  Effect.gen(function*() {
    const render = Effect.runPromiseWith(yield* Effect.context<never>())
    const server = yield* Effect.acquireRelease(
      Effect.callback<Server, BadArgument>((resume) => {
        const created = createServer((request, response) => {
          if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
            response.writeHead(404).end()
            return
          }
          render(PrometheusMetrics.format()).then(
            (text) => response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text),
            () => response.writeHead(500).end()
          )
        })
        created.once("error", (error) => resume(Effect.fail(new BadArgument({ detail: `--metrics-port ${port}: ${error.message}` }))))
        created.listen(port, host, () => resume(Effect.succeed(created)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
    )
    yield* Effect.logInfo(`metrics on http://${host}:${(server.address() as AddressInfo).port}/metrics`)
  })

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
 * [--hand-back-for 10m] [--retry-stuck-jobs] [--no-scheduler] [--metrics-port 9464] [--log-format json|pretty]`.
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
    handBackFor: durationFlag("hand-back-for", "10m", "A job for an action this worker does not know is handed back (for a newer worker) this long before it fails; 0 fails it at once"),
    retryStuckJobs: Flag.Boolean("retry-stuck-jobs").pipe(Flag.withDefault(false), Flag.withDescription("Re-enqueue a dead worker's job (up to 3 runs) instead of failing it, for actions without a retry policy")),
    metricsPort: Flag.Int("metrics-port").pipe(
      Flag.optional,
      Flag.withDescription("Record job metrics and serve them in Prometheus's text format at http://HOST:PORT/metrics (0: a free port)")
    ),
    metricsHost: Flag.String("metrics-host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("Address of --metrics-port (default 127.0.0.1; 0.0.0.0 for every interface)")),
    logFormat: Flag.ChoiceWithValue("log-format", logFormats).pipe(
      Flag.optional,
      Flag.withDescription("pretty (Effect's console logger) or json (one object a line, with the job's annotations)")
    )
  }, (flags) =>
    handler(Effect.gen(function*() {
      if (flags.concurrency < 1) return yield* new BadArgument({ detail: "--concurrency must be at least 1" })
      const queues = flags.queues.split(",").map((q) => q.trim()).filter((q) => q.length > 0)
      const gracePeriod = yield* millisOf("grace-period", flags.gracePeriod, 0)
      const pollInterval = yield* millisOf("poll-interval", flags.pollInterval)
      const stuckWorkerTimeout = yield* millisOf("stuck-timeout", flags.stuckTimeout)
      const handBackFor = yield* millisOf("hand-back-for", flags.handBackFor, 0)
      const redis = yield* sharedRedis("worker")
      const pool = Worker.layer({ queues, concurrency: flags.concurrency, gracePeriod, pollInterval, handBackFor })
      const scheduler = JobScheduler.layer({
        stuckWorkerTimeout,
        retryStuckJobs: flags.retryStuckJobs,
        // it stops beside the pool: within the grace period too
        stopTimeout: Duration.min(gracePeriod, Duration.seconds(1))
      })
      const metricsPort = Option.getOrUndefined(flags.metricsPort)
      // with --metrics-port, the metrics hook below the runtime (Resque.layer and the pool read the hooks)
      const runtime = metricsPort === undefined ? app.runtime(redis) : app.runtime(redis).pipe(Layer.provideMerge(JobMetrics.layer))
      yield* Effect.gen(function*() {
        if (metricsPort !== undefined) yield* serveMetrics(metricsPort, flags.metricsHost)
        // with metrics, the scheduler's leader samples the queue gauges
        const leading = metricsPort === undefined ? scheduler : JobMetrics.layerGauges().pipe(Layer.provideMerge(scheduler))
        const context = yield* Layer.build(flags.scheduler ? Layer.mergeAll(pool, leading) : pool)
        const running = Context.get(context, Worker.Worker)
        // subscribe before the slots' first pick completes (it is a Redis round trip away): no job goes unlogged
        const events = yield* PubSub.subscribe(running.events)
        yield* Effect.logInfo(
          `${running.names.length} workers on ${queues.join(",")}${flags.scheduler ? " with the scheduler" : ""}; Ctrl-C to stop`
        )
        // one log line per job, until the process is interrupted (SIGINT/SIGTERM), which shuts the pool down
        return yield* PubSub.take(events).pipe(Effect.flatMap((event) => JobLog.log(event)), Effect.forever)
      }).pipe(Effect.scoped, Effect.provide(runtime))
    }).pipe((program) =>
      Option.match(flags.logFormat, { onNone: () => program, onSome: (logger) => Effect.provide(program, Logger.layer([logger])) })
    ))
  ).pipe(Command.withDescription("Run workers (and the scheduler) until interrupted, logging each job"))
