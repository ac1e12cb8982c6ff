/**
 * Starts and stops throw-away `redis-server` processes on free loopback ports.
 * Used by the test global setup, the reliability suite and the benchmark.
 * Only processes started here are ever stopped, and only by their pid.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { createServer, Socket } from "node:net"

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly pid: number
  readonly stop: () => Promise<void>
}

/** Asks the OS for a free loopback port. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("error", () => done(false))
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"))
    socket.once("data", (data) => done(data.toString().includes("PONG") || data.toString().includes("NOAUTH")))
  })

export interface StartOptions {
  readonly port?: number
  readonly password?: string
  readonly extraArgs?: ReadonlyArray<string>
}

/** Starts `redis-server` without persistence on a loopback port and waits until it answers. */
export const startRedisServer = async (options: StartOptions = {}): Promise<RedisServer> => {
  const port = options.port ?? (await freePort())
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
    "--loglevel", "warning",
    ...(options.password ? ["--requirepass", options.password] : []),
    ...(options.extraArgs ?? [])
  ]
  const child: ChildProcess = spawn("redis-server", args, { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  let failed: Error | undefined
  child.once("error", (error) => {
    failed = error
  })
  for (let i = 0; i < 200; i++) {
    if (failed) throw failed
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    if (await ping(port)) break
    await new Promise((r) => setTimeout(r, 25))
    if (i === 199) throw new Error(`redis-server did not answer on port ${port}`)
  }
  const pid = child.pid ?? 0
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : ""
  return {
    port,
    pid,
    url: `redis://${auth}127.0.0.1:${port}`,
    stop: async () => {
      // idempotent: a server already stopped (exit code, or killed by a signal) is left alone
      if (child.exitCode !== null || child.signalCode !== null) return
      process.kill(pid, "SIGKILL")
      await exited
    }
  }
}
