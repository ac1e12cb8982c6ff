/**
 * Ruby Resque 3.0, resque-scheduler 5.0 and resque-web as other clients of the test's Redis, reproduced
 * record for record from their sources (Ruby is not installed here): the keys each writes and reads, in the
 * JSON key order each encodes, and the decisions each takes from them (a starting Ruby worker's prune, what
 * resque-web shows for a worker). Every function is plain Redis commands through the test's backend, so it
 * runs on both backends.
 *
 * Sources: resque `lib/resque/worker.rb` (`startup`, `prune_dead_workers`, `unregister_worker`, `working_on`,
 * `processed`, `started`), `lib/resque/data_store.rb` (`Workers`, `HEARTBEAT_KEY`), `lib/resque/job.rb`
 * (`create`, `destroy`), `lib/resque/failure/redis.rb` (`save`), `lib/resque/server/views/workers.erb`;
 * resque-scheduler `lib/resque/scheduler/delaying_extensions.rb` (`delayed_push`, `scheduled_at`,
 * `remove_delayed`).
 */
import { redisCall } from "./app.ts"

/** A Ruby worker's id: `host:pid:queues`. */
export const rubyWorkerId = (host: string, pid: number, queues: ReadonlyArray<string>) => `${host}:${pid}:${queues.join(",")}`

/** Ruby's `Time.now.to_s` on a UTC server: `2026-12-01 05:21:09 +0000`. */
export const rubyTimeToS = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} +0000`

/** Ruby's `Time#iso8601` on a UTC server: `2026-12-01T05:21:09+00:00`. */
export const rubyIso8601 = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`

/** Ruby's `Time.now.utc.iso8601` (the working-on record's `run_at`): `2026-12-01T05:21:09Z`. */
const rubyUtcIso8601 = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`

/** `Resque.push` of `Job.create(queue, klass, *args)`: `{"class","args"}`, no `queue`. */
export const rubyPayload = (klass: string, args: ReadonlyArray<unknown>) => JSON.stringify({ class: klass, args })

/** `Job.create`: SADD queues + RPUSH of Ruby's payload. */
export const rubyEnqueue = (queue: string, klass: string, args: ReadonlyArray<unknown>) =>
  redisCall(async (client, keys) => {
    await client.sadd(keys.key("queues"), queue)
    await client.rpush(keys.key("queue", queue), rubyPayload(klass, args))
  })

/** `Job.destroy(queue, klass, *args)` with args: LREM of Ruby's own encoding, exactly. */
export const rubyDestroy = (queue: string, klass: string, args: ReadonlyArray<unknown>) =>
  redisCall((client, keys) => client.lrem<number>(keys.key("queue", queue), 0, rubyPayload(klass, args)))

/**
 * A Ruby worker as it starts (`startup`: heartbeat, prune, register) and then takes a job (`working_on`),
 * without the prune (see {@link rubyPrune}).
 */
export const rubyWorker = (options: {
  readonly id: string
  readonly now?: number
  readonly working?: { readonly queue: string; readonly payload: unknown; readonly runAt?: number } | undefined
}) =>
  redisCall(async (client, keys) => {
    const now = options.now ?? Date.now()
    await client.hset(keys.key("workers", "heartbeat"), options.id, rubyIso8601(now))
    await client.sadd(keys.key("workers"), options.id)
    await client.set(keys.key("worker", options.id, "started"), rubyTimeToS(now))
    if (options.working !== undefined) {
      const { queue, payload, runAt } = options.working
      await client.set(keys.key("worker", options.id), JSON.stringify({ queue, run_at: rubyUtcIso8601(runAt ?? now), payload }))
    }
  })

/** What one Ruby prune did. */
export interface Pruned {
  readonly id: string
  readonly reason: "heartbeat" | "host"
}

/**
 * `Worker#prune_dead_workers` of a Ruby worker starting on `hostname` with `queues`, whose running Ruby
 * workers have `pids` (its `ps` grep for Resque proclines): every worker with a heartbeat older than the
 * prune interval (5 minutes) is unregistered with `PruneDeadWorkerDirtyExit`; then every other worker (of
 * its queues, or every worker when it listens on `*`) whose id names this host and a pid not among `pids`
 * is unregistered, its job failed as `Resque::DirtyExit`. The lock (`pruning_dead_workers_in_progress`)
 * is taken and left to expire, as Ruby does.
 */
