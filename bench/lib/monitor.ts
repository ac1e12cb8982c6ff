/**
 * Counts what the system under test sends to Redis (outside the timed runs: MONITOR slows the server down).
 * - Commands, and commands run inside Lua scripts, come from `MONITOR`; clients that existed before the
 *   counter started (the harness, anyone else's) are ignored.
 * - Round trips are counted on the client side: every socket write to the Redis port by this process, the
 *   harness's and the monitor's sockets excepted. ioredis writes a MULTI..EXEC block or a pipeline in one
 *   write and any other command in a write of its own, so a write is one request the caller waits on.
 */
import { Socket } from "node:net"
import { Redis as IORedis } from "ioredis"

export interface Count {
  /** Data commands sent (MULTI/EXEC not counted). */
  readonly commands: number
  /** Requests written (a MULTI block or a pipeline is one). */
  readonly roundTrips: number
  /** Commands run by Lua scripts. */
  readonly scripted: number
}

const MARK = "bench-phase-mark-"

export interface Counter {
  /** Waits until MONITOR has shown everything sent so far, returns the count since the last call, resets. */
  readonly phase: () => Promise<Count>
  readonly close: () => void
}

/** Lists the `addr` of every client connected now. */
const clientAddresses = async (client: IORedis): Promise<Set<string>> => {
  const list = await client.client("LIST")
  const addresses = new Set<string>()
  for (const line of String(list).split("\n")) {
    const match = /(?:^| )addr=(\S+)/.exec(line)
    if (match?.[1]) addresses.add(match[1])
  }
  return addresses
}

/** Starts counting; call before the system under test opens its connections. */
export const startCounter = async (url: string, harness: IORedis): Promise<Counter> => {
  const ignored = await clientAddresses(harness)
  // `monitor()` opens a connection of its own: the client it came from is closed with it
  const base = new IORedis(url, { maxRetriesPerRequest: 3 })
  const monitor = await base.monitor()
  monitor.on("error", () => {})
  let count = { commands: 0, roundTrips: 0, scripted: 0 }
  const port = harness.stream.remotePort
  const excluded = new Set<unknown>([harness.stream, monitor.stream])
  const write = Socket.prototype.write
  Socket.prototype.write = function(this: Socket, ...args: ReadonlyArray<unknown>): boolean {
    if (this.remotePort === port && !excluded.has(this)) count.roundTrips++
    return Reflect.apply(write, this, args) as boolean
  } as Socket["write"]
  const waiting = new Map<string, () => void>()
  let marks = 0
  monitor.on("monitor", (_time: string, args: ReadonlyArray<string>, source: string) => {
    const command = String(args[0] ?? "").toLowerCase()
    if (command === "echo" && typeof args[1] === "string" && args[1].startsWith(MARK)) {
      waiting.get(args[1])?.()
      return
    }
    if (source === "lua") {
      count.scripted++
      return
    }
    if (ignored.has(source) || command === "multi" || command === "exec") return
    count.commands++
  })
  return {
    phase: async () => {
      const mark = `${MARK}${++marks}`
      const seen = new Promise<void>((resolve) => waiting.set(mark, resolve))
      await harness.echo(mark)
      await seen
      waiting.delete(mark)
      const result = count
      count = { commands: 0, roundTrips: 0, scripted: 0 }
      return result
    },
    close: () => {
      Socket.prototype.write = write
      monitor.disconnect()
      base.disconnect()
    }
  }
}

/** Per-job numbers of a phase, as `phase.roundTrips` etc. */
export const perJob = (phase: string, count: Count, jobs: number): Record<string, number> => ({
  [`${phase}.roundTrips`]: count.roundTrips / jobs,
  [`${phase}.commands`]: count.commands / jobs,
  [`${phase}.scripted`]: count.scripted / jobs
})
