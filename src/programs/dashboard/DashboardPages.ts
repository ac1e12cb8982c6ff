/**
 * The dashboard's pages, rendered on the server from the same data the JSON API returns
 * (`DashboardData.ts`). Each page marks the parts that change with `data-live`: the page script fetches the
 * page again every refresh interval (while the tab is visible) and swaps those parts in, so counts, progress
 * bars and lists move without a reload, at the cost the footer states (the page's Redis round trips).
 *
 * Buttons post to the JSON API (with the CSRF token); forms that only read (filters, pagers) are plain links.
 *
 * @since 0.2.0
 */
import type * as Ops from "../../domain/Operations.ts"
import type { ActionView, CheckedJob, FormField, Overview, QueueView } from "./DashboardApi.ts"
import {
  badge,
  card,
  count,
  duration,
  type Frame,
  type Html,
  html,
  jsonBlock,
  jsonText,
  page,
  pager,
  postButton,
  progress,
  raw,
  sparkline,
  table,
  when,
  withQuery
} from "./DashboardHtml.ts"
import * as DashboardThroughput from "./DashboardThroughput.ts"

/** What a page is rendered with: the frame and the time it is rendered at. @category models */
export interface View {
  readonly frame: Frame
  readonly now: number
}

const link = (view: View, path: string) => `${view.frame.base}${path}`
const queueLink = (view: View, queue: string) => link(view, `/queues/${encodeURIComponent(queue)}`)
const fanOutLink = (view: View, id: string) => link(view, `/fan-outs/${encodeURIComponent(id)}`)

/** A job's action, or why its payload cannot be read. */
const actionCell = (job: Ops.QueuedJob): Html =>
  job.action === null ? html`${badge("corrupt", "bad")} <span class="muted">${job.corrupt ?? "unreadable payload"}</span>` : html`<strong>${job.action}</strong>`

const fanOutCell = (view: View, job: Ops.QueuedJob): Html =>
  job.fanOut === undefined ? html`<span class="muted">–</span>` : html`<a href="${fanOutLink(view, job.fanOut)}">${job.fanOut.slice(0, 8)}…#${job.index ?? "?"}</a>`

// ---------------------------------------------------------------------------------------------------------
// overview
// ---------------------------------------------------------------------------------------------------------

