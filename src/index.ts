/**
 * effect-resque: Effect-native background jobs on Redis, wire-compatible with Resque and node-resque.
 *
 * - Data: {@link Action} (the definition of a job), {@link FanOut}, {@link Job} (the wire format),
 *   {@link JobControl} (job ids, status, uniqueness, cancel), {@link JobError}, {@link Outcome},
 *   {@link OperationsModel}, {@link Errors}, {@link Keys}.
 * - Services and their layers: {@link Redis} and {@link RedisMemory} (the backends), {@link Resque} (the
 *   queue of an application's actions: {@link Actions} and {@link Operations}), {@link Worker},
 *   {@link JobScheduler}, {@link WorkerMiddleware}, {@link CurrentJob} (a job's id and progress, inside `run`),
 *   {@link JobHooks} (enqueue and run hooks; tracing), {@link JobMetrics}.
 *
 * The command line is `effect-resque/cli`; the test helpers are `effect-resque/testing`.
 *
 * @since 0.1.0
 */
export * as Action from "./domain/Action.ts"
export * as Errors from "./domain/Errors.ts"
export * as FanOut from "./domain/FanOut.ts"
export * as Job from "./domain/Job.ts"
export * as JobControl from "./domain/JobControl.ts"
export * as JobError from "./domain/JobError.ts"
export * as Keys from "./domain/Keys.ts"
export * as OperationsModel from "./domain/Operations.ts"
export * as Outcome from "./domain/Outcome.ts"
export * as ActionRegistry from "./layers/ActionRegistry.ts"
export * as Actions from "./layers/Actions.ts"
export * as CurrentJob from "./layers/CurrentJob.ts"
export * as JobHooks from "./layers/JobHooks.ts"
export * as JobMetrics from "./layers/JobMetrics.ts"
export * as JobScheduler from "./layers/JobScheduler.ts"
export * as Operations from "./layers/Operations.ts"
export * as Redis from "./layers/Redis.ts"
export * as RedisMemory from "./layers/RedisMemory.ts"
export * as Resque from "./layers/Resque.ts"
export * as Worker from "./layers/Worker.ts"
export * as WorkerMiddleware from "./layers/WorkerMiddleware.ts"
