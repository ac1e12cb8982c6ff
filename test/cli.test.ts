/**
 * The command lines, run as child processes against the test Redis under namespaces of their own.
 *
 * - The package's own bin (`effect-resque`, src/programs/main.ts) is an operator's tool with no actions: its
 *   help lists the inspection commands only, `status` works on a shared Redis, and `run` is unknown to it.
 * - An application's CLI (test/fixtures/cli-app.ts: `Cli.runMain` with the demo actions, an action failing
 *   with a fields-only tagged error, and one that enqueues through the runtime running it): help, `run`, flag
 *   errors, `enqueue` + `worker`, `fanout --wait`, and the inspection commands.
 *
 * Both are compiled once (a temporary config extending the build config, with the repository as root dir, into
 * a private folder under node_modules/.cache so the dependencies resolve) and the emitted JavaScript is what
 * runs: plain JavaScript starts 2-3 times faster than through tsx. Waits are on output lines or Redis state,
 * each with a deadline.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { freePort, startRedisServer } from "./support/redisServer.ts"

const root = join(import.meta.dirname, "..")
const redisUrl = inject("redisUrl")
const namespace = `cli-${randomUUID().slice(0, 8)}`
const cacheDir = join(root, "node_modules", ".cache", `effect-resque-${namespace}`)
const outDir = join(cacheDir, "out")
/** The package's own bin. */
const operatorBin = join(outDir, "src", "programs", "main.js")
/** The application's CLI built with `Cli.runMain`. */
const appBin = join(outDir, "test", "fixtures", "cli-app.js")
// the machine may be busy: generous limits, no timing assertions
const slow = { timeout: 180_000 }

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Environment of every child: no REDIS_URL unless a test passes one. */
const baseEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra }
  delete env["REDIS_URL"]
  delete env["RESQUE_NAMESPACE"]
  return { ...env, ...extra }
}

const start = (bin: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): ChildProcess =>
  spawn(process.execPath, [bin, ...args], { cwd: root, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] })

/** Runs a CLI to completion (killed by pid after 60 s, so a hang fails the test instead of the run). */
const runBin = (bin: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = start(bin, args, env)
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** The application's CLI. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Result> => runBin(appBin, args, env)
/** The package's own bin. */
const operator = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Result> => runBin(operatorBin, args, env)

/** Runs a command and prints how long it took from spawn to exit (measured, never asserted: the CPU is shared). */
const timed = async (label: string, run: () => Promise<Result>): Promise<Result> => {
  const started = performance.now()
  const result = await run()
  console.log(`${label}: ${Math.round(performance.now() - started)} ms from spawn to exit`)
  return result
}

const shared = { REDIS_URL: redisUrl, RESQUE_NAMESPACE: namespace }

/** A long-running CLI process (a worker), with its output collected and a way to wait for a line. */
const background = (args: ReadonlyArray<string>, env: Record<string, string> = shared) => {
  const child = start(appBin, args, env)
  let output = ""
  const waiters: Array<() => void> = []
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
    for (const waiter of waiters.splice(0)) waiter()
  }
  child.stdout?.on("data", collect)
  child.stderr?.on("data", collect)
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  return {
    output: () => output,
    /** Resolves when the output matches, rejects after the deadline. */
    waitFor: (pattern: RegExp, millis = 90_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), millis)
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timer)
            resolve()
          } else waiters.push(check)
        }
        check()
      }),
    /** SIGTERM (graceful shutdown), then SIGKILL if it has not exited within 15 s. */
    stop: async (): Promise<number | null> => {
      if (child.exitCode !== null) return child.exitCode
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}

let redis: IORedis

