/**
 * The idle-cost protocol (case `idle`), the same for every system: what an idle worker process costs Redis.
 *
 * 1. Baseline: redis-server CPU over `baselineMs` (default 3 s) before the system connects (the server's own
 *    timers, `hz`).
 * 2. The system starts its idle workers (50 slots / workers) and warms up for `warmupMs` (default 2 s).
 * 3. The window (`windowMs`, default 10 s) between two `INFO all` readings (`snapshot`): CPU, commands
 *    processed and calls per command, each reading one command, at one instant.
 *
 * Attribution of commands. The headline, **commands executed per second**, is the growth of redis-server's
 * own per-command counters (`INFO commandstats`: every command the server ran, those run by Lua scripts
 * included; MULTI and EXEC are not counted, as in the round-trip case) over the window, minus the harness's
 * own command in it: the first reading (a reading does not count itself, the second counts the first). On
 * the bench's private server that is right: while a case runs, the only other connection is the
 * orchestrator's, which sends nothing until the case process exits. The case proves it on every run: after
 * the window, `CLIENT LIST` must show no connection but this process's that ran a command during the window
 * (its `idle` is shorter than the window); this process's connections are known by their local ports (the
 * tap below sees them write). On someone else's server (`BENCH_REDIS_URL`) the server-wide count may include
 * other clients: the case reports how many were active (`foreignActiveClients`) instead of failing.
 *
 * The client side is counted too, per connection, without the server: every socket write of this process to
 * the Redis port (a round trip: ioredis writes a MULTI block or a pipeline in one write), and the RESP
 * commands in those writes (commands sent, MULTI/EXEC aside). Executed − sent = commands run inside scripts.
 */
import { Socket } from "node:net"
import type { Redis as IORedis } from "ioredis"

/** Counts RESP commands (`*N` arrays of bulk strings) in a byte stream, chunk by chunk; `multi`/`exec` aside. */
class RespCounter {
  commands = 0
  private header = ""
  /** Bytes of the current bulk string (and its CRLF) still to skip. */
  private skip = 0
  /** Bulk strings left in the current command. */
  private left = 0
  /** The next bulk string is the command's name: its bytes are collected. */
  private naming = false
  private name = ""

  feed(bytes: Uint8Array): void {
    let at = 0
    while (at < bytes.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, bytes.length - at)
        if (this.naming) {
          const end = Math.min(take, Math.max(0, this.skip - 2))
          this.name += Buffer.from(bytes.subarray(at, at + end)).toString("latin1")
        }
        at += take
        this.skip -= take
        if (this.skip === 0) this.endBulk()
        continue
      }
      // a header line: `*N` or `$len`, up to CRLF
      const lf = bytes.indexOf(10, at)
      if (lf < 0) {
        this.header += Buffer.from(bytes.subarray(at)).toString("latin1")
        return
      }
      const line = (this.header + Buffer.from(bytes.subarray(at, lf)).toString("latin1")).replace(/\r$/, "")
      this.header = ""
      at = lf + 1
      if (line.startsWith("*")) {
        this.left = Number(line.slice(1))
        this.naming = true
        this.name = ""
        if (this.left <= 0) this.naming = false
      } else if (line.startsWith("$")) {
        this.skip = Number(line.slice(1)) + 2
      } else if (line.length > 0) {
        // an inline command (never written by ioredis): count it as one
        this.count(line.split(" ")[0] ?? "")
      }
    }
  }

  private endBulk(): void {
    if (this.naming) {
      this.naming = false
      this.count(this.name)
    }
    this.left--
  }

  private count(name: string): void {
    const command = name.toLowerCase()
    if (command !== "multi" && command !== "exec") this.commands++
  }
}

export interface ClientCount {
  /** Socket writes to the Redis port (requests the caller waits on). */
  readonly roundTrips: number
  /** RESP commands written, MULTI/EXEC not counted. */
  readonly commands: number
}

export interface Tap {
  /** What this process's connections (the harness's aside) wrote since the last `reset`. */
  readonly count: () => ClientCount
  readonly reset: () => void
  /** Local ports of every connection of this process to the Redis port, the harness's included. */
  readonly localPorts: () => ReadonlySet<number>
  readonly close: () => void
}

