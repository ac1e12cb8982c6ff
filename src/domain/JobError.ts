/**
 * How a job's error is shown and kept. One set of functions, used by every place that turns an error into
 * text or data: failed-job records, fan-out errors, logs and the command line.
 *
 * - The **tag** is the error's `_tag` (a `Schema.TaggedError` or `Data.TaggedError`), else its class name.
 * - The **text** is its message when it has one, else its fields as JSON: an error declared with fields only
 *   (`Schema.TaggedError("PaymentDeclined", { sku, reason })` has an empty message) reads
 *   `{"sku":"A1","reason":"card expired"}`, never "".
 * - The **data** is what survives a round trip through Redis: the error encoded by the action's `error`
 *   Schema when it has one, else the error's own fields when they are plain JSON.
 *
 * @since 0.2.0
 */

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * The error's tag: `_tag`, else the class name of an `Error`, else `"Error"`.
 *
 * @category formatting
 */
export const tag = (error: unknown): string => {
  if (isObject(error) && typeof error["_tag"] === "string" && error["_tag"].length > 0) return error["_tag"]
  if (error instanceof Error) return error.name
  return "Error"
}

/** The own enumerable fields of an error, without its tag (and without `message`, shown on its own). */
const fields = (error: Record<string, unknown>): Record<string, unknown> => {
  const { _tag: _, message: __, ...rest } = error
  return rest
}

const json = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))
  } catch {
    return undefined
  }
}

/**
 * The error as text, never empty: its message, else its fields as JSON, else its tag.
 *
 * @category formatting
 */
export const message = (error: unknown): string => {
  if (typeof error === "string") return error.length > 0 ? error : "Error"
  if (error instanceof Error && error.message.length > 0) return error.message
  if (isObject(error)) {
    if (typeof error["message"] === "string" && error["message"].length > 0) return error["message"]
    const own = fields(error)
    if (Object.keys(own).length > 0) return json(own) ?? tag(error)
    return tag(error)
  }
  return json(error) ?? String(error)
}

/**
 * Tag and text, for logs and the command line: `PaymentDeclined: {"sku":"A1","reason":"card expired"}`.
 *
 * @category formatting
 */
export const format = (error: unknown): string => {
  const text = message(error)
  const name = tag(error)
  return text === name ? name : `${name}: ${text}`
}

/**
 * The error's plain data when it has no Schema to encode it: `{ _tag, ...fields }` if that is JSON (no
 * functions, no cycles), else undefined. An `Error`'s stack is left out; its message is kept.
 *
 * @category encoding
 */
export const plainData = (error: unknown): unknown => {
  if (!isObject(error)) return undefined
  const data: Record<string, unknown> = { _tag: tag(error), ...fields(error) }
  if (error instanceof Error && error.message.length > 0) data["message"] = error.message
  const text = json(data)
  return text === undefined ? undefined : JSON.parse(text)
}