beforeAll(() => {
  redis = new IORedis(redisUrl)
  // the build config, with the repository as root: src plus the demo actions and the application fixture
  mkdirSync(cacheDir, { recursive: true })
  const config = join(cacheDir, "tsconfig.json")
  writeFileSync(config, JSON.stringify({
    extends: join(root, "tsconfig.build.json"),
    compilerOptions: { rootDir: root, outDir, declaration: false, declarationMap: false, sourceMap: false, inlineSources: false },
    include: [join(root, "src"), join(root, "examples", "demoActions.ts"), join(root, "test", "fixtures", "cli-app.ts")]
  }))
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
  try {
    execFileSync(process.execPath, [tsc, "-p", config], { cwd: root, stdio: "pipe" })
  } catch (error) {
    // a type error anywhere (`npx tsc -p .` reports those) still emits JavaScript: only a missing emit stops us
    if (!existsSync(operatorBin) || !existsSync(appBin)) throw error
  }
}, 180_000)

afterAll(async () => {
  rmSync(cacheDir, { recursive: true, force: true })
  // this file's namespaces all start with `namespace` (the operator's and enqueueNext's have a suffix)
  const keys = await redis.keys(`${namespace}*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

describe("the package's own bin: an operator's tool without actions", () => {
  const ops = { REDIS_URL: redisUrl, RESQUE_NAMESPACE: `${namespace}-ops` }

  it("--help lists the inspection commands and none of the commands that run jobs", slow, async () => {
    const help = await operator(["--help"])
    expect(help.code).toBe(0)
    for (const command of ["status", "queue", "failed", "fanout-status", "workers"]) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\s`, "m"))
    }
    for (const command of ["run", "enqueue", "fanout", "worker", "recurring"]) {
      expect(help.stdout).not.toMatch(new RegExp(`^\\s+${command}\\s`, "m"))
    }
    expect(help.stdout).toContain("--redis")
    expect(help.stdout).not.toContain("ACTIONS")
  })

  it("status --json reads the shared Redis", slow, async () => {
    await redis.sadd(`${namespace}-ops:queues`, "math")
    await redis.rpush(`${namespace}-ops:queue:math`, JSON.stringify({ class: "add", queue: "math", args: [{ a: 1, b: 2 }] }))
    const status = await timed("operator bin `status --json`", () => operator(["status", "--json"], ops))
    expect(status.code).toBe(0)
    const details = JSON.parse(status.stdout)
    expect(details.queues.math.length).toBe(1)
    expect(details.workers).toEqual([])
    expect(details.failedJobs).toBe(0)

    const table = await timed("operator bin `status`", () => operator(["status"], ops))
    expect(table.code).toBe(0)
    expect(table.stdout).toContain("QUEUES")
  })

  it("pause QUEUE and resume QUEUE: the pause is in Redis and shows in `status`", slow, async () => {
    const paused = await operator(["pause", "math"], ops)
    expect(paused.code).toBe(0)
    expect(JSON.parse(paused.stdout)).toEqual({ queue: "math", paused: true, changed: true })
    expect(await redis.hexists(`${namespace}-ops:paused`, "math")).toBe(1)
    const status = await operator(["status", "--json"], ops)
    expect(JSON.parse(status.stdout).queues.math.paused).toBe(true)
    expect((await operator(["status"], ops)).stdout).toMatch(/math\s+\d+\s+paused/)
    const resumed = await operator(["resume", "math"], ops)
    expect(JSON.parse(resumed.stdout)).toEqual({ queue: "math", paused: false, changed: true })
    expect(await redis.hexists(`${namespace}-ops:paused`, "math")).toBe(0)
    const refused = await operator(["pause", "*"], ops)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain("invalid queue name")
  })

  it("run is an unknown command, with a clear error", slow, async () => {
    const result = await operator(["run", "add", "--a", "1"], ops)
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain("Unknown subcommand \"run\" for \"effect-resque\"")
  })
})