const bytesOf = (data: unknown, encoding: unknown): Uint8Array =>
  typeof data === "string"
    ? Buffer.from(data, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
    : data instanceof Uint8Array
    ? data
    : new Uint8Array(0)

/** Starts counting the writes of this process to the harness's Redis port; call before the system connects. */
export const startTap = (harness: IORedis): Tap => {
  const port = harness.stream.remotePort
  const ports = new Set<number>()
  if (harness.stream.localPort !== undefined) ports.add(harness.stream.localPort)
  const counters = new WeakMap<Socket, RespCounter>()
  let roundTrips = 0
  let commandsAtReset = 0
  let all: Array<RespCounter> = []
  const write = Socket.prototype.write
  Socket.prototype.write = function(this: Socket, ...args: ReadonlyArray<unknown>): boolean {
    if (this.remotePort === port && this !== harness.stream) {
      if (this.localPort !== undefined) ports.add(this.localPort)
      let counter = counters.get(this)
      if (counter === undefined) {
        counter = new RespCounter()
        counters.set(this, counter)
        all.push(counter)
      }
      roundTrips++
      counter.feed(bytesOf(args[0], args[1]))
    }
    return Reflect.apply(write, this, args) as boolean
  } as Socket["write"]
  const total = () => all.reduce((sum, c) => sum + c.commands, 0)
  return {
    count: () => ({ roundTrips, commands: total() - commandsAtReset }),
    reset: () => {
      roundTrips = 0
      commandsAtReset = total()
    },
    localPorts: () => ports,
    close: () => {
      Socket.prototype.write = write
      all = []
    }
  }
}

/** One `INFO all` reading: CPU, commands processed and calls per command, at one instant. */
export interface Snapshot {
  /** redis-server CPU seconds so far (user + system). */
  readonly cpuSeconds: number
  /** `total_commands_processed` (MULTI and EXEC included). */
  readonly processed: number
  /** Calls per command (`cmdstat_*`), e.g. `{ evalsha: 120, get: 3 }`; commands run by scripts included. */
  readonly commands: ReadonlyMap<string, number>
}

/**
 * Reads a snapshot with one command, `INFO all` (every section but modules'), so the harness adds exactly one
 * command per reading, and a reading does not count itself.
 */
export const snapshot = async (client: IORedis): Promise<Snapshot> => {
  const text = String(await client.call("INFO", "all"))
  const numbers: Record<string, number> = {}
  const commands = new Map<string, number>()
  for (const line of text.split("\r\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match?.[1] !== undefined) {
      commands.set(match[1], Number(match[2]))
      continue
    }
    const at = line.indexOf(":")
    if (at > 0) {
      const value = Number(line.slice(at + 1))
      if (!Number.isNaN(value)) numbers[line.slice(0, at)] = value
    }
  }
  return {
    cpuSeconds: (numbers["used_cpu_user"] ?? 0) + (numbers["used_cpu_sys"] ?? 0),
    processed: numbers["total_commands_processed"] ?? 0,
    commands
  }
}

/** Per-command growth between two `commandStats` readings (only commands that grew). */
export const statsDelta = (before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> => {
  const out = new Map<string, number>()
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0)
    if (delta > 0) out.set(name, delta)
  }
  return out
}

/** Connections to the server (from `CLIENT LIST`) not of this process that ran a command in the last `seconds`. */
export const foreignActiveClients = async (client: IORedis, ours: ReadonlySet<number>, seconds: number): Promise<ReadonlyArray<string>> => {
  const list = String(await client.client("LIST"))
  const out: Array<string> = []
  for (const line of list.split("\n")) {
    const addr = /(?:^| )addr=(\S+)/.exec(line)?.[1]
    const idle = Number(/(?:^| )idle=(\d+)/.exec(line)?.[1] ?? Number.NaN)
    if (addr === undefined) continue
    const port = Number(addr.slice(addr.lastIndexOf(":") + 1))
    if (!ours.has(port) && idle < seconds) out.push(`${addr} (idle ${idle} s, last ${/(?:^| )cmd=(\S+)/.exec(line)?.[1] ?? "?"})`)
  }
  return out
}
