/**
 * A job on the wire: Resque's format `{"class": action, "queue": q, "args": [inputs]}`, the format
 * node-resque and Ruby Resque read and write. Runtime metadata (fan-out id, child index, attempt, recurrence
 * token) rides inside the inputs object under the reserved key `_job`, which the worker strips before the
 * Schema decode: the action never sees it, every Resque retry path keeps it, and a plain node-resque worker
 * still runs the job. For an action with `task.plainArgs` it rides beside `args` instead (`{"class",
 * "queue", "args", "_job"}`), so `args` is exactly the inputs for a foreign worker; both places are read.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import { CorruptPayload } from "./Errors.ts"

/** The reserved inputs key that carries {@link JobMeta}. */
export const META_KEY = "_job"

/**
 * Metadata the runtime attaches to a job.
 *
 * @category models
 */
export interface JobMeta {
  /**
   * The job's id (`enqueue` returns it in the job's handle). First in the metadata, so a record holding the
   * payload can be searched for `"_job":{"id":"..."` (see {@link idNeedle}).
   */
  readonly id?: string
  /** Milliseconds its status, progress and result are kept (`track`): present only for a tracked job. */
  readonly track?: number
  /** The uniqueness claim the job holds until it ends (`unique` with mode `until-done`). */
  readonly unique?: string
  /** Fan-out this job is a child of. */
  readonly fanOut?: string
  /** The child's index within its fan-out. */
  readonly index?: number
  /** 1 for the first run; incremented by each retry. */
  readonly attempt?: number
  /** Token of the recurring chain this copy belongs to. */
  readonly recurrence?: string
  /**
   * Message headers added by enqueue hooks (`Hooks.onEnqueue`): W3C `traceparent`/`tracestate`, the time it
   * was sent, a tenant... Strings only; kept by retries and copied to nothing else.
   */
  readonly headers?: Readonly<Record<string, string>>
  /** When (ms) a worker that did not know the action first handed the job back (`Worker` `handBackFor`). */
  readonly handedBackAt?: number
}

/**
 * A job as read from a queue, with metadata split from the action's inputs.
 *
 * @category models
 */
export interface ParsedJob {
  readonly action: string
  readonly queue: string
  /** The inputs as they travelled, without the `_job` key: still to be decoded by the action's Schema. */
  readonly inputs: unknown
  readonly meta: JobMeta
  /** The raw `args` array, as Resque stores it. */
  readonly args: ReadonlyArray<unknown>
  /** The metadata rode beside `args` (`plainArgs`): a copy (a retry) keeps it there. */
  readonly metaBesideArgs?: true
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Serialises a job. Key order matches node-resque's `queue.encode`, so its `del`/`delDelayed`, which compare
 * whole payload strings, find our jobs. With `besideArgs` the metadata is a payload key after `args`.
 *
 * @category constructors
 */
export const encode = (queue: string, action: string, inputs: unknown, meta?: JobMeta, options?: { readonly besideArgs?: boolean | undefined }): string => {
  const hasMeta = meta !== undefined && Object.keys(meta).length > 0
  if (hasMeta && options?.besideArgs === true) return JSON.stringify({ class: action, queue, args: [inputs], [META_KEY]: meta })
  const arg = hasMeta && isRecord(inputs) ? { ...inputs, [META_KEY]: meta } : inputs
  return JSON.stringify({ class: action, queue, args: [arg] })
}

const withoutMeta = (inputs: Record<string, unknown>): Record<string, unknown> => {
  const { [META_KEY]: _meta, ...rest } = inputs
  return rest
}

/** The string entries of a headers object (another client may have written anything there). */
const readHeaders = (u: Record<string, unknown>): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const key in u) {
    const value = u[key]
    if (typeof value === "string") headers[key] = value
  }
  return headers
}

const readMeta = (u: unknown): JobMeta => {
  if (!isRecord(u)) return {}
  const meta: { id?: string; track?: number; unique?: string; fanOut?: string; index?: number; attempt?: number; recurrence?: string; headers?: Record<string, string>; handedBackAt?: number } = {}
  if (typeof u["id"] === "string") meta.id = u["id"]
  if (typeof u["track"] === "number") meta.track = u["track"]
  if (typeof u["unique"] === "string") meta.unique = u["unique"]
  if (typeof u["fanOut"] === "string") meta.fanOut = u["fanOut"]
  if (typeof u["index"] === "number") meta.index = u["index"]
  if (typeof u["attempt"] === "number") meta.attempt = u["attempt"]
  if (typeof u["recurrence"] === "string") meta.recurrence = u["recurrence"]
  if (isRecord(u["headers"])) meta.headers = readHeaders(u["headers"])
  if (typeof u["handedBackAt"] === "number") meta.handedBackAt = u["handedBackAt"]
  return meta
}

/**
 * The text a payload (or a working-on record holding it) contains when it carries job id `id`: the id leads
 * the metadata, so this finds the job and not an input that happens to hold the same text.
 *
 * @category encoding
 */
export const idNeedle = (id: string): string => `"${META_KEY}":{"id":${JSON.stringify(id)}`

/**
 * Reads a decoded Resque job object (`{class, queue, args}`), splitting off the metadata.
 *
 * @category parsing
 */
export const fromObject = (job: unknown, fallbackQueue = ""): Result.Result<ParsedJob, CorruptPayload> => {
  if (!isRecord(job)) return Result.fail(new CorruptPayload({ detail: "payload is not a JSON object" }))
  const action = job["class"]
  if (typeof action !== "string" || action.length === 0) {
    return Result.fail(new CorruptPayload({ detail: "payload has no \"class\" (action name)" }))
  }
  const args = job["args"] === undefined ? [] : job["args"]
  if (!Array.isArray(args)) return Result.fail(new CorruptPayload({ detail: `"args" of ${action} is not an array` }))
  const queue = typeof job["queue"] === "string" ? job["queue"] : fallbackQueue
  const first: unknown = args[0]
  if (isRecord(job[META_KEY])) {
    const inputs = isRecord(first) && META_KEY in first ? withoutMeta(first) : first ?? {}
    return Result.succeed({ action, queue, inputs, meta: readMeta(job[META_KEY]), args, metaBesideArgs: true })
  }
  if (isRecord(first) && META_KEY in first) {
    const { [META_KEY]: meta, ...inputs } = first
    return Result.succeed({ action, queue, inputs, meta: readMeta(meta), args })
  }
  return Result.succeed({ action, queue, inputs: first ?? {}, meta: {}, args })
}

/**
 * Parses a raw payload string.
 *
 * @category parsing
 */
export const parse = (raw: string, fallbackQueue = ""): Result.Result<ParsedJob, CorruptPayload> => {
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch (error) {
    return Result.fail(new CorruptPayload({ detail: `not JSON (${error instanceof Error ? error.message : String(error)})` }))
  }
  return fromObject(json, fallbackQueue)
}
