/**
 * Inspection and management commands (filled in below).
 *
 * @since 0.1.0
 */
import type { App } from "./Shared.ts"

/** @category commands */
export const commands = (_app: App) => [] as const