/** The overview. @category pages */
export const overview = (view: View, data: Overview): Html => {
  const rates = DashboardThroughput.rates(data.throughput)
  const latest = rates.at(-1)
  const maxLength = Math.max(1, ...data.queues.map((q) => q.length))
  const body = html`<section data-live id="overview">
<div class="cards">
${card("Processed", count(data.stats.processed), { tone: "ok", note: latest ? `${latest.processed.toFixed(1)} jobs/s now` : "since Resque's stats began" })}
${card("Failed", count(data.stats.failed), { tone: data.stats.failed > 0 ? "bad" : "muted", note: latest ? `${latest.failed.toFixed(1)} failures/s now` : undefined })}
${card("Failed jobs kept", count(data.failedCount), { tone: data.failedCount > 0 ? "bad" : "muted", href: link(view, "/failed"), note: "retry or remove them" })}
${card("Workers", html`${count(data.workers.busy)} <small>busy</small> / ${count(data.workers.idle)} <small>idle</small>`, { href: link(view, "/workers"), note: `${count(data.workers.total)} registered` })}
${card("Delayed", count(data.delayedTimes), { href: link(view, "/delayed"), note: "seconds with jobs due" })}
${card("Scheduler leader", data.leader ?? "none", { tone: data.leader === null ? "warn" : "ok", note: data.leader === null ? "delayed jobs wait for a scheduler" : "promotes delayed jobs" })}
</div>
<div class="panel">
<h2>Throughput <small>jobs per second, sampled every ${duration(data.sampleEveryMs)} by this dashboard</small></h2>
${sparkline([{ values: rates.map((r) => r.processed), tone: "ok" }, { values: rates.map((r) => r.failed), tone: "bad" }], "processed and failed jobs per second")}
<div class="legend"><span class="dot ok"></span> processed <span class="dot bad"></span> failed ${
    latest ? html`<span class="muted">· last ${duration(data.sampleEveryMs * Math.max(1, rates.length))}</span>` : ""
  }</div>
</div>
<div class="grid2">
<div class="panel">
<h2>Queues <small>${count(data.queues.length)}</small></h2>
${table(["queue", "jobs#", ""], data.queues.map((q) => html`<tr><td><a href="${queueLink(view, q.name)}">${q.name}</a></td><td class="num">${count(q.length)}</td><td class="meter-cell"><svg class="meter" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true"><rect width="${((q.length / maxLength) * 100).toFixed(2)}" height="6"/></svg></td></tr>`), "No queues yet.")}
</div>
<div class="panel">
<h2>Recent failures <small><a href="${link(view, "/failed")}">all ${count(data.failedCount)} →</a></small></h2>
${table(["when", "action", "error"], data.recentFailures.map((f) => html`<tr><td>${when(f.failedAt, view.now)}</td><td>${f.action ?? "?"}</td><td>${badge(f.exception || "Error", "bad")} <span class="clip">${f.error}</span></td></tr>`), "No failed jobs.")}
</div>
</div>
</section>`
  return page(view.frame, { section: "overview", title: "Overview", roundTrips: "2 Redis round trips", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// queues
// ---------------------------------------------------------------------------------------------------------

/** Every queue with its length. @category pages */
export const queues = (view: View, list: ReadonlyArray<Ops.QueueInfo>): Html => {
  const body = html`<section data-live id="queues" class="panel">
${table(["queue", "jobs#"], list.map((q) => html`<tr><td><a href="${queueLink(view, q.name)}">${q.name}</a>${q.paused ? html` ${badge("paused", "warn")}` : ""}</td><td class="num">${count(q.length)}</td></tr>`), "No queues yet.")}
</section>`
  return page(view.frame, { section: "queues", title: "Queues", roundTrips: "2 Redis round trips", live: true, body })
}

const inputsCell = (job: CheckedJob): Html => {
  if (job.action === null) return html`<code class="clip">${job.raw.slice(0, 300)}</code>`
  if (job.check === null) return html`<code>${jsonText(job.inputs)}</code> <span class="muted">(not registered here)</span>`
  return job.check.valid
    ? html`<code>${jsonText(job.check.value)}</code>`
    : html`${badge("invalid", "bad")} <span class="error-text">${job.check.error ?? ""}</span><br><code>${jsonText(job.inputs)}</code>`
}

/** One queue, a page of its jobs with their inputs decoded by their action's Schema. @category pages */
export const queue = (view: View, data: QueueView): Html => {
  const { readOnly } = view.frame
  const path = `/api/queues/${encodeURIComponent(data.queue)}`
  const rows = data.jobs.map((job) => html`<tr data-id="${job.id}">
<td class="num">${job.position}</td><td>${actionCell(job)}</td><td>${inputsCell(job)}</td><td>${fanOutCell(view, job)}</td><td class="num">${job.attempt ?? 1}</td>
<td class="actions">${postButton({ label: "Remove", path: `${path}/remove`, body: { id: job.id, position: job.position }, confirm: "Remove this job from the queue?", tone: "danger", readOnly })}</td>
</tr>`)
  const body = html`<section data-live id="queue">
<div class="toolbar"><p class="lead"><strong>${count(data.length)}</strong> job${data.length === 1 ? "" : "s"} waiting</p>
${data.length > 0 ? postButton({ label: "Clear queue", path: `${path}/clear`, confirm: `Delete every job of queue ${data.queue}?`, tone: "danger", readOnly }) : ""}</div>
<div class="panel">
${table(["#", "action", "inputs (decoded by the action's Schema)", "fan-out", "attempt#", ""], rows, "This queue is empty.")}
${pager({ path: link(view, `/queues/${encodeURIComponent(data.queue)}`), query: { limit: data.limit === 25 ? undefined : data.limit }, offset: data.offset, limit: data.limit, shown: data.jobs.length, total: data.length, noun: "jobs" })}
</div>
</section>`
  return page(view.frame, { section: "queues", title: `Queue ${data.queue}`, roundTrips: "1 Redis round trip", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// delayed
// ---------------------------------------------------------------------------------------------------------

/** The delayed schedule as a timeline by due time. @category pages */
export const delayed = (view: View, data: Ops.DelayedPage): Html => {
  const { readOnly } = view.frame
  const items = data.entries.map((entry) => html`<li class="timeline-item">
<div class="due">${when(entry.at, view.now)}<small>${new Date(entry.at).toISOString().replace("T", " ").slice(0, 19)}Z</small></div>
<div class="due-jobs">
<p class="muted">${count(entry.count)} job${entry.count === 1 ? "" : "s"}${entry.count > entry.jobs.length ? ` (first ${entry.jobs.length} shown)` : ""}</p>
${table(["action", "queue", "inputs", "fan-out", ""], entry.jobs.map((job) => html`<tr data-id="${job.id}"><td>${actionCell(job)}</td><td>${job.queue}</td><td><code>${jsonText(job.inputs)}</code></td><td>${fanOutCell(view, job)}</td>
<td class="actions">${postButton({ label: "Run now", path: "/api/delayed/run", body: { at: entry.at, id: job.id, position: job.position }, tone: "primary", readOnly })}
${postButton({ label: "Remove", path: "/api/delayed/remove", body: { at: entry.at, id: job.id, position: job.position }, confirm: "Remove this delayed job?", tone: "danger", readOnly })}</td></tr>`), "")}
</div>
</li>`)
  const body = html`<section data-live id="delayed">
<p class="lead"><strong>${count(data.times)}</strong> second${data.times === 1 ? "" : "s"} with delayed jobs</p>
<div class="panel">
${data.entries.length === 0 ? html`<p class="empty">Nothing is scheduled.</p>` : html`<ol class="timeline">${items}</ol>`}
${pager({ path: link(view, "/delayed"), query: {}, offset: data.offset, limit: data.limit, shown: data.entries.length, total: data.times, noun: "times" })}
</div>
</section>`
  return page(view.frame, { section: "delayed", title: "Delayed jobs", roundTrips: "2 Redis round trips", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// failed
// ---------------------------------------------------------------------------------------------------------

/** An error's data (its typed fields) as a small table of fields, or JSON when it is not an object. */
const errorData = (data: unknown): Html => {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return jsonBlock(data)
  const fields = Object.entries(data)
  return html`<table class="fields">${fields.map(([key, value]) => html`<tr><th>${key}</th><td><code>${typeof value === "string" ? value : jsonText(value, 2000)}</code></td></tr>`)}</table>`
}

const failedRow = (view: View, job: Ops.ListedFailedJob): Html => {
  const { readOnly } = view.frame
  const ref = { id: job.id, position: job.position }
  return html`<tr data-id="${job.id}" id="failed-${job.id}">
<td>${when(job.failedAt, view.now)}</td>
<td>${actionCell(job)}<div class="muted small">${job.queue}</div></td>
<td class="error-cell"><details data-keep="failed-${job.id}"><summary>${badge(job.exception || "Error", "bad")} <span class="clip">${job.error}</span></summary>
<div class="detail-grid">
${job.data === undefined ? "" : html`<div><h4>Error data</h4>${errorData(job.data)}</div>`}
<div><h4>Inputs</h4>${jsonBlock(job.inputs)}</div>
<div><h4>Backtrace</h4>${job.backtrace.length === 0 ? html`<p class="muted">none</p>` : html`<pre class="backtrace">${job.backtrace.join("\n")}</pre>`}</div>
<div><h4>Job</h4><table class="fields"><tr><th>worker</th><td>${job.worker || "–"}</td></tr><tr><th>fan-out</th><td>${fanOutCell(view, job)}</td></tr><tr><th>attempt</th><td>${job.attempt ?? 1}</td></tr><tr><th>position</th><td>${job.position}</td></tr></table></div>
</div></details></td>
<td class="actions">${postButton({ label: "Retry", path: "/api/failed/retry", body: ref, tone: "primary", readOnly, name: "retry" })}
${postButton({ label: "Remove", path: "/api/failed/remove", body: ref, confirm: "Remove this failed job without retrying it?", tone: "danger", readOnly, name: "remove" })}</td>
</tr>`
}

/** The failed list, newest first, with its filter and bulk actions. @category pages */
export const failed = (view: View, data: Ops.FailedPage, actionNames: ReadonlyArray<string>): Html => {
  const { readOnly } = view.frame
  const filter = data.filter
  const filtered = filter.action !== undefined || filter.exception !== undefined
  const describe = [filter.action === undefined ? undefined : `action ${filter.action}`, filter.exception === undefined ? undefined : `error ${filter.exception}`]
    .filter((x) => x !== undefined).join(" and ")
  const query = { action: filter.action, exception: filter.exception, order: data.order === "newest" ? undefined : data.order, limit: data.limit === 25 ? undefined : data.limit }
  const body = html`<form method="get" class="filters" action="${link(view, "/failed")}">
<label>Action <input name="action" list="action-names" value="${filter.action ?? ""}" placeholder="any"></label>
<datalist id="action-names">${actionNames.map((name) => html`<option value="${name}"></option>`)}</datalist>
<label>Error <input name="exception" value="${filter.exception ?? ""}" placeholder="any tag, e.g. PaymentDeclined"></label>
<label>Order <select name="order"><option value="newest"${data.order === "newest" ? raw(" selected") : ""}>newest first</option><option value="oldest"${data.order === "oldest" ? raw(" selected") : ""}>oldest first</option></select></label>
<button class="btn" type="submit">Filter</button>${filtered ? html` <a href="${link(view, "/failed")}">clear</a>` : ""}
</form>
<section data-live id="failed">
<div class="toolbar"><p class="lead"><strong>${count(data.total)}</strong> failed job${data.total === 1 ? "" : "s"}${
    filtered ? html`; matching ${describe}: <strong>${count(data.jobs.length)}</strong> among ${count(data.scanned)} examined${data.next === null ? "" : " (more below)"}` : ""
  }</p>
<div>${data.total > 0 ? postButton({ label: filtered ? "Retry all matching" : "Retry all", path: "/api/failed/retry-all", body: filter, confirm: `Retry every failed job${filtered ? ` matching ${describe}` : ""}? This reads the whole failed list.`, tone: "primary", readOnly, name: "retry-all" }) : ""}
${data.total > 0 ? postButton({ label: filtered ? "Remove all matching" : "Remove all", path: "/api/failed/remove-all", body: filter, confirm: `Remove every failed job${filtered ? ` matching ${describe}` : ""} without retrying?`, tone: "danger", readOnly, name: "remove-all" }) : ""}</div></div>
<div class="panel">
${table(["failed", "action", "error", ""], data.jobs.map((job) => failedRow(view, job)), filtered ? "No failed job matches in this part of the list." : "No failed jobs.", { id: "failed-table" })}
${pager({ path: link(view, "/failed"), query, offset: data.offset, limit: data.limit, shown: filtered ? data.scanned : data.jobs.length, total: data.total, next: data.next, noun: "records", previous: filtered ? "first" : "page" })}
</div>
</section>`
  return page(view.frame, {
    section: "failed",
    title: "Failed jobs",
    roundTrips: filtered ? "at most 5 Redis round trips (a filter examines up to 10 000 records)" : "1 Redis round trip",
    live: true,
    body
  })
}

// ---------------------------------------------------------------------------------------------------------
// fan-outs
// ---------------------------------------------------------------------------------------------------------

const stateBadge = (summary: Ops.FanOutSummary): Html =>
  summary.done ? (summary.failed > 0 ? badge("done with failures", "warn") : badge("done", "ok")) : badge("running", "info")

const completionCell = (summary: Ops.FanOutSummary): Html =>
  summary.onComplete === null
    ? html`<span class="muted">none</span>`
    : html`${summary.onComplete.action ?? "?"} on ${summary.onComplete.queue}: ${summary.onComplete.enqueued ? badge("enqueued", "ok") : badge("waiting", "muted")}`

/** The fan-outs found by one bounded scan. @category pages */
export const fanOuts = (view: View, data: Ops.FanOutList): Html => {
  const rows = data.fanOuts.map((f) => html`<tr>
<td><a href="${fanOutLink(view, f.fanOutId)}"><code>${f.fanOutId}</code></a><div class="muted small">${f.actionNames.join(", ")}</div></td>
<td class="progress-cell">${progress(f.total, f.completed + f.duplicate, f.failed)}</td>
<td class="num">${count(f.completed)} <span class="muted">/</span> <span class="${f.failed > 0 ? "bad-text" : ""}">${count(f.failed)}</span> <span class="muted">/</span> ${count(f.pending)} <span class="muted">of</span> ${count(f.total)}</td>
<td>${stateBadge(f)}</td><td>${when(f.createdAt, view.now)}</td><td>${completionCell(f)}</td>
</tr>`)
  const body = html`<section data-live id="fan-outs">
<div class="panel">
${table(["fan-out", "progress", "completed / failed / pending#", "state", "created", "onComplete"], rows, "No fan-out found in this part of the keyspace.")}
<p class="muted small">Found by scanning ${count(data.scannedKeys)} keys (fan-outs are not indexed: each page scans at most 10 000 keys).
${data.cursor === null ? "The whole keyspace was scanned." : html`<a href="${withQuery(link(view, "/fan-outs"), { cursor: data.cursor })}">Scan further →</a>`}</p>
</div>
</section>`
  return page(view.frame, { section: "fan-outs", title: "Fan-outs", roundTrips: "at most 11 Redis round trips (10 SCAN calls, 1 pipeline)", live: true, body })
}

const childRow = (child: Ops.FanOutChild): Html => {
  const status = child.status === "completed"
    ? badge("completed", "ok")
    : child.status === "failed"
    ? badge("failed", "bad")
    : child.status === "duplicate"
    ? badge("duplicate", "info")
    : badge("pending", "muted")
  const outcome = child.status === "completed"
    ? html`<code>${jsonText(child.result)}</code>`
    : child.status === "duplicate"
    ? html`<span class="muted">not enqueued: job</span> <code>${child.duplicateOf ?? ""}</code> <span class="muted">held its key</span>`
    : child.status === "failed"
    ? html`${badge(child.exception ?? "Error", "bad")} ${child.error ?? ""}${child.data === undefined ? "" : html`<br><code class="muted">${jsonText(child.data)}</code>`}`
    : html`<span class="muted">queued, running or waiting for a retry</span>`
  return html`<tr><td class="num">${child.index}</td><td>${status}</td><td>${child.action ?? html`<span class="muted">–</span>`}</td><td>${
    child.inputs === null && child.status === "pending" ? html`<span class="muted">–</span>` : html`<code>${jsonText(child.inputs)}</code>`
  }</td><td>${outcome}</td></tr>`
}

/** One fan-out: its progress, counts, `onComplete` and a page of its children. @category pages */
export const fanOut = (view: View, summary: Ops.FanOutSummary, children: Ops.FanOutChildren): Html => {
  const base = link(view, `/fan-outs/${encodeURIComponent(summary.fanOutId)}`)
  const statuses = summary.duplicate > 0 || children.status === "duplicate"
    ? (["all", "failed", "completed", "duplicate", "pending"] as const)
    : (["all", "failed", "completed", "pending"] as const)
  const counted = { all: summary.total, failed: summary.failed, completed: summary.completed, duplicate: summary.duplicate, pending: summary.pending }
  const tabs = statuses.map((status) =>
    html`<a href="${withQuery(base, { status: status === "all" ? undefined : status })}"${status === children.status ? raw(` aria-current="page"`) : ""}>${status} ${
      count(counted[status])
    }</a>`)
  const body = html`<section data-live id="fan-out">
<div class="panel">
<div class="fan-out-head">${stateBadge(summary)} <span class="muted">${summary.actionNames.join(", ")} on ${summary.queues.join(", ")}</span></div>
${progress(summary.total, summary.completed + summary.duplicate, summary.failed, { large: true })}
<div class="cards small">
${card("Total", count(summary.total))}
${card("Completed", count(summary.completed), { tone: "ok" })}
${card("Failed", count(summary.failed), { tone: summary.failed > 0 ? "bad" : "muted", href: withQuery(base, { status: "failed" }) })}
${summary.duplicate > 0 ? card("Duplicate", count(summary.duplicate), { tone: "info", href: withQuery(base, { status: "duplicate" }) }) : ""}
${card("Pending", count(summary.pending), { tone: summary.pending > 0 ? "info" : "muted" })}
</div>
<table class="fields">
<tr><th>created</th><td>${when(summary.createdAt, view.now)}</td></tr>
<tr><th>finished</th><td>${summary.doneAt === null ? html`<span class="muted">not yet</span>` : when(summary.doneAt, view.now)}</td></tr>
<tr><th>results expire</th><td>${summary.expiresInMs === null ? "never" : `in ${duration(summary.expiresInMs)} (every child completion pushes this out)`}</td></tr>
<tr><th>onComplete</th><td>${completionCell(summary)}</td></tr>
</table>
</div>
<div class="panel">
<nav class="tabs">${tabs}</nav>
${table(["#", "status", "action", "inputs", "result or error"], children.children.map(childRow), "No child in this state.")}
${pager({ path: base, query: { status: children.status === "all" ? undefined : children.status }, offset: children.offset, limit: children.limit, shown: children.children.length, total: children.matched, noun: "children" })}
</div>
</section>`
  const trips = children.status === "all" ? "2 Redis round trips" : "2 Redis round trips (one reads the whole outcomes hash)"
  return page(view.frame, { section: "fan-outs", title: `Fan-out ${summary.fanOutId}`, roundTrips: trips, live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// workers
// ---------------------------------------------------------------------------------------------------------

/** The workers: what each runs and since when, stale ones, and clean-up. @category pages */
export const workers = (view: View, data: Ops.WorkerPage): Html => {
  const { readOnly } = view.frame
  const base = link(view, "/workers")
  const staleQuery = data.staleAfterMs === 60_000 ? undefined : data.staleAfterMs
  const tabs = (["all", "busy", "idle", "stale"] as const).map((state) =>
    html`<a href="${withQuery(base, { state: state === "all" ? undefined : state, staleAfterMs: staleQuery })}"${state === data.state ? raw(` aria-current="page"`) : ""}>${state} ${
      count(state === "all" ? data.total : state === "busy" ? data.busy : state === "idle" ? data.idle : data.stale)
    }</a>`)
  const rows = data.workers.map((w) => html`<tr data-name="${w.name}">
<td><code>${w.name}</code><div class="muted small">${w.queues.join(", ")}</div></td>
<td>${w.stale ? badge("stale", "warn") : w.workingOn ? badge("busy", "info") : badge("idle", "muted")}</td>
<td>${w.workingOn === null ? html`<span class="muted">–</span>` : html`<strong>${w.workingOn.job.action ?? "?"}</strong> <code>${jsonText(w.workingOn.job.inputs, 120)}</code><div class="muted small">on ${w.workingOn.queue}, since ${when(w.workingOn.runAt, view.now)}</div>`}</td>
<td>${when(w.lastPingAt, view.now)}</td><td>${when(w.startedAt, view.now)}</td>
<td class="num">${count(w.processed)}</td><td class="num ${w.failed > 0 ? "bad-text" : ""}">${count(w.failed)}</td>
</tr>`)
  const body = html`<section data-live id="workers">
<div class="toolbar"><nav class="tabs">${tabs}</nav>
<div>${data.stale > 0 ? postButton({ label: `Reclaim ${count(data.stale)} stale`, path: "/api/workers/reclaim-stale", body: { staleAfterMs: data.staleAfterMs }, confirm: `Unregister the ${data.stale} workers with no ping for ${duration(data.staleAfterMs)} and fail (or retry) their jobs?`, tone: "danger", readOnly, name: "reclaim" }) : ""}
${postButton({ label: "Fail jobs running over 1 h", path: "/api/workers/clean-stuck", body: { olderThanMs: 3_600_000 }, confirm: "Fail every job that has been running for more than an hour and unregister its worker?", readOnly, name: "clean-stuck" })}</div></div>
<p class="muted small">Stale: no ping for more than ${duration(data.staleAfterMs)} (workers ping every few seconds; the scheduler reclaims them on its own after its dead-worker timeout).</p>
<div class="panel">
${table(["worker", "state", "working on", "last ping", "started", "processed#", "failed#"], rows, "No worker in this state.")}
${pager({ path: base, query: { state: data.state === "all" ? undefined : data.state, staleAfterMs: staleQuery }, offset: data.offset, limit: data.limit, shown: data.workers.length, total: data.matched, noun: "workers" })}
</div>
</section>`
  return page(view.frame, { section: "workers", title: "Workers", roundTrips: "3 Redis round trips", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// recurring
// ---------------------------------------------------------------------------------------------------------

const recurringState = (r: Ops.RecurringDetails): Html =>
  r.stopped ? badge("stopped", "warn") : !r.live ? badge("not started", "muted") : r.queued ? badge("queued", "info") : r.nextRunAt !== null ? badge("waiting", "ok") : badge("running", "info")

/** Recurring actions: next run, last run, stop and start. @category pages */
export const recurring = (view: View, list: ReadonlyArray<Ops.RecurringDetails>): Html => {
  const { readOnly } = view.frame
  const rows = list.map((r) => html`<tr data-action="${r.action}">
<td><strong>${r.action}</strong><div class="muted small">${r.queue}</div></td><td>${r.schedule}</td><td class="state">${recurringState(r)}</td>
<td>${r.stopped ? html`<span class="muted">–</span>` : r.queued ? "now (queued)" : when(r.nextRunAt, view.now)}</td>
<td>${r.lastRun === null ? html`<span class="muted">never</span>` : html`${when(r.lastRun.at, view.now)} ${r.lastRun.ok ? badge("ok", "ok") : badge("failed", "bad")}`}</td>
<td class="actions">${r.stopped
    ? postButton({ label: "Start", path: `/api/recurring/${encodeURIComponent(r.action)}/start`, tone: "primary", readOnly, name: "start" })
    : postButton({ label: "Stop", path: `/api/recurring/${encodeURIComponent(r.action)}/stop`, confirm: `Stop ${r.action}? Its waiting copy is removed and it is not started again until you start it.`, tone: "danger", readOnly, name: "stop" })}</td>
</tr>`)
  const body = html`<section data-live id="recurring" class="panel">
${table(["action", "schedule", "state", "next run", "last run", ""], rows, "No recurring action is registered with this dashboard.")}
</section>`
  return page(view.frame, { section: "recurring", title: "Recurring actions", roundTrips: "2 Redis round trips", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------------------------------------

const fieldInput = (action: string, field: FormField): Html => {
  const id = `f-${action}-${field.name}`.replace(/[^A-Za-z0-9_-]/g, "_")
  const common = html`id="${id}" data-field="${field.name}" data-kind="${field.kind}"${field.required ? raw(` data-required="true"`) : ""}`
  const input = field.kind === "boolean"
    ? field.required
      ? html`<input type="checkbox" ${common}>`
      : html`<select ${common}><option value="">(not set)</option><option value="true">true</option><option value="false">false</option></select>`
    : field.kind === "choice"
    ? html`<select ${common}>${field.required ? "" : html`<option value="">(not set)</option>`}${field.choices.map((c) => html`<option value="${JSON.stringify(c.value)}">${c.label}</option>`)}</select>`
    : field.kind === "json"
    ? html`<textarea ${common} rows="3" placeholder="JSON"></textarea>`
    : html`<input type="text" ${common}${field.kind === "number" ? raw(` inputmode="decimal"`) : ""} autocomplete="off">`
  const label = field.name === "" ? "inputs" : field.name
  return html`<div class="field"><label for="${id}">${label}${field.required ? "" : html` <span class="muted">optional</span>`} <span class="kind">${field.kind}</span></label>${input}${
    field.description === null ? "" : html`<small>${field.description}</small>`
  }</div>`
}

const enqueueForm = (view: View, action: ActionView): Html =>
  view.frame.readOnly ? html`` : html`<details class="enqueue" id="enqueue-${action.action}" data-keep="enqueue-${action.action}"><summary>Enqueue ${action.action}</summary>
<form data-enqueue="/api/actions/${encodeURIComponent(action.action)}/enqueue" novalidate>
<div class="fields-grid">${action.fields.map((field) => fieldInput(action.action, field))}
<div class="field"><label>queue <span class="muted">optional</span></label><input type="text" data-option="queue" placeholder="${action.queue}" autocomplete="off"></div>
<div class="field"><label>delay <span class="muted">optional</span></label><input type="text" data-option="delay" placeholder="now, or 30s, 5m, 2h" autocomplete="off"></div>
</div>
<p class="form-error" role="alert" hidden></p><p class="form-ok" role="status" hidden></p>
<button class="btn primary" type="submit">Enqueue</button> <span class="muted small">checked by the action's Schema before anything is written</span>
</form></details>`

/** Actions: runs, failures, mean duration, last run, and an enqueue form each. @category pages */
export const actions = (view: View, list: ReadonlyArray<ActionView>): Html => {
  const rows = list.map((a) => html`<tr data-action="${a.action}">
<td><strong>${a.action}</strong><div class="muted small">${a.description}</div></td><td>${a.queue}${a.frequencyMs === null ? "" : html`<div class="muted small">every ${duration(a.frequencyMs)}</div>`}</td>
<td class="num runs">${count(a.runs)}</td><td class="num ${a.failures > 0 ? "bad-text" : ""}">${count(a.failures)}${a.runs > 0 ? html` <span class="muted small">${((a.failures / a.runs) * 100).toFixed(1)}%</span>` : ""}</td>
<td class="num">${a.meanDurationMs === null ? "–" : duration(a.meanDurationMs)}</td>
<td>${a.lastRun === null ? html`<span class="muted">never</span>` : html`${when(a.lastRun.at, view.now)} ${a.lastRun.ok ? badge("ok", "ok") : badge("failed", "bad")}`}</td>
</tr>`)
  const body = html`<section data-live id="actions" class="panel">
${table(["action", "queue", "runs#", "failures#", "mean duration#", "last run"], rows, "No actions are registered with this dashboard (the operator's bin has none): the application's own CLI (`web`) shows them and their enqueue forms.")}
</section>
${list.length === 0 || view.frame.readOnly ? "" : html`<section class="panel forms"><h2>Enqueue a job</h2>${list.map((a) => enqueueForm(view, a))}</section>`}`
  return page(view.frame, { section: "actions", title: "Actions", roundTrips: "1 Redis round trip", live: true, body })
}

// ---------------------------------------------------------------------------------------------------------
// other pages
// ---------------------------------------------------------------------------------------------------------

/** An error page (what a failed read shows instead of its page). @category pages */
export const error = (view: View, status: number, message: string): Html =>
  page(view.frame, {
    section: undefined,
    title: status === 404 ? "Not found" : status === 503 ? "Redis unavailable" : "Bad request",
    roundTrips: "no Redis round trip",
    live: status === 503,
    body: html`<div class="panel"><p class="error-text">${message}</p><p><a href="${link(view, "/")}">Back to the overview</a></p></div>`
  })

/** The login form (token authentication). @category pages */
export const login = (base: string, title: string, options: { readonly next: string; readonly failed: boolean }): Html =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Log in · ${title}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/assets/dashboard.css"></head>
<body class="login"><main class="login-box"><h1><span class="logo" aria-hidden="true">◆</span> ${title}</h1>
<form method="post" action="${base}/login">
<input type="hidden" name="next" value="${options.next}">
<label for="token">Dashboard token</label><input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
${options.failed ? html`<p class="form-error" role="alert">That token is not valid.</p>` : ""}
<button class="btn primary" type="submit">Log in</button>
</form></main></body></html>`
