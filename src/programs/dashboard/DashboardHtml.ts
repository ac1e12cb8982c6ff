/**
 * The dashboard's HTML building blocks: an `html` template that escapes everything interpolated into it
 * (only other `Html` passes through), the page layout, and the small components every page uses (numbers,
 * times, badges, progress bars, JSON, buttons that post to the API, pagers).
 *
 * Pages are rendered on the server; the page script (`DashboardAssets.ts`) only posts changes and swaps the
 * `data-live` regions of a fresh copy of the page into the one on screen.
 *
 * @since 0.2.0
 */

const HtmlTypeId: unique symbol = Symbol.for("effect-resque/dashboard/Html")

/** Markup that is already safe to send. @category models */
export interface Html {
  readonly [HtmlTypeId]: true
  readonly text: string
}

/** What may be interpolated into {@link html}: text is escaped, `Html` kept, lists joined, nothing dropped silently but `null`/`undefined`/`false`. */
export type Part = Html | string | number | boolean | null | undefined | ReadonlyArray<Part>

const isHtml = (u: unknown): u is Html => typeof u === "object" && u !== null && HtmlTypeId in u

/** Escapes text for HTML content and quoted attribute values. @category escaping */
export const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"))

/** Markup taken as is: only for constants of this module. @category constructors */
export const raw = (text: string): Html => ({ [HtmlTypeId]: true, text })

const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return ""
  if (isHtml(part)) return part.text
  if (Array.isArray(part)) return part.map(render).join("")
  return escape(String(part))
}

/** The template: `html\`<td>${name}</td>\`` escapes `name`. @category constructors */
export const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<Part>): Html => {
  let text = strings[0] ?? ""
  for (let i = 0; i < parts.length; i++) text += render(parts[i]) + (strings[i + 1] ?? "")
  return raw(text)
}

// ---------------------------------------------------------------------------------------------------------
// formatting
// ---------------------------------------------------------------------------------------------------------

/** A count with thousands separators. @category formatting */
export const count = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–")