describe("an application's CLI (Cli.runMain with its own actions)", () => {
  it("--help lists the commands and the actions with their descriptions; an action's help lists its flags", slow, async () => {
    const top = await cli(["--help"])
    expect(top.code).toBe(0)
    for (const text of ["run", "enqueue", "fanout", "worker", "status", "failed", "recurring", "--redis", "--quiet"]) {
      expect(top.stdout).toContain(text)
    }
    expect(top.stdout).toMatch(/add\s+Adds two numbers/)
    expect(top.stdout).toMatch(/resize\s+Resizes an image/)

    expect(top.stdout).toMatch(/heartbeat\s+Recurring/)

    const resize = await cli(["enqueue", "resize", "--help"])
    expect(resize.code).toBe(0)
    expect(resize.stdout).toMatch(/--url string\s+Address of the source image \(required\)/)
    expect(resize.stdout).toMatch(/--width number\s+Target width in pixels \(default 640\)/)
    expect(resize.stdout).toContain("choices: png, jpeg, webp")
    expect(resize.stdout).toMatch(/--in delay/)
    expect(resize.stdout).toMatch(/--queue string/)
  })

  it("run prints the result as JSON on stdout, logs on stderr, and -q silences them", slow, async () => {
    const resize = await cli(["run", "resize", "--url", "http://x/y.png", "--format", "png", "--width", "800"])
    expect(resize.code).toBe(0)
    expect(JSON.parse(resize.stdout)).toEqual({ url: "http://x/y.png", width: 800, height: 600, format: "png", bytes: 144000 })

    const loud = await cli(["run", "heartbeat"])
    expect(loud.code).toBe(0)
    expect(JSON.parse(loud.stdout)).toHaveProperty("at")
    expect(loud.stderr).toContain("heartbeat")
    const quiet = await cli(["run", "heartbeat", "-q"])
    expect(quiet.code).toBe(0)
    expect(JSON.parse(quiet.stdout)).toHaveProperty("at")
    expect(quiet.stderr).toBe("")
  })

  it("a missing required flag, a bad value or a Schema failure exits non-zero with a clear message", slow, async () => {
    const missing = await cli(["run", "add"])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain("Missing required flag: --a")

    const choice = await cli(["run", "resize", "--url", "u", "--format", "gif"])
    expect(choice.code).not.toBe(0)
    expect(choice.stderr).toContain("Invalid value for flag --format")

    const schema = await cli(["run", "resize", "--url", "u", "--width", "-5"])
    expect(schema.code).not.toBe(0)
    expect(schema.stdout).toBe("")
    expect(schema.stderr).toContain("invalid inputs for resize: Expected a value greater than 0")
    expect(schema.stderr).toContain("at [\"width\"]")
  })

  it("commands that need shared state refuse to run without a Redis URL", slow, async () => {
    const result = await cli(["enqueue", "add", "--a", "1"])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain("enqueue needs a shared Redis: pass --redis URL or set REDIS_URL")
  })

  it("enqueue --track prints the job's id; status ID shows where it stands; cancel ID removes it (also from the operator bin)", slow, async () => {
    const enqueued = await cli(["enqueue", "add", "--a", "3", "--track", "-q"], shared)
    expect(enqueued.code).toBe(0)
    const { id } = JSON.parse(enqueued.stdout) as { id: string }
    expect(id).toMatch(/^[\w-]+$/)
    const queued = await cli(["status", id, "--json"], shared)
    expect(JSON.parse(queued.stdout)).toMatchObject({ id, state: "queued", action: "add", queue: "math", attempt: 1 })
    expect((await operator(["status", id], shared)).stdout).toMatch(new RegExp(`JOB ${id}[\\s\\S]*add\\s+math\\s+queued`))
    const cancelled = await operator(["cancel", id], shared)
    expect(cancelled.code).toBe(0)
    expect(JSON.parse(cancelled.stdout)).toEqual({ id, result: "removed" })
    expect(JSON.parse((await cli(["status", id, "--json"], shared)).stdout)).toMatchObject({ id, state: "cancelled" })
    expect(await redis.llen(`${namespace}:queue:math`)).toBe(0)
    expect(JSON.parse((await cli(["cancel", "no-such-job"], shared)).stdout)).toEqual({ id: "no-such-job", result: "unknown" })
  })

  it("enqueue writes a Resque job; a worker process runs it and logs one line; status and queue show it", slow, async () => {
    const enqueued = await cli(["enqueue", "add", "--a", "20", "--b", "22", "-q"], shared)
    expect(enqueued.code).toBe(0)
    expect(JSON.parse(enqueued.stdout)).toMatchObject({ action: "add", queue: "math", payload: { class: "add", queue: "math", args: [{ a: 20, b: 22 }] } })
    expect(await redis.llen(`${namespace}:queue:math`)).toBe(1)

    const queued = await cli(["queue", "math", "--json"], shared)
    expect(JSON.parse(queued.stdout)).toMatchObject({ queue: "math", length: 1, jobs: [{ action: "add", inputs: { a: 20, b: 22 } }] })

    const delayed = await cli(["enqueue", "add", "--a", "1", "--in", "1h", "-q"], shared)
    expect(delayed.code).toBe(0)
    expect(await redis.zcard(`${namespace}:delayed_queue_schedule`)).toBe(1)

    const worker = background(["worker", "--queues", "math", "--concurrency", "2", "--no-scheduler"])
    try {
      await worker.waitFor(/ok add on math by \S+ in \d+ ms -> 42/)
      const status = await cli(["status", "--json"], shared)
      expect(status.code).toBe(0)
      const details = JSON.parse(status.stdout)
      expect(details.queues.math.length).toBe(0)
      expect(details.workers).toHaveLength(2)
      expect(details.stats.processed).toBeGreaterThanOrEqual(1)
      const workers = await cli(["workers", "--json"], shared)
      expect(workers.code).toBe(0)
      const registered = JSON.parse(workers.stdout)
      expect(registered).toHaveLength(2)
      expect(registered[0]).toMatchObject({ queues: ["math"] })
    } finally {
      await worker.stop()
    }
    // graceful shutdown unregistered the workers
    expect(await redis.smembers(`${namespace}:workers`)).toEqual([])
  })

  it("worker --log-format json logs one JSON record per job outcome; --metrics-port serves the job metrics to Prometheus", slow, async () => {
    const port = await freePort()
    await cli(["enqueue", "add", "--a", "1", "--b", "2", "-q"], shared)
    await redis.sadd(`${namespace}:queues`, "math")
    await redis.rpush(`${namespace}:queue:math`, JSON.stringify({ class: "nope", queue: "math", args: [{}] }))
    const worker = background(["worker", "--queues", "math", "--log-format", "json", "--metrics-port", String(port), "--hand-back-for", "0"])
    try {
      await worker.waitFor(/"message":"ok add on math/)
      await worker.waitFor(/"message":"failed nope on math/)
      const records = worker.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line))
      const ok = records.find((record) => String(record.message).startsWith("ok add on math"))
      expect(ok).toMatchObject({ level: "INFO", annotations: { action: "add", queue: "math", attempt: 1, outcome: "Success" } })
      expect(ok.annotations.durationMs).toBeTypeOf("number")
      const failed = records.find((record) => String(record.message).startsWith("failed nope on math"))
      expect(failed).toMatchObject({ level: "WARN", annotations: { action: "nope", outcome: "Failure", exception: "UnknownAction", final: true } })
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      expect(metrics).toMatch(/^resque_jobs_processed(_total)?\{action="add",queue="math"\} 1$/m)
      expect(metrics).toMatch(/^resque_jobs_failed(_total)?\{action="nope",queue="math"\} 1$/m)
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    } finally {
      await worker.stop()
      // the failed-jobs test below counts the failed list from empty
      await redis.del(`${namespace}:failed`)
    }
  })

  it("fanout --wait shows progress until every child is done, then prints the summary", slow, async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-fanout-"))
    const file = join(dir, "inputs.jsonl")
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ a: i, b: 1 }))
    writeFileSync(file, [...lines, "{\"a\": \"not a number\"}", ""].join("\n"))
    const worker = background(["worker", "--queues", "math", "--no-scheduler", "-q"])
    try {
      const result = await cli(["fanout", "add", "--inputs", file, "--batch-size", "7", "--wait"], shared)
      expect(result.code).toBe(0)
      const summary = JSON.parse(result.stdout)
      expect(summary).toMatchObject({ total: 30, completed: 30, failed: 0, errors: [] })
      expect(summary.enqueueErrors).toHaveLength(1)
      expect(summary.enqueueErrors[0]).toMatchObject({ index: 30, reason: "InvalidInputs" })
      expect(result.stderr).toMatch(/30\/30 completed 30 failed 0/)

      const status = await cli(["fanout-status", summary.fanOutId, "--json"], shared)
      const full = JSON.parse(status.stdout)
      expect(full.done).toBe(true)
      expect(full.results.map((r: { result: number }) => r.result)).toEqual(lines.map((_, i) => i + 1))
    } finally {
      await worker.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("failed jobs can be listed, retried and removed", slow, async () => {
    await redis.sadd(`${namespace}:queues`, "broken")
    await redis.rpush(`${namespace}:queue:broken`, "not json", JSON.stringify({ class: "nope", queue: "broken", args: [{}] }))
    const worker = background(["worker", "--queues", "broken", "--no-scheduler", "--hand-back-for", "0"])
    try {
      await worker.waitFor(/failed nope on broken/)
      await worker.waitFor(/CorruptPayload/)
    } finally {
      await worker.stop()
    }
    const listed = await cli(["failed", "--json"], shared)
    const failed = JSON.parse(listed.stdout)
    expect(failed.count).toBe(2)
    expect(failed.jobs.map((j: { exception: string }) => j.exception).sort()).toEqual(["CorruptPayload", "UnknownAction"])
    // newest first; `#` (position) is a job's place in the list, what retry and remove take
    expect(failed.jobs.map((j: { position: number }) => j.position)).toEqual([1, 0])
    const unknownIndex = failed.jobs.find((j: { exception: string }) => j.exception === "UnknownAction").position

    const retried = await cli(["failed", "retry", String(unknownIndex)], shared)
    expect(retried.code).toBe(0)
    expect(await redis.lrange(`${namespace}:queue:broken`, 0, -1)).toHaveLength(1)
    const removed = await cli(["failed", "remove", "0"], shared)
    expect(removed.code).toBe(0)
    expect(await redis.llen(`${namespace}:failed`)).toBe(0)
    const missing = await cli(["failed", "retry", "5"], shared)
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain("no failed job #5")
  })

  it("recurring lists the application's recurring actions and stops and starts one", slow, async () => {
    const listed = await cli(["recurring", "--json"], shared)
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ action: "heartbeat", queue: "default", frequencyMs: 60_000, stopped: false })])
    const stopped = await cli(["recurring", "stop", "heartbeat"], shared)
    expect(stopped.code).toBe(0)
    const afterStop = await cli(["recurring", "list", "--json"], shared)
    expect(JSON.parse(afterStop.stdout)).toEqual([expect.objectContaining({ action: "heartbeat", stopped: true })])
    const started = await cli(["recurring", "start", "heartbeat"], shared)
    expect(started.code).toBe(0)
    expect(JSON.parse(started.stdout)).toMatchObject({ action: "heartbeat" })
    const afterStart = await cli(["recurring", "list", "--json"], shared)
    expect(JSON.parse(afterStart.stdout)).toEqual([expect.objectContaining({ action: "heartbeat", stopped: false })])
    // start enqueued a copy on the action's queue: take it off again, the later tests count queues of their own only
    await redis.del(`${namespace}:queue:default`)
  })

  it("an error declared with fields only is shown as its tag and fields, with a non-zero exit", slow, async () => {
    const result = await cli(["run", "charge", "--sku", "A1"])
    expect(result.code).not.toBe(0)
    expect(result.stdout).toBe("")
    expect(result.stderr).toContain("PaymentDeclined: {\"sku\":\"A1\",\"reason\":\"card expired\"}")
  })

  it("run gives the action the CLI's own runtime: a job it enqueues lands on the CLI's Redis", slow, async () => {
    const own = { REDIS_URL: redisUrl, RESQUE_NAMESPACE: `${namespace}-next` }
    const result = await cli(["run", "enqueueNext", "--a", "41", "-q"], own)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ enqueued: "add", queue: "math" })
    const queued = (await redis.lrange(`${namespace}-next:queue:math`, 0, -1)).map((text) => JSON.parse(text))
    expect(queued).toHaveLength(1)
    expect(queued[0]).toMatchObject({ class: "add", queue: "math", args: [{ a: 41, b: 1 }] })

    const status = await timed("application CLI `status`", () => cli(["status"], own))
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/math\s+1/)
  })
})

