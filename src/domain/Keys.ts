/**
 * Redis key names, under the runtime's namespace (default `resque`, as node-resque and Ruby Resque use), so
 * queues stay wire-compatible and two runtimes with different namespaces never see each other's keys.
 *
 * @since 0.1.0
 */

/** @category models */
export interface Keys {
  readonly namespace: string
  readonly key: (...parts: ReadonlyArray<string | number>) => string
  readonly queues: string
  readonly queue: (queue: string) => string
  readonly failed: string
  readonly workers: string
  /** The "working on" record of one worker: `worker:NAME:QUEUES`. */
  readonly working: (worker: string, queues: string) => string
  readonly started: (worker: string, queues: string) => string
  readonly ping: (worker: string) => string
  /** Ruby Resque's heartbeats: a hash of worker id (`NAME:QUEUES`) to time (`workers:heartbeat`). */
  readonly heartbeats: string
  readonly stat: (...parts: ReadonlyArray<string>) => string
  /** Per-action run/failure/duration counters (hash). */
  readonly actionStats: (action: string) => string
  readonly delayed: (timestampSeconds: number) => string
  readonly delayedSchedule: string
  readonly timestamps: (payload: string) => string
  /**
   * The delayed jobs with trace headers at a second, by their payload without them (`Enqueue.scheduleOnce`):
   * a hash that tells that the same job is already there. Ours alone; it expires a day after its second.
   */
  readonly delayedIds: (timestampSeconds: number) => string
  readonly leaderLock: string
  /**
   * The lock of this runtime's own scheduler duties (recurring actions, dead-worker reclaim, fan-out
   * deadlines): ours alone, so a node-resque scheduler holding {@link leaderLock} does not stop them.
   */
  readonly dutiesLock: string
  /**
   * The wake-up marker of the pools that drain every queue (`*`): a sorted set of queue names that got jobs.
   * Every write path of this runtime adds the queue it pushed to, here and on the queue's own marker
   * ({@link wakeQueue}); an idle worker blocks on its markers (`BZPOPMIN`) instead of polling. Other Resque
   * clients do not write them: their jobs are found by the worker's poll interval.
   */
  readonly wake: string
  /**
   * The wake-up marker of the pools that name `queue` (`<wake>:<queue>`): a pool wakes only for jobs it can
   * take, so a pool of other queues never takes, and wastes, the wake-up meant for it.
   */
  readonly wakeQueue: (queue: string) => string
  /**
   * Paused queues (a hash: queue name -> epoch ms it was paused at), a key of our own. The pick scripts read
   * it with the queues they pick from, so a paused queue keeps its jobs and costs no round trip.
   */
  readonly paused: string
  /**
   * Each worker's ping interval in ms (a hash: worker name -> ms), a key of our own, written when a pool
   * registers: a scheduler never takes a worker for dead before three of its own ping intervals passed.
   */
  readonly pingIntervals: string
  /** Token of the live copy of a recurring action (absent: none is waiting or running). */
  readonly recurring: (action: string) => string
  /** Set while a recurring action is stopped, so the leader does not start it again. */
  readonly recurringStopped: (action: string) => string
  readonly fanOut: (id: string) => string
  readonly fanOutOutcomes: (id: string) => string
  /** Fan-outs with a deadline, by deadline (epoch ms): what the scheduler ends when they are overdue. */
  readonly fanOutDeadlines: string
  /** A tracked job's record (hash: state, queue, payload, progress, result or error), kept for its TTL. */
  readonly job: (id: string) => string
  /** The cancel requests for the job a worker runs (list of job ids, read by its pool's cancel listener). */
  readonly cancel: (worker: string) => string
  /** A uniqueness claim of an action (value: the id of the job holding it). */
  readonly unique: (action: string, key: string) => string
}

/**
 * Remembers the names built for the first few thousand arguments: the worker builds the same few (its
 * counters, its actions' stats) for every job.
 */
const remembered = (build: (name: string) => string): ((name: string) => string) => {
  const names = new Map<string, string>()
  return (name) => {
    let built = names.get(name)
    if (built === undefined) {
      built = build(name)
      if (names.size < 4096) names.set(name, built)
    }
    return built
  }
}

/** @category constructors */
export const make = (namespace: string): Keys => {
  const key = (...parts: ReadonlyArray<string | number>) => [namespace, ...parts].join(":")
  const statOf = remembered((parts) => key("stat", parts))
  return {
    namespace,
    key,
    queues: key("queues"),
    queue: remembered((queue) => key("queue", queue)),
    failed: key("failed"),
    workers: key("workers"),
    working: (worker, queues) => key("worker", worker, queues),
    started: (worker, queues) => key("worker", worker, queues, "started"),
    ping: (worker) => key("worker", "ping", worker),
    heartbeats: key("workers", "heartbeat"),
    stat: (...parts) => statOf(parts.join(":")),
    actionStats: remembered((action) => key("actionstat", action)),
    delayed: (timestampSeconds) => key(`delayed:${timestampSeconds}`),
    delayedSchedule: key("delayed_queue_schedule"),
    timestamps: (payload) => key(`timestamps:${payload}`),
    delayedIds: (timestampSeconds) => key(`delayed_ids:${timestampSeconds}`),
    leaderLock: key("resque_scheduler_leader_lock"),
    dutiesLock: key("duties_lock"),
    wake: key("wake"),
    wakeQueue: (queue) => `${key("wake")}:${queue}`,
    paused: key("paused"),
    pingIntervals: key("ping_intervals"),
    recurring: (action) => key("recurring", action),
    recurringStopped: (action) => key("recurring", action, "stopped"),
    fanOut: remembered((id) => key("fanout", id)),
    fanOutOutcomes: (id) => key("fanout", id, "outcomes"),
    fanOutDeadlines: key("fanout_deadlines"),
    job: (id) => key("job", id),
    cancel: (worker) => key("cancel", worker),
    unique: (action, unique) => key("unique", action, unique)
  }
}
