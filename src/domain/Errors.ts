/**
 * The typed errors of the runtime. Every failure a caller can see is one of these: a Schema-tagged class with
 * its data as fields and a readable `message`, so bad input is reported precisely, never crashes a worker,
 * and an error that ends up in a failed-job record keeps its data (`Schema.encode` gives tag and fields).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A cause as text; never throws (`String` does on objects without a prototype, as some replies are).
 *
 * @category formatting
 */
export const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  if (typeof cause === "string") return cause
  try {
    return JSON.stringify(cause) ?? String(cause)
  } catch {
    try {
      return String(cause)
    } catch {
      return "unknown error"
    }
  }
}

/**
 * A Redis command or connection failed (server down, timeout, refused AUTH, an error reply...). `op` names
 * what was being done: the command, the script, or the connection.
 *
 * @category errors
 */
export class RedisError extends Schema.TaggedError<RedisError>()("RedisError", {
  op: Schema.String,
  cause: Schema.Defect(),
  /**
   * Set when the request got no reply within the request timeout: it may still have run on the server, and
   * retrying it costs another timeout.
   */
  timedOut: Schema.optional(Schema.Boolean)
}) {
  override get message(): string {
    return `Redis ${this.op} failed: ${describeCause(this.cause)}`
  }
}

/**
 * No action of this name is registered.
 *
 * @category errors
 */
export class UnknownAction extends Schema.TaggedError<UnknownAction>()("UnknownAction", {
  action: Schema.String
}) {
  override get message(): string {
    return `unknown action ${this.action}`
  }
}

/**
 * An enqueue hook refused a job (a tenant over quota, a job that must not run now...): nothing is written for
 * it. For a fan-out child, the child lands in the fan-out's `errors` with reason `Refused`, and the other
 * children are written.
 *
 * @category errors
 */
export class EnqueueRefused extends Schema.TaggedError<EnqueueRefused>()("EnqueueRefused", {
  action: Schema.String,
  hook: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.action} refused by ${this.hook}: ${this.reason}`
  }
}

/**
 * Two actions of one name were given to a registry.
 *
 * @category errors
 */
export class DuplicateAction extends Schema.TaggedError<DuplicateAction>()("DuplicateAction", {
  action: Schema.String
}) {
  override get message(): string {
    return `action ${this.action} is defined more than once`
  }
}

/**
 * Inputs did not satisfy the action's Schema. `detail` is the Schema's readable message.
 *
 * @category errors
 */
export class InvalidInputs extends Schema.TaggedError<InvalidInputs>()("InvalidInputs", {
  action: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid inputs for ${this.action}: ${this.detail}`
  }
}

/**
 * A queued payload could not be read as a Resque job (not JSON, no class, args not an array...).
 *
 * @category errors
 */
export class CorruptPayload extends Schema.TaggedError<CorruptPayload>()("CorruptPayload", {
  detail: Schema.String
}) {
  override get message(): string {
    return `corrupt job payload: ${this.detail}`
  }
}

/**
 * An encoded payload is larger than the configured limit; nothing was enqueued.
 *
 * @category errors
 */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  action: Schema.String,
  bytes: Schema.Number,
  limit: Schema.Number
}) {
  override get message(): string {
    return `payload for ${this.action} is ${this.bytes} bytes, over the limit of ${this.limit}`
  }
}

/**
 * An action's result could not be encoded to JSON (BigInt, circular structure, Schema mismatch).
 *
 * @category errors
 */
export class ResultNotEncodable extends Schema.TaggedError<ResultNotEncodable>()("ResultNotEncodable", {
  action: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `result of ${this.action} cannot be encoded: ${this.detail}`
  }
}

/**
 * An action ran longer than its timeout and was interrupted.
 *
 * @category errors
 */
export class JobTimedOut extends Schema.TaggedError<JobTimedOut>()("JobTimedOut", {
  action: Schema.String,
  millis: Schema.Number
}) {
  override get message(): string {
    return `${this.action} timed out after ${this.millis} ms`
  }
}

/**
 * A failed-job record is not in the failed list (already removed or retried, or never there). Records are
 * matched by their exact stored string, as Resque does.
 *
 * @category errors
 */
export class FailedJobNotFound extends Schema.TaggedError<FailedJobNotFound>()("FailedJobNotFound", {
  action: Schema.NullOr(Schema.String),
  raw: Schema.String
}) {
  override get message(): string {
    return `failed job ${this.action ?? "(unreadable)"} is not in the failed list`
  }
}

/**
 * No worker of this name is registered.
 *
 * @category errors
 */
export class UnknownWorker extends Schema.TaggedError<UnknownWorker>()("UnknownWorker", {
  worker: Schema.String
}) {
  override get message(): string {
    return `unknown worker ${this.worker}`
  }
}

/**
 * The action exists but has no `task.frequency`: it does not recur.
 *
 * @category errors
 */
export class NotRecurring extends Schema.TaggedError<NotRecurring>()("NotRecurring", {
  action: Schema.String
}) {
  override get message(): string {
    return `action ${this.action} is not recurring (it has no task.frequency)`
  }
}

/**
 * An action's recurrence cannot be used: a cron expression or time zone that does not parse, `frequency` and
 * `cron` both given, or a frequency that is not a positive duration. Found when the runtime is built.
 *
 * @category errors
 */
export class InvalidSchedule extends Schema.TaggedError<InvalidSchedule>()("InvalidSchedule", {
  action: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid schedule for action ${this.action}: ${this.detail}`
  }
}

/**
 * A queue name that cannot be paused or resumed: empty, or `*` (which is every queue to a worker, not a queue).
 *
 * @category errors
 */
export class InvalidQueue extends Schema.TaggedError<InvalidQueue>()("InvalidQueue", {
  queue: Schema.String
}) {
  override get message(): string {
    return `invalid queue name ${JSON.stringify(this.queue)}: give a queue's own name (not empty, not "*")`
  }
}

/**
 * A job named by its id (and the position it was listed at) is no longer in its list: it ran, was retried or
 * removed, or the list changed too much since it was read. `list` is the queue name, `delayed:<ms>` or `failed`.
 *
 * @category errors
 */
export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  list: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `job ${this.id} is no longer in ${this.list} (it ran, was removed, or the list changed: reload it)`
  }
}
