/**
 * The typed errors of the runtime. Every failure a caller can see is one of these, each with a readable
 * `message`, so bad input is reported precisely and never crashes a worker.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A Redis command or connection failed (server down, timeout, refused AUTH...).
 *
 * @category errors
 */
export class RedisError extends Data.TaggedError("RedisError")<{
  readonly op: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `Redis ${this.op} failed: ${describeCause(this.cause)}`
  }
}

/** A cause as text; never throws (`String` does on objects without a prototype, as some replies are). */
const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  try {
    return String(cause)
  } catch {
    try {
      return JSON.stringify(cause) ?? "unknown error"
    } catch {
      return "unknown error"
    }
  }
}

/**
 * No action of this name is registered.
 *
 * @category errors
 */
export class UnknownAction extends Data.TaggedError("UnknownAction")<{
  readonly action: string
}> {
  override get message(): string {
    return `unknown action ${this.action}`
  }
}

/**
 * Two actions of one name were given to a registry.
 *
 * @category errors
 */
export class DuplicateAction extends Data.TaggedError("DuplicateAction")<{
  readonly action: string
}> {
  override get message(): string {
    return `action ${this.action} is defined more than once`
  }
}

/**
 * Inputs did not satisfy the action's Schema. `detail` is the Schema's readable message.
 *
 * @category errors
 */
export class InvalidInputs extends Data.TaggedError("InvalidInputs")<{
  readonly action: string
  readonly detail: string
}> {
  override get message(): string {
    return `invalid inputs for ${this.action}: ${this.detail}`
  }
}

/**
 * A queued payload could not be read as a Resque job (not JSON, no class, args not an array...).
 *
 * @category errors
 */
export class CorruptPayload extends Data.TaggedError("CorruptPayload")<{
  readonly detail: string
}> {
  override get message(): string {
    return `corrupt job payload: ${this.detail}`
  }
}

/**
 * An encoded payload is larger than the configured limit; nothing was enqueued.
 *
 * @category errors
 */
export class PayloadTooLarge extends Data.TaggedError("PayloadTooLarge")<{
  readonly action: string
  readonly bytes: number
  readonly limit: number
}> {
  override get message(): string {
    return `payload for ${this.action} is ${this.bytes} bytes, over the limit of ${this.limit}`
  }
}

/**
 * An action's result could not be encoded to JSON (BigInt, circular structure, Schema mismatch).
 *
 * @category errors
 */
export class ResultNotEncodable extends Data.TaggedError("ResultNotEncodable")<{
  readonly action: string
  readonly detail: string
}> {
  override get message(): string {
    return `result of ${this.action} cannot be encoded: ${this.detail}`
  }
}

/**
 * An action ran longer than its timeout and was interrupted.
 *
 * @category errors
 */
export class JobTimedOut extends Data.TaggedError("JobTimedOut")<{
  readonly action: string
  readonly millis: number
}> {
  override get message(): string {
    return `${this.action} timed out after ${this.millis} ms`
  }
}

/**
 * A job failed: the action failed, died with a defect, or was interrupted. Wraps the cause's message.
 *
 * @category errors
 */
export class ActionFailed extends Data.TaggedError("ActionFailed")<{
  readonly action: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.action} failed: ${this.detail}`
  }
}

/**
 * A failed-job record is not in the failed list (already removed or retried, or never there). Records are
 * matched by their exact stored string, as Resque does.
 *
 * @category errors
 */
export class FailedJobNotFound extends Data.TaggedError("FailedJobNotFound")<{
  readonly action: string | null
  readonly raw: string
}> {
  override get message(): string {
    return `failed job ${this.action ?? "(unreadable)"} is not in the failed list`
  }
}

/**
 * No worker of this name is registered.
 *
 * @category errors
 */
export class UnknownWorker extends Data.TaggedError("UnknownWorker")<{
  readonly worker: string
}> {
  override get message(): string {
    return `unknown worker ${this.worker}`
  }
}

/**
 * The action exists but has no `task.frequency`: it does not recur.
 *
 * @category errors
 */
export class NotRecurring extends Data.TaggedError("NotRecurring")<{
  readonly action: string
}> {
  override get message(): string {
    return `action ${this.action} is not recurring (it has no task.frequency)`
  }
}
