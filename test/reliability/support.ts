/**
 * Child processes for the reliability suite: the worker program in `fixtures/worker.ts`, run with the
 * project's Node and tsx directly (not through npx, which does not forward signals), plus helpers that
 * wait on Redis state with a bounded deadline. Only processes started here are ever signalled, by pid.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { resolve } from "node:path"
import { Effect, Schedule } from "effect"

const root = resolve(import.meta.dirname, "../..")
const nodeBin = resolve(root, "node_modules/.bin/node")
const program = resolve(root, "test/reliability/fixtures/worker.ts")

export interface Proc {
  readonly pid: number
  readonly child: ChildProcess
  /** Every stdout line so far. */
  readonly lines: Array<string>
  readonly exited: Promise<number | null>
  readonly signal: (signal: NodeJS.Signals) => void
}

/** Starts the worker program with `env` and waits until it prints READY (or fails). */
export const startWorker = (env: Record<string, string>, timeoutMillis = 30_000): Promise<Proc> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(nodeBin, ["--import", "tsx", program], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines: Array<string> = []
    let stderr = ""
    let buffer = ""
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
    const timer = setTimeout(() => reject(new Error(`worker not ready after ${timeoutMillis} ms: ${stderr}`)), timeoutMillis)
    child.stdout?.on("data", (data: Buffer) => {
      buffer += data.toString()
      const parts = buffer.split("\n")
      buffer = parts.pop() ?? ""
      for (const line of parts) {
        lines.push(line)
        if (line.includes("READY")) {
          clearTimeout(timer)
          resolvePromise(proc)
        }
      }
    })
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString()
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`worker exited with ${code} before READY: ${stderr}`))
    })
    const proc: Proc = {
      pid: child.pid ?? 0,
      child,
      lines,
      exited,
      signal: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      }
    }
  })

/** A child process as a scoped resource: SIGKILLed on release if still running. */
export const worker = (env: Record<string, string>) =>
  Effect.acquireRelease(Effect.promise(() => startWorker(env)), (proc) =>
    Effect.promise(async () => {
      proc.signal("SIGKILL")
      await proc.exited
    }))

/** Polls `check` until `done` holds, at most `timeoutMillis`; fails with `what` if it never does. */
export const waitFor = <A, E, R>(
  what: string,
  check: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  timeoutMillis = 30_000,
  every = "50 millis" as const
) =>
  check.pipe(
    Effect.repeat({ until: done, schedule: Schedule.spaced(every) }),
    Effect.timeoutOrElse({ duration: timeoutMillis, orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)) })
  )
