/**
 * How a worker describes a failed job: the outcome's fields from an Effect `Cause`, and node-resque's failed
 * entry (the JSON pushed on the failed list).
 */
import type { Cause } from "effect"
import * as Outcome from "../domain/Outcome.ts"
import { causeMessage } from "../layers/ActionRegistry.ts"

const isTagged = (error: unknown): error is { readonly _tag: string } =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"

const errorName = (error: unknown): string =>
  isTagged(error) ? error._tag : error instanceof Error ? error.name : "Error"

const backtraceOf = (error: unknown): ReadonlyArray<string> =>
  error instanceof Error && error.stack ? error.stack.split("\n").slice(1).map((line) => line.trim()) : []

/** The typed error a job failed with, or undefined for a defect or an interruption. */
export const failureOf = (cause: Cause.Cause<unknown>): unknown => {
  const reason = cause.reasons.find((reason) => reason._tag === "Fail")
  return reason?._tag === "Fail" ? reason.error : undefined
}

/** Defects and invalid inputs are not retried: another run would fail the same way. */
export const retryable = (failure: unknown): boolean =>
  failure !== undefined && !(isTagged(failure) && failure._tag === "InvalidInputs")

/** The outcome of a job that failed with `cause`. */
export const failed = (cause: Cause.Cause<unknown>, failure: unknown, final: boolean, durationMs: number): Outcome.Outcome =>
  Outcome.failure({
    exception: failure === undefined ? "Defect" : errorName(failure),
    error: causeMessage(cause),
    backtrace: backtraceOf(failure ?? cause.reasons[0]),
    final,
    durationMs
  })

/** The outcome of a job still running when the grace period of a shutdown passed. */
export const shutdown: Outcome.Outcome = Outcome.failure({
  exception: "Shutdown",
  error: "shutdown: the worker stopped before the job finished",
  backtrace: [],
  final: true,
  durationMs: 0
})

/** node-resque's failed entry; the payload is kept as a string when it is not JSON. */
export const failedEntry = (worker: string, queue: string, raw: string, outcome: Outcome.Failure, now: number): string =>
  JSON.stringify({
    worker,
    queue,
    payload: safeJson(raw),
    exception: outcome.exception,
    error: outcome.error,
    backtrace: outcome.backtrace,
    failed_at: new Date(now).toString()
  })

const safeJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