describe("the worker command stops on time", () => {
  it("with Redis gone, worker --grace-period 1s exits 0 within 1 s of SIGTERM, the scheduler included", slow, async () => {
    const server = await startRedisServer()
    try {
      const worker = background(["worker", "--queues", "math", "--grace-period", "1s", "--poll-interval", "1s"], {
        REDIS_URL: server.url,
        RESQUE_NAMESPACE: namespace
      })
      await worker.waitFor(/workers on math with the scheduler/)
      await worker.waitFor(/is the leader/)
      await server.stop()
      const started = performance.now()
      const code = await worker.stop()
      const millis = Math.round(performance.now() - started)
      console.log(`worker --grace-period 1s, Redis gone: exited ${millis} ms after SIGTERM`)
      expect(code, worker.output()).toBe(0)
      // the grace period, and the process's own exit; generous for a loaded machine (it took 11.6 s before)
      expect(millis).toBeLessThan(3000)
    } finally {
      await server.stop()
    }
  })
})

describe("operating commands", () => {
  const ops = { REDIS_URL: redisUrl, RESQUE_NAMESPACE: `${namespace}-operate` }
  const key = (name: string) => `${namespace}-operate:${name}`
  const job = (a: number) => JSON.stringify({ class: "add", queue: "math", args: [{ a, b: 1 }] })

  it("delayed lists the schedule; del and delete-queue remove jobs; locks lists locks", slow, async () => {
    const at = Math.round(Date.now() / 1000) + 3600
    await redis.rpush(key(`delayed:${at}`), job(7))
    await redis.sadd(key(`timestamps:${job(7)}`), `delayed:${at}`)
    await redis.zadd(key("delayed_queue_schedule"), at, String(at))
    const delayed = await cli(["delayed", "--json"], ops)
    expect(delayed.code).toBe(0)
    expect(JSON.parse(delayed.stdout)).toMatchObject({ times: 1, entries: [{ at: at * 1000, count: 1, jobs: [{ action: "add", inputs: { a: 7, b: 1 } }] }] })
    expect((await cli(["delayed"], ops)).stdout).toMatch(/DELAYED: 1 due time/)

    await redis.sadd(key("queues"), "math")
    await redis.rpush(key("queue:math"), job(1), job(2), job(1))
    const one = await cli(["del", "math", "add", "--inputs", JSON.stringify({ a: 2, b: 1 })], ops)
    expect(one.code).toBe(0)
    expect(JSON.parse(one.stdout)).toEqual({ queue: "math", action: "add", removed: 1 })
    const rest = await cli(["del", "math", "add"], ops)
    expect(JSON.parse(rest.stdout)).toEqual({ queue: "math", action: "add", removed: 2 })
    await redis.rpush(key("queue:math"), job(3), job(4))
    const dropped = await cli(["delete-queue", "math"], ops)
    expect(JSON.parse(dropped.stdout)).toEqual({ queue: "math", removed: 2 })
    expect(await redis.exists(key("queue:math"))).toBe(0)

    await redis.set(key("lock:add:[1]"), "worker-1")
    const locks = await cli(["locks", "--json"], ops)
    expect(JSON.parse(locks.stdout)).toEqual([{ key: "lock:add:[1]", value: "worker-1" }])
  })

  it("stats shows per-action runs, failures and durations; clean-workers reclaims a dead worker", slow, async () => {
    await redis.hset(key("actionstat:add"), "runs", "4", "failures", "1", "durationMs", "10")
    await redis.set(key("stat:processed"), "3")
    await redis.set(key("stat:failed"), "1")
    const stats = await cli(["stats", "--json"], ops)
    expect(stats.code).toBe(0)
    const data = JSON.parse(stats.stdout)
    expect(data).toMatchObject({ processed: 3, failed: 1 })
    expect(data.actions).toContainEqual({ action: "add", runs: 4, failures: 1, durationMs: 10, meanDurationMs: 2.5 })
    expect((await cli(["stats"], ops)).stdout).toMatch(/add\s+4\s+1\s+2\.5\s+10/)

    const seconds = Math.round(Date.now() / 1000) - 120
    const worker = "ghost:1.0"
    await redis.sadd(key("workers"), `${worker}:math`)
    await redis.set(key(`worker:ping:${worker}`), JSON.stringify({ time: seconds, name: worker, queues: "math" }))
    await redis.set(key(`worker:${worker}:math`), JSON.stringify({ run_at: new Date(seconds * 1000).toISOString(), queue: "math", payload: JSON.parse(job(9)), worker }))
    const cleaned = await cli(["clean-workers", "--older-than", "1m", "--json"], ops)
    expect(cleaned.code).toBe(0)
    expect(JSON.parse(cleaned.stdout)).toEqual([{ worker, action: "add", retried: false }])
    expect(await redis.smembers(key("workers"))).toEqual([])
    expect(await redis.llen(key("failed"))).toBe(1)
  })

  it("failed list pages newest first; --wide keeps long cells whole", slow, async () => {
    await redis.del(key("failed"))
    const long = "x".repeat(120)
    for (let i = 0; i < 5; i++) {
      await redis.rpush(key("failed"), JSON.stringify({
        failed_at: new Date(Date.now() - (5 - i) * 1000).toISOString(),
        payload: JSON.parse(job(i)),
        exception: "Boom",
        error: `failure ${i} ${long}`,
        backtrace: [],
        worker: "w",
        queue: "math"
      }))
    }
    const first = JSON.parse((await cli(["failed", "list", "--limit", "2", "--json"], ops)).stdout)
    expect(first.count).toBe(5)
    expect(first.jobs.map((j: { position: number }) => j.position)).toEqual([4, 3])
    const second = JSON.parse((await cli(["failed", "list", "--limit", "2", "--offset", "2", "--json"], ops)).stdout)
    expect(second.jobs.map((j: { position: number }) => j.position)).toEqual([2, 1])
    const oldest = JSON.parse((await cli(["failed", "--oldest-first", "--limit", "1", "--json"], ops)).stdout)
    expect(oldest.jobs.map((j: { position: number }) => j.position)).toEqual([0])
    const cut = await cli(["failed", "--limit", "1"], ops)
    expect(cut.stdout).toContain("...")
    expect(cut.stdout).not.toContain(long)
    const wide = await cli(["failed", "--limit", "1", "--wide"], ops)
    expect(wide.code).toBe(0)
    expect(wide.stdout).toContain(`Boom: failure 4 ${long}`)
  })
})
