/**
 * Plain-text tables for the inspection commands (the `--json` variants print the data itself).
 *
 * @since 0.1.0
 */

const maxCell = 60

/** A cell's text on one line, cut to `max` characters when given. */
const cellWithin = (max: number | undefined) => (value: unknown): string => {
  const text = value === null || value === undefined ? "-" : typeof value === "string" ? value : JSON.stringify(value) ?? "-"
  const line = text.replace(/\s*\n\s*/g, " ")
  return max !== undefined && line.length > max ? `${line.slice(0, max - 3)}...` : line
}

/** Rows under headers, columns padded to their widest cell; an empty table says so. */
const renderWith = (cellOf: (value: unknown) => string) =>
(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>, empty = "(none)"): string => {
  if (rows.length === 0) return `  ${empty}`
  const cells = rows.map((row) => row.map(cellOf))
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)))
  const line = (row: ReadonlyArray<string>) => `  ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd()
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n")
}

/** Cuts a cell to a readable width. */
export const cell = cellWithin(maxCell)

/**
 * Renders rows under headers, columns padded to their widest cell; an empty table says so.
 *
 * @category rendering
 */
export const render = renderWith(cell)

/**
 * How tables are rendered: cells cut to a readable width, or (`--wide`) whole, for the error texts, inputs and
 * names where the full text matters.
 *
 * @category models
 */
export interface Renderer {
  readonly render: (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>, empty?: string) => string
  readonly cell: (value: unknown) => string
}

const narrow: Renderer = { render, cell }
const wideCell = cellWithin(undefined)
const wide: Renderer = { render: renderWith(wideCell), cell: wideCell }

/** The renderer for `--wide` or not. @category rendering */
export const renderer = (options: { readonly wide: boolean }): Renderer => (options.wide ? wide : narrow)

/** A titled section. @category rendering */
export const section = (title: string, body: string): string => `${title}\n${body}`

/** Epoch ms as an ISO time, or "-". @category rendering */
export const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "-" : new Date(ms).toISOString())
