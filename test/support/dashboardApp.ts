/**
 * The application the dashboard tests serve: actions with every kind of input field and a typed error, a slow
 * fan-out child, an action that fails while a switch is on, a recurring heartbeat; and the server (the
 * dashboard on Node's HTTP server, port 0 on loopback) over a backend, with or without workers.
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Latch, Layer, Schema } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Action from "../../src/domain/Action.ts"
import * as FanOut from "../../src/domain/FanOut.ts"
import * as JobScheduler from "../../src/layers/JobScheduler.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import * as Resque from "../../src/layers/Resque.ts"
import * as Worker from "../../src/layers/Worker.ts"
import * as Dashboard from "../../src/programs/dashboard/Dashboard.ts"

/** A switch the `flaky` action reads: while on, it fails. */
export const flakySwitch = { failing: true }

const NumberInput = Schema.Union([Schema.Finite, Schema.FiniteFromString])

export const resize = Action.make({
  name: "resize",
  description: "Resizes an image to a width",
  inputs: Schema.Struct({
    url: Schema.String.annotate({ description: "Address of the source image" }),
    width: NumberInput.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThan(0)), Schema.withDecodingDefault(Effect.succeed(640)))
      .annotate({ description: "Target width in pixels" }),
    format: Schema.Literals(["png", "jpeg", "webp"]).pipe(Schema.withDecodingDefault(Effect.succeed("webp" as const))),
    sharpen: Schema.optional(Schema.Boolean),
    tags: Schema.optional(Schema.Array(Schema.String))
  }),
  run: ({ url, width, format }) => Effect.succeed({ url, width, format }),
  task: { queue: "images" }
})

export class PaymentDeclined extends Schema.TaggedError<PaymentDeclined>()("PaymentDeclined", { sku: Schema.String, reason: Schema.String }) {}

export const charge = Action.make({
  name: "charge",
  description: "Charges a card (always declined)",
  inputs: Schema.Struct({ sku: Schema.String }),
  error: PaymentDeclined,
  run: ({ sku }) => Effect.fail(new PaymentDeclined({ sku, reason: "card expired" })),
  task: { queue: "payments" }
})

export const flaky = Action.make({
  name: "flaky",
  description: "Fails while the test's switch is on",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) => (flakySwitch.failing ? Effect.fail(new Error(`flaky ${n} failed`)) : Effect.succeed(n)),
  task: { queue: "payments" }
})

export const slow = Action.make({
  name: "slow",
  description: "A fan-out child that takes a while",
  inputs: Schema.Struct({ i: Schema.Finite, ms: Schema.Finite }),
  output: Schema.Struct({ i: Schema.Finite }),
  run: ({ i, ms }) => Effect.as(Effect.sleep(ms), { i }),
  task: { queue: "children" }
})

export const summarize = Action.make({
  name: "summarize",
  description: "Runs once a fan-out is done",
  inputs: FanOut.Completion,
  run: ({ completed }) => Effect.succeed(completed),
  task: { queue: "children" }
})

/** The gate `gated` children wait at: a test opens it when it is ready to watch them finish. */
export const childGate = Latch.makeUnsafe(false)

export const gated = Action.make({
  name: "gated",
  description: "A fan-out child that waits for the test's gate",
  inputs: Schema.Struct({ i: Schema.Finite }),
  run: ({ i }) => Effect.as(childGate.await, i),
  task: { queue: "children" }
})

export const heartbeat = Action.make({
  name: "heartbeat",
  description: "Every second",
  inputs: Schema.Struct({}),
  run: () => Effect.succeed("beat"),
  task: { queue: "ticks", frequency: "1 second" }
})

export const dashboardActions = [resize, charge, flaky, slow, gated, summarize, heartbeat] as const

/**
 * The application on a Redis layer, optionally with a worker pool (on every queue) and a job scheduler, and
 * the dashboard served on 127.0.0.1 (port 0: the OS picks one). The layer gives the HTTP server (its address)
 * and the runtime's services.
 */
export const serve = (
  redis: Layer.Layer<Redis.Redis, unknown>,
  options: {
    readonly dashboard?: Dashboard.Options
    readonly workers?: boolean
    /** The queues the workers drain, in priority order (default every queue). */
    readonly queues?: ReadonlyArray<string>
    readonly scheduler?: boolean
    readonly host?: string
  } = {}
) => {
  const runtime = Resque.layer({ actions: dashboardActions }).pipe(Layer.provideMerge(redis))
  const jobs = Layer.mergeAll(
    options.workers === true ? Worker.layer({ queues: options.queues ?? ["*"], concurrency: 8 }) : Layer.empty,
    options.scheduler === true ? JobScheduler.layer({ pollInterval: "200 millis" }) : Layer.empty
  ).pipe(Layer.provide(runtime))
  const server = HttpRouter.serve(Dashboard.layer(options.dashboard ?? {}), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: options.host ?? "127.0.0.1" })),
    Layer.provide(runtime)
  )
  return Layer.mergeAll(server, jobs).pipe(Layer.provideMerge(runtime))
}

/** The base URL of the server in the context. */
export const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address
  return address._tag === "UnixPathAddress" ? "" : `http://127.0.0.1:${address.port}`
})
