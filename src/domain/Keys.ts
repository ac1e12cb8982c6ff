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
  readonly stat: (...parts: ReadonlyArray<string>) => string
  /** Per-action run/failure/duration counters (hash). */
  readonly actionStats: (action: string) => string
  readonly delayed: (timestampSeconds: number) => string
  readonly delayedSchedule: string
  readonly timestamps: (payload: string) => string
  readonly leaderLock: string
  /** Token of the live copy of a recurring action (absent: none is waiting or running). */
  readonly recurring: (action: string) => string
  /** Set while a recurring action is stopped, so the leader does not start it again. */
  readonly recurringStopped: (action: string) => string
  readonly fanOut: (id: string) => string
  readonly fanOutOutcomes: (id: string) => string
}

/** @category constructors */
export const make = (namespace: string): Keys => {
  const key = (...parts: ReadonlyArray<string | number>) => [namespace, ...parts].join(":")
  return {
    namespace,
    key,
    queues: key("queues"),
    queue: (queue) => key("queue", queue),
    failed: key("failed"),
    workers: key("workers"),
    working: (worker, queues) => key("worker", worker, queues),
    started: (worker, queues) => key("worker", worker, queues, "started"),
    ping: (worker) => key("worker", "ping", worker),
    stat: (...parts) => key("stat", ...parts),
    actionStats: (action) => key("actionstat", action),
    delayed: (timestampSeconds) => key(`delayed:${timestampSeconds}`),
    delayedSchedule: key("delayed_queue_schedule"),
    timestamps: (payload) => key(`timestamps:${payload}`),
    leaderLock: key("resque_scheduler_leader_lock"),
    recurring: (action) => key("recurring", action),
    recurringStopped: (action) => key("recurring", action, "stopped"),
    fanOut: (id) => key("fanout", id),
    fanOutOutcomes: (id) => key("fanout", id, "outcomes")
  }
}
