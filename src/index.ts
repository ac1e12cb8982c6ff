/**
 * effect-resque: Effect-native background jobs on Redis, wire-compatible with Resque and node-resque.
 *
 * @since 0.1.0
 */
export * as Action from "./domain/Action.ts"
export * as Errors from "./domain/Errors.ts"
export * as FanOut from "./domain/FanOut.ts"
export * as Keys from "./domain/Keys.ts"
export * as Outcome from "./domain/Outcome.ts"
export * as Payload from "./domain/Payload.ts"
export * as ActionRegistry from "./layers/ActionRegistry.ts"
export * as Actions from "./layers/Actions.ts"
export * as FanOutStore from "./layers/FanOut.ts"
export * as FanOutPrograms from "./programs/fanOut.ts"
export * as Queue from "./layers/Queue.ts"
export * as Redis from "./layers/Redis.ts"
export * as RedisMemory from "./layers/RedisMemory.ts"
export * as Runtime from "./layers/Runtime.ts"
export * as Scheduler from "./layers/Scheduler.ts"
export * as Tasks from "./layers/Tasks.ts"
export * as TasksModel from "./domain/Tasks.ts"
export * as Worker from "./layers/Worker.ts"
export * as WorkerMiddleware from "./layers/WorkerMiddleware.ts"
