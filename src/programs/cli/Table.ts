/**
 * Plain-text tables for the inspection commands (the `--json` variants print the data itself).
 *
 * @since 0.1.0
 */

const maxCell = 60

/** Cuts a cell to a readable width. */
export const cell = (value: unknown): string => {
  const text = value === null || value === undefined ? "-" : typeof value === "string" ? value : JSON.stringify(value) ?? "-"
  const line = text.replace(/\s*\n\s*/g, " ")
  return line.length > maxCell ? `${line.slice(0, maxCell - 3)}...` : line
}

/**
 * Renders rows under headers, columns padded to their widest cell; an empty table says so.
 *
 * @category rendering
 */
export const render = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>, empty = "(none)"): string => {
  if (rows.length === 0) return `  ${empty}`
  const cells = rows.map((row) => row.map(cell))
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)))
  const line = (row: ReadonlyArray<string>) => `  ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd()
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n")
}

/** A titled section. @category rendering */
export const section = (title: string, body: string): string => `${title}\n${body}`

/** Epoch ms as an ISO time, or "-". @category rendering */
export const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "-" : new Date(ms).toISOString())
