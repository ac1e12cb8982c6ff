/**
 * A test fixture run as a child process with the project's Node directly (npx would not forward signals),
 * its output collected; killed by pid when the test's scope closes if it is still running.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Starts `fixture` (a path) with `env` added to the test's environment. */
export const startFixture = (fixture: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(`${root}node_modules/.bin/node`, ["--import", "tsx", fixture], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout?.on("data", (chunk) => (output += String(chunk)))
      child.stderr?.on("data", (chunk) => (output += String(chunk)))
      const exited = new Promise<number | string>((resolve) =>
        child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"))
      )
      return { child, exited, output: () => output }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.pid && process.kill(child.pid, "SIGKILL"))
  )