export const rubyPrune = (options: {
  readonly hostname: string
  readonly queues: ReadonlyArray<string>
  readonly pids: ReadonlyArray<string>
  readonly pruneIntervalSeconds?: number
}) =>
  redisCall(async (client, keys) => {
    const pruned: Array<Pruned> = []
    if ((await client.set(keys.key("pruning_dead_workers_in_progress"), "ruby", "EX", 60, "NX")) === null) return pruned
    const all = await client.smembers<ReadonlyArray<string>>(keys.key("workers"))
    const heartbeats = await client.hgetall<Record<string, string>>(keys.key("workers", "heartbeat"))
    const now = Date.now()
    const expired = Object.entries(heartbeats ?? {})
      .filter(([, beat]) => (now - Date.parse(beat)) / 1000 > (options.pruneIntervalSeconds ?? 300))
      .map(([id]) => id)
    const unregister = async (id: string, exception: string, error: string) => {
      const raw = await client.get<string | null>(keys.key("worker", id))
      const hash = raw === null ? {} : JSON.parse(raw)
      if (hash.queue !== undefined) {
        await client.rpush(keys.key("failed"), JSON.stringify({
          failed_at: new Date(now).toISOString().slice(0, 19).replace(/-/g, "/").replace("T", " ") + " UTC",
          payload: hash.payload,
          exception,
          error,
          backtrace: [],
          worker: id,
          queue: hash.queue
        }))
      }
      await client.srem(keys.key("workers"), id)
      await client.del(keys.key("worker", id))
      await client.del(keys.key("worker", id, "started"))
      await client.hdel(keys.key("workers", "heartbeat"), id)
      await client.del(keys.key("stat", "processed", id))
      await client.del(keys.key("stat", "failed", id))
    }
    for (const id of expired) {
      await unregister(id, "Resque::PruneDeadWorkerDirtyExit", `Worker ${id} did not gracefully exit while processing`)
      pruned.push({ id, reason: "heartbeat" })
    }
    for (const id of all) {
      if (expired.includes(id)) continue
      // `host, pid, worker_queues_raw = worker.id.split(':')`
      const [host, pid, queuesRaw = ""] = id.split(":")
      const workerQueues = new Set(queuesRaw.split(","))
      const same = workerQueues.size === options.queues.length && options.queues.every((q) => workerQueues.has(q))
      if (!options.queues.includes("*") && !same) continue
      if (host !== options.hostname) continue
      if (pid !== undefined && options.pids.includes(pid)) continue
      await unregister(id, "Resque::DirtyExit", "Job still being processed")
      pruned.push({ id, reason: "host" })
    }
    return pruned
  })

/** One worker as resque-web's worker page shows it (`workers.erb`, `Worker.find`). */
export interface RubyWebWorker {
  readonly id: string
  readonly host: string
  readonly pid: string
  readonly queues: ReadonlyArray<string>
  /** `worker.started`, the raw text, and what the page's `relatizeDate` makes of it (`new Date(text)`). */
  readonly started: string | null
  readonly startedValid: boolean
  /** `worker.heartbeat`: `Time.parse` of the heartbeat hash's entry; null when absent. */
  readonly heartbeat: string | null
  readonly processed: number
  readonly failed: number
  /** `worker.processing['payload']['class']` when `processing['queue']` is set. */
  readonly processing: string | null
  readonly state: "working" | "idle"
}

/** resque-web's workers page: every registered worker and what it shows for it. */
export const resqueWebWorkers = redisCall(async (client, keys): Promise<ReadonlyArray<RubyWebWorker>> => {
  const ids = [...await client.smembers<ReadonlyArray<string>>(keys.key("workers"))].sort()
  const shown: Array<RubyWebWorker> = []
  for (const id of ids) {
    const [host = "", pid = "", queues = ""] = id.split(":")
    const started = await client.get<string | null>(keys.key("worker", id, "started"))
    const heartbeat = await client.hget<string | null>(keys.key("workers", "heartbeat"), id)
    const raw = await client.get<string | null>(keys.key("worker", id))
    const processing = raw === null ? {} : JSON.parse(raw)
    shown.push({
      id,
      host,
      pid,
      queues: queues.split(","),
      started,
      startedValid: started !== null && !Number.isNaN(new Date(started).getTime()),
      heartbeat: heartbeat === null || Number.isNaN(Date.parse(heartbeat)) ? null : heartbeat,
      processed: Number(await client.get<string | null>(keys.key("stat", "processed", id)) ?? 0),
      failed: Number(await client.get<string | null>(keys.key("stat", "failed", id)) ?? 0),
      processing: processing.queue === undefined ? null : String(processing.payload?.class),
      state: raw === null ? "idle" : "working"
    })
  }
  return shown
})

/** The failed records, raw JSON decoded. */
export const failedRecords = redisCall(async (client, keys) =>
  (await client.lrange<ReadonlyArray<string>>(keys.key("failed"), 0, -1)).map((raw) => JSON.parse(raw))
)

/** resque-scheduler's delayed item: `job_to_hash_with_queue`, `{"class","args","queue"}`. */
export const schedulerPayload = (queue: string, klass: string, args: ReadonlyArray<unknown>) => JSON.stringify({ class: klass, args, queue })

/** resque-scheduler's `enqueue_at_with_queue` of a future time: `delayed_push` (RPUSH, SADD timestamps, ZADD). */
export const schedulerEnqueueAt = (seconds: number, queue: string, klass: string, args: ReadonlyArray<unknown>) =>
  redisCall(async (client, keys) => {
    const item = schedulerPayload(queue, klass, args)
    await client.rpush(keys.key(`delayed:${seconds}`), item)
    await client.sadd(keys.key(`timestamps:${item}`), `delayed:${seconds}`)
    await client.zadd(keys.key("delayed_queue_schedule"), seconds, seconds)
  })

/** resque-scheduler's `scheduled_at`: the timestamps set of its own encoding, exactly. */
export const schedulerScheduledAt = (queue: string, klass: string, args: ReadonlyArray<unknown>) =>
  redisCall(async (client, keys) =>
    (await client.smembers<ReadonlyArray<string>>(keys.key(`timestamps:${schedulerPayload(queue, klass, args)}`))).map((key) => Number(key.slice("delayed:".length)))
  )

/** resque-scheduler's `remove_delayed_in_queue` (`remove_delayed_job`): LREM of its own encoding at each time its set names. */
export const schedulerRemoveDelayed = (queue: string, klass: string, args: ReadonlyArray<unknown>) =>
  redisCall(async (client, keys) => {
    const item = schedulerPayload(queue, klass, args)
    let removed = 0
    for (const key of await client.smembers<ReadonlyArray<string>>(keys.key(`timestamps:${item}`))) {
      removed += await client.lrem<number>(keys.key(key), 0, item)
      await client.srem(keys.key(`timestamps:${item}`), key)
    }
    return removed
  })