/** A duration in ms as `850 ms`, `3.2 s`, `4 min`, `2 h 5 min`, `3 d`. @category formatting */
export const duration = (ms: number): string => {
  if (!Number.isFinite(ms)) return "–"
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`
  if (abs < 3_600_000) return `${Math.round(abs / 60_000)} min`
  if (abs < 86_400_000) {
    const h = Math.floor(abs / 3_600_000)
    const m = Math.round((abs % 3_600_000) / 60_000)
    return m === 0 ? `${h} h` : `${h} h ${m} min`
  }
  return `${Math.round(abs / 86_400_000)} d`
}

/** An epoch-ms time in UTC, to the second. @category formatting */
export const utc = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")

/** A time relative to `now` (`5 s ago`, `in 3 min`), the exact time in its title; `–` for none. @category components */
export const when = (ms: number | null | undefined, now: number): Html => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return html`<span class="muted">–</span>`
  const delta = ms - now
  const text = Math.abs(delta) < 1000 ? "now" : delta < 0 ? `${duration(-delta)} ago` : `in ${duration(delta)}`
  return html`<time datetime="${new Date(ms).toISOString()}" title="${utc(ms)}">${text}</time>`
}

/** A value as compact JSON (`undefined` as nothing), cut at `max` characters. @category formatting */
export const jsonText = (value: unknown, max = 400): string => {
  let text: string
  try {
    text = JSON.stringify(value) ?? ""
  } catch {
    text = String(value)
  }
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** A value as indented JSON in a `<pre>`, cut at `max` characters. @category components */
export const jsonBlock = (value: unknown, max = 4000): Html => {
  let text: string
  try {
    text = JSON.stringify(value, null, 2) ?? "undefined"
  } catch {
    text = String(value)
  }
  return html`<pre class="json">${text.length > max ? `${text.slice(0, max)}\n…` : text}</pre>`
}

// ---------------------------------------------------------------------------------------------------------
// components
// ---------------------------------------------------------------------------------------------------------

/** Colours of status badges. @category models */
export type Tone = "ok" | "bad" | "warn" | "info" | "muted"

/** A status badge. @category components */
export const badge = (text: string, tone: Tone): Html => html`<span class="badge ${tone}">${text}</span>`

/** A stacked progress bar of completed (green) and failed (red) parts of a total. @category components */
export const progress = (total: number, completed: number, failed: number, options: { readonly large?: boolean } = {}): Html => {
  const done = completed + failed
  const percent = total <= 0 ? 100 : Math.min(100, Math.floor((done / total) * 100))
  const ok = total <= 0 ? 0 : (completed / total) * 100
  const bad = total <= 0 ? 0 : (failed / total) * 100
  return html`<div class="progress${options.large ? " large" : ""}" data-progress="${percent}" role="progressbar" aria-valuenow="${percent}" aria-valuemin="0" aria-valuemax="100">
<svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect class="track" width="100" height="10"/><rect class="ok" width="${ok.toFixed(3)}" height="10"/><rect class="bad" x="${ok.toFixed(3)}" width="${bad.toFixed(3)}" height="10"/></svg>
<span class="percent">${percent}%</span></div>`
}

/** A sparkline of one or two series (values ≥ 0), newest on the right. @category components */
export const sparkline = (series: ReadonlyArray<{ readonly values: ReadonlyArray<number>; readonly tone: Tone }>, label: string): Html => {
  const width = 300
  const height = 60
  const length = Math.max(0, ...series.map((s) => s.values.length))
  if (length < 2) return html`<div class="sparkline empty">${label}: collecting samples…</div>`
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values))
  const lines = series.map(({ values, tone }) => {
    const points = values.map((v, i) => `${((i / (length - 1)) * width).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`)
    return html`<polyline class="${tone}" points="${points.join(" ")}"/>`
  })
  return html`<svg class="sparkline" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${label}">${lines}</svg>`
}

/**
 * A button that posts to the API (the page script sends `body` as JSON with the CSRF token, then refreshes the
 * page's live regions); hidden in read-only mode.
 *
 * @category components
 */
export const postButton = (options: {
  readonly label: string
  readonly path: string
  readonly body?: unknown
  readonly confirm?: string
  readonly tone?: "danger" | "primary" | undefined
  readonly readOnly: boolean
  readonly name?: string
}): Html =>
  options.readOnly ? html`` : html`<button type="button" class="btn${options.tone ? ` ${options.tone}` : ""}" data-post="${options.path}" data-body="${
    JSON.stringify(options.body ?? {})
  }"${options.confirm ? html` data-confirm="${options.confirm}"` : ""}${options.name ? html` data-name="${options.name}"` : ""}>${options.label}</button>`

/** A link that keeps the page's other query parameters. @category components */
export const withQuery = (path: string, query: Readonly<Record<string, string | number | undefined>>): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(key, String(value))
  const text = params.toString()
  return text === "" ? path : `${path}?${text}`
}

/** Previous / next links of an offset pager, with what is shown. @category components */
export const pager = (options: {
  readonly path: string
  readonly query: Readonly<Record<string, string | number | undefined>>
  readonly offset: number
  readonly limit: number
  readonly shown: number
  readonly total?: number | undefined
  readonly next?: number | null | undefined
  readonly noun: string
  /** Where "previous" goes: one page back, or the first page when pages are not of a fixed size (a filtered scan). */
  readonly previous?: "page" | "first"
}): Html => {
  const { offset, limit, shown } = options
  const next = options.next !== undefined ? options.next : options.total !== undefined && offset + limit < options.total ? offset + limit : null
  const range = shown === 0 ? `no ${options.noun}` : `${count(offset + 1)}–${count(offset + shown)}`
  const of = options.total === undefined ? "" : ` of ${count(options.total)}`
  const first = options.previous === "first"
  return html`<nav class="pager">
${offset > 0 ? html`<a href="${withQuery(options.path, { ...options.query, offset: first ? undefined : Math.max(0, offset - limit) })}" rel="prev">${first ? "← first" : "← previous"}</a>` : html`<span class="muted">← previous</span>`}
<span>${shown === 0 ? range : `${range}${of}`}</span>
${next !== null ? html`<a href="${withQuery(options.path, { ...options.query, offset: next })}" rel="next">next →</a>` : html`<span class="muted">next →</span>`}
</nav>`
}

