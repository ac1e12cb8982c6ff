/**
 * Handing back a job for an action this worker does not know. During a rolling deploy, producers and workers
 * of the new version enqueue a new action while workers of the old version still drain its queue: such a job
 * is not failed at once (`UnknownAction`) but scheduled again a little later (the delayed schedule, so an
 * old worker does not pick it up again at once), for a worker that knows the action. The first hand-back's
 * time rides in the job's `_job` metadata (`handedBackAt`; beside `args` unless the job's metadata already
 * rode inside them, so a plain job's `args` stay exactly as another client wrote them); once the job has been handed back for longer than
 * the bound, it fails as `UnknownAction` like before. Each hand-back counts in `stat:handed_back` and in the
 * action's `handedBack` field of `actionstat:NAME`.
 *
 * It costs nothing to a job of a known action: the worker looks here only when the registry has no entry.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Completion from "./Completion.ts"
import * as Enqueue from "./Enqueue.ts"

/** How long and how often a job for an unknown action is handed back. */
export interface Policy {
  /** Measured from the first hand-back; 0: never handed back, failed at once. */
  readonly forMillis: number
  /** How much later it is due again. */
  readonly delayMillis: number
}

/** The policy of `Worker.layer`'s `handBackFor` (default 10 minutes), due again after 1 s. */
export const policy = (handBackFor: Duration.Input | undefined): Policy => ({
  forMillis: Math.max(0, Duration.toMillis(handBackFor ?? "10 minutes")),
  delayMillis: 1000
})

/** The writes and the outcome of handing a job back. */
export interface HandedBack {
  readonly writes: ReadonlyArray<Completion.Write>
  readonly outcome: Outcome.Failure
}

/** Handing `job` back at `now`, or undefined when it fails instead: handed back for longer than the policy allows. */
export const handBack = (keys: Keys, job: Job.ParsedJob, queue: string, now: number, rule: Policy): HandedBack | undefined => {
  if (rule.forMillis <= 0) return undefined
  const first = job.meta.handedBackAt ?? now
  if (now - first >= rule.forMillis) return undefined
  // this worker cannot know whether the action keeps its args plain (`plainArgs`): metadata already inside the
  // inputs stays there; otherwise it rides beside `args`, which stay exactly as they were for any worker
  const meta: Job.JobMeta = { ...job.meta, handedBackAt: first }
  const inside = job.metaBesideArgs !== true && Object.keys(job.meta).length > 0
  // every element of `args` kept (Ruby passes them all to `perform`), in the order they came
  const payload = inside
    ? JSON.stringify({ class: job.action, queue, args: [{ ...(job.args[0] as object), [Job.META_KEY]: meta }, ...job.args.slice(1)] })
    : JSON.stringify({ class: job.action, queue, args: job.args, [Job.META_KEY]: meta })
  const writes: Array<Completion.Write> = [
    Completion.countOne(keys.stat("handed_back")),
    Completion.countOne(keys.actionStats(job.action), "handedBack"),
    ...Enqueue.pushAt(keys, now + rule.delayMillis, payload)
  ]
  const outcome = Outcome.failure({
    exception: "HandedBack",
    error: `no action ${job.action} in this worker: handed back for a worker that knows it (for ${Math.round((now - first) / 1000)} s so far)`,
    backtrace: [],
    final: false,
    durationMs: 0
  })
  return { writes, outcome }
}