/**
 * A table, or a muted line when there are no rows. A heading ending in `#` heads a column of numbers (right
 * aligned, the `#` not shown).
 *
 * @category components
 */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<Html>, empty: string, options: { readonly id?: string } = {}): Html =>
  rows.length === 0
    ? html`<p class="empty">${empty}</p>`
    : html`<div class="table-wrap"><table${options.id ? html` id="${options.id}"` : ""}><thead><tr>${
      head.map((h) => (h.length > 1 && h.endsWith("#") ? html`<th class="num">${h.slice(0, -1)}</th>` : html`<th>${h}</th>`))
    }</tr></thead><tbody>${rows}</tbody></table></div>`

/** A number card of the overview. @category components */
export const card = (label: string, value: Part, options: { readonly tone?: Tone; readonly href?: string; readonly note?: Part } = {}): Html => {
  const body = html`<div class="card-label">${label}</div><div class="card-value${options.tone ? ` ${options.tone}` : ""}">${value}</div>${
    options.note === undefined ? "" : html`<div class="card-note">${options.note}</div>`
  }`
  return options.href ? html`<a class="card" href="${options.href}">${body}</a>` : html`<div class="card">${body}</div>`
}

// ---------------------------------------------------------------------------------------------------------
// layout
// ---------------------------------------------------------------------------------------------------------

/** The sections of the navigation bar. @category models */
export type Section = "overview" | "queues" | "delayed" | "failed" | "fan-outs" | "workers" | "recurring" | "actions"

const sections: ReadonlyArray<readonly [Section, string, string]> = [
  ["overview", "Overview", "/"],
  ["queues", "Queues", "/queues"],
  ["delayed", "Delayed", "/delayed"],
  ["failed", "Failed", "/failed"],
  ["fan-outs", "Fan-outs", "/fan-outs"],
  ["workers", "Workers", "/workers"],
  ["recurring", "Recurring", "/recurring"],
  ["actions", "Actions", "/actions"]
]

/** What every page is rendered with. @category models */
export interface Frame {
  readonly base: string
  readonly title: string
  readonly csrfToken: string
  readonly readOnly: boolean
  readonly refreshMs: number
  readonly auth: "none" | "token" | "basic"
  readonly namespace: string
}

/** A whole page: navigation, the content, and the footer that states what a live refresh costs. @category components */
export const page = (frame: Frame, options: {
  readonly section: Section | undefined
  readonly title: string
  /** Redis round trips one load (and so one live refresh) of the page makes. */
  readonly roundTrips: string
  readonly live: boolean
  readonly body: Html
}): Html => {
  const { base } = frame
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${frame.csrfToken}">
<meta name="dashboard-base" content="${base}">
<title>${options.title} · ${frame.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/assets/dashboard.css">
<script src="${base}/assets/dashboard.js" defer></script>
</head>
<body data-refresh-ms="${options.live ? frame.refreshMs : 0}">
<header class="top">
<a class="brand" href="${base}/"><span class="logo" aria-hidden="true">◆</span> ${frame.title}</a>
<nav>${sections.map(([id, label, path]) => html`<a href="${base}${path}"${id === options.section ? raw(` aria-current="page"`) : ""}>${label}</a>`)}</nav>
<div class="top-right">
<span class="ns" title="Redis namespace">${frame.namespace}</span>
${frame.readOnly ? badge("read-only", "warn") : ""}
${options.live ? html`<span id="live-status" class="live" title="This page refreshes itself">live</span>` : ""}
${frame.auth === "token" ? html`<form method="post" action="${base}/logout" class="logout"><button class="link" type="submit">log out</button></form>` : ""}
</div>
</header>
<main>
<h1>${options.title}</h1>
${options.body}
</main>
<footer>${
    options.live
      ? `Live: refreshes every ${duration(frame.refreshMs)} while this tab is visible, ${options.roundTrips} per refresh.`
      : `This page costs ${options.roundTrips}.`
  } <a href="${base}/api/openapi.json">JSON API</a></footer>
<div id="toasts" aria-live="polite"></div>
</body>
</html>`
}
