/**
 * The dashboard's stylesheet and page script, shipped as strings (no front-end build): served from
 * `/assets/dashboard.css` and `/assets/dashboard.js`, cached by the browser for an hour. The content security
 * policy allows scripts and styles from the dashboard only, so nothing here is inline in the pages.
 *
 * The script (about 170 lines, no dependencies):
 * - posts a button's `data-body` as JSON to its `data-post` API path with the CSRF token (fetched again once
 *   if the dashboard restarted since the page loaded), after a confirm for destructive ones, and shows the
 *   result;
 * - turns an enqueue form into the action's inputs (numbers as numbers when they are, JSON fields parsed,
 *   empty optional fields left out) and shows the Schema's message when the server refuses them;
 * - every `data-refresh-ms` while the tab is visible, fetches the page again and swaps its `data-live`
 *   regions in (keeping open `<details>` open), backing off while the server does not answer.
 *
 * @since 0.2.0
 */

/** The stylesheet. @category assets */
export const css = String.raw`
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1d232b; --muted: #6b7480; --line: #e3e6ea; --head: #0f1720; --head-text: #e8edf3;
  --ok: #1f9d55; --ok-bg: #e3f5ea; --bad: #d64545; --bad-bg: #fbe7e7; --warn: #b7791f; --warn-bg: #fdf1dc;
  --info: #2b6cb0; --info-bg: #e2edf9; --accent: #3b5bdb; --code: #f0f2f5;
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; color: var(--text); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --panel: #151b23; --text: #d7dde4; --muted: #8b949e; --line: #262e38; --head: #010409; --head-text: #e6edf3;
    --ok-bg: #12301f; --bad-bg: #3a1618; --warn-bg: #3a2a0f; --info-bg: #132c48; --code: #1f2630; --accent: #7c93f5; }
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
code { background: var(--code); padding: 1px 4px; border-radius: 4px; word-break: break-all; }
pre { background: var(--code); padding: 8px 10px; border-radius: 6px; overflow: auto; max-height: 320px; margin: 4px 0; }
header.top { display: flex; align-items: center; gap: 16px; padding: 0 20px; background: var(--head); color: var(--head-text); min-height: 48px; flex-wrap: wrap; }
header.top a { color: var(--head-text); }
.brand { font-weight: 700; font-size: 15px; white-space: nowrap; }
.logo { color: #7c93f5; }
header nav { display: flex; gap: 2px; flex-wrap: wrap; flex: 1; white-space: nowrap; }
header nav a { padding: 14px 10px; opacity: .75; border-bottom: 2px solid transparent; }
header nav a:hover { opacity: 1; text-decoration: none; }
header nav a[aria-current="page"] { opacity: 1; border-bottom-color: #7c93f5; }
.top-right { display: flex; gap: 10px; align-items: center; font-size: 12px; }
.ns { opacity: .7; font-family: ui-monospace, monospace; }
.live { display: inline-flex; align-items: center; gap: 6px; opacity: .85; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--ok); box-shadow: 0 0 0 3px rgba(31,157,85,.25); }
.live.offline::before { background: var(--bad); box-shadow: 0 0 0 3px rgba(214,69,69,.25); }
.logout { margin: 0; }
button.link { background: none; border: 0; color: var(--head-text); opacity: .75; cursor: pointer; font: inherit; }
main { padding: 20px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 20px; margin: 4px 0 16px; word-break: break-all; }
h2 { font-size: 15px; margin: 0 0 10px; }
h2 small { font-weight: 400; color: var(--muted); margin-left: 6px; }
h4 { margin: 6px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 16px 20px 28px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.lead { margin: 0; font-size: 15px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 16px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(380px, 100%), 1fr)); gap: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 16px; }
.cards.small { grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); margin: 12px 0; }
.card { display: block; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; color: var(--text); }
a.card:hover { border-color: var(--accent); text-decoration: none; }
.card-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card-value { font-size: 24px; font-weight: 650; margin-top: 4px; font-variant-numeric: tabular-nums; word-break: break-all; }
.card-value small { font-size: 13px; font-weight: 400; color: var(--muted); }
.card-value.ok { color: var(--ok); } .card-value.bad { color: var(--bad); } .card-value.warn { color: var(--warn); } .card-value.info { color: var(--info); }
.card-note { color: var(--muted); font-size: 12px; margin-top: 2px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; white-space: nowrap; }
tbody tr:hover { background: rgba(127,127,127,.05); }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.actions { white-space: nowrap; text-align: right; }
table.fields { width: auto; }
table.fields th { text-transform: none; letter-spacing: 0; font-size: 12px; padding: 3px 12px 3px 0; border: 0; }
table.fields td { padding: 3px 0; border: 0; }
.empty { color: var(--muted); padding: 14px 0; margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11.5px; font-weight: 600; white-space: nowrap; line-height: 18px; }
.badge.ok { background: var(--ok-bg); color: var(--ok); } .badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.warn { background: var(--warn-bg); color: var(--warn); } .badge.info { background: var(--info-bg); color: var(--info); }
.badge.muted { background: var(--code); color: var(--muted); }
.bad-text, .error-text { color: var(--bad); }
.clip { display: inline-block; max-width: 60ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.btn { font: inherit; font-size: 12.5px; padding: 4px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--text); cursor: pointer; }
.btn:hover { border-color: var(--accent); }
.btn.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.btn.danger { color: var(--bad); border-color: var(--bad-bg); }
.btn.danger:hover { background: var(--bad-bg); border-color: var(--bad); }
.btn[disabled] { opacity: .5; cursor: progress; }
.toolbar { display: flex; justify-content: space-between; align-items: center; gap: 12px; margin-bottom: 12px; flex-wrap: wrap; }
.toolbar > div { display: flex; gap: 8px; flex-wrap: wrap; }
.filters { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; margin-bottom: 14px; }
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
.field label { font-size: 12.5px; font-weight: 600; }
.field label .muted { font-weight: 400; }
input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--text); min-width: 0; }
input:focus, select:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
.pager { display: flex; justify-content: space-between; gap: 12px; padding-top: 10px; font-size: 13px; }
.tabs { display: flex; gap: 4px; flex-wrap: wrap; margin-bottom: 8px; }
.tabs a { padding: 4px 10px; border-radius: 999px; border: 1px solid var(--line); color: var(--text); font-size: 12.5px; }
.tabs a[aria-current="page"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.progress { display: flex; align-items: center; gap: 8px; min-width: 160px; }
.progress svg { flex: 1; height: 10px; border-radius: 5px; overflow: hidden; }
.progress.large svg { height: 18px; border-radius: 9px; }
.progress .track { fill: var(--code); } .progress .ok { fill: var(--ok); } .progress .bad { fill: var(--bad); }
.progress .percent { font-variant-numeric: tabular-nums; font-size: 12px; min-width: 3.5em; text-align: right; }
.progress.large .percent { font-size: 18px; font-weight: 650; }
.progress-cell { min-width: 200px; }
.meter-cell { width: 40%; }
svg.meter { width: 100%; height: 6px; } svg.meter rect { fill: var(--accent); opacity: .7; }
svg.sparkline { width: 100%; height: 90px; display: block; }
svg.sparkline polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
svg.sparkline polyline.ok { stroke: var(--ok); } svg.sparkline polyline.bad { stroke: var(--bad); }
.sparkline.empty { color: var(--muted); padding: 30px 0; text-align: center; }
.legend { font-size: 12px; color: var(--muted); display: flex; gap: 6px; align-items: center; margin-top: 4px; }
.dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block; } .dot.ok { background: var(--ok); } .dot.bad { background: var(--bad); }
details summary { cursor: pointer; }
.error-cell details[open] summary .clip { white-space: normal; }
.detail-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px 16px; margin-top: 8px; }
.backtrace { font-size: 11.5px; }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline-item { display: grid; grid-template-columns: 160px 1fr; gap: 12px; padding: 10px 0; border-bottom: 1px solid var(--line); }
.timeline-item .due { font-weight: 600; display: flex; flex-direction: column; }
.timeline-item .due small { font-weight: 400; color: var(--muted); font-size: 11.5px; }
.due-jobs p { margin: 0 0 4px; }
.fan-out-head { margin-bottom: 10px; }
.forms details.enqueue { border-top: 1px solid var(--line); padding: 10px 0; }
.forms summary { font-weight: 600; }
.fields-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px 16px; margin: 12px 0; }
.field { display: flex; flex-direction: column; gap: 4px; }
.field small { color: var(--muted); font-size: 11.5px; }
.kind { font-family: ui-monospace, monospace; font-size: 10.5px; color: var(--muted); }
.form-error { color: var(--bad); background: var(--bad-bg); padding: 8px 10px; border-radius: 6px; white-space: pre-wrap; }
.form-ok { color: var(--ok); background: var(--ok-bg); padding: 8px 10px; border-radius: 6px; }
#toasts { position: fixed; right: 16px; bottom: 16px; display: flex; flex-direction: column; gap: 8px; z-index: 10; max-width: min(460px, 90vw); }
.toast { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 8px; padding: 10px 12px; box-shadow: 0 6px 24px rgba(0,0,0,.12); white-space: pre-wrap; }
.toast.bad { border-left-color: var(--bad); }
body.login { display: grid; place-items: center; min-height: 100vh; }
.login-box { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 24px; width: min(380px, 92vw); }
.login-box form { display: flex; flex-direction: column; gap: 10px; }
@media (max-width: 720px) {
  main { padding: 12px; }
  header.top { padding: 8px 12px 0; gap: 8px; justify-content: space-between; }
  header nav { order: 3; flex: 1 1 100%; flex-wrap: nowrap; overflow-x: auto; }
  header nav a { padding: 8px 8px 10px; white-space: nowrap; }
  .timeline-item { grid-template-columns: 1fr; }
  .clip { max-width: 32ch; }
}
`

/** The page script. @category assets */
export const js = String.raw`
"use strict";
(() => {
  const meta = (name) => document.querySelector('meta[name="' + name + '"]')?.getAttribute("content") ?? "";
  const base = meta("dashboard-base");
  let csrf = meta("csrf-token");
  const refreshMs = Number(document.body.dataset.refreshMs || 0);

  const toast = (text, tone) => {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast" + (tone === "bad" ? " bad" : "");
    item.setAttribute("role", tone === "bad" ? "alert" : "status");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), tone === "bad" ? 9000 : 4000);
  };

  const send = async (path, body) => {
    const response = await fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body)
    });
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    return { response, data };
  };
  // a dashboard restarted since this page loaded has a new CSRF token: fetch it once and send again
  const post = async (path, body) => {
    let { response, data } = await send(path, body);
    if (response.status === 403 && data && /CSRF/.test(data.message || "")) {
      const session = await fetch(base + "/api/session", { credentials: "same-origin" });
      if (session.ok) {
        csrf = (await session.json()).csrfToken;
        ({ response, data } = await send(path, body));
      }
    }
    if (!response.ok) throw new Error(data && data.message ? data.message : response.status + " " + response.statusText);
    return data;
  };

  const describe = (data) => {
    if (data === null || typeof data !== "object") return "done";
    if ("matched" in data) return data.done + " of " + data.matched + " matching records done" + (data.skipped ? ", " + data.skipped + " gone meanwhile" : "") + (data.notRetryable ? ", " + data.notRetryable + " not retryable" : "");
    if ("retried" in data) return "retried " + (data.retried.action ?? "the job") + " on " + data.retried.queue;
    if ("moved" in data) return "moved " + (data.moved.action ?? "the job") + " onto " + data.moved.queue;
    if ("removed" in data) return typeof data.removed === "number" ? "removed " + data.removed + " jobs" : "removed " + (data.removed.action ?? "the job");
    if ("cleaned" in data) return data.cleaned.length + " stuck jobs failed";
    if ("reclaimed" in data) return data.reclaimed.length + " stale workers reclaimed";
    if ("started" in data) return data.started ? "started " + data.action : data.action + " was already live";
    if ("wasLive" in data) return "stopped " + data.action;
    return "done";
  };

  // ---- live regions -------------------------------------------------------------------------------
  const status = document.getElementById("live-status");
  let failures = 0;
  let inFlight = null;
  const refresh = () => {
    if (inFlight) return inFlight;
    inFlight = (async () => {
      try {
        const response = await fetch(location.href, { credentials: "same-origin", headers: { "x-dashboard-live": "1" } });
        if (response.status === 401 || response.redirected) { location.reload(); return; }
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const open = new Set([...document.querySelectorAll("details[data-keep][open]")].map((d) => d.dataset.keep));
        for (const fresh of doc.querySelectorAll("[data-live]")) {
          const current = fresh.id ? document.getElementById(fresh.id) : null;
          if (!current || current.innerHTML === fresh.innerHTML) continue;
          const node = document.importNode(fresh, true);
          for (const details of node.querySelectorAll("details[data-keep]")) if (open.has(details.dataset.keep)) details.open = true;
          current.replaceWith(node);
        }
        failures = response.ok ? 0 : failures + 1;
      } catch {
        failures++;
      } finally {
        status?.classList.toggle("offline", failures > 0);
        if (status) status.textContent = failures > 0 ? "offline" : "live";
        inFlight = null;
      }
    })();
    return inFlight;
  };
  if (refreshMs > 0) {
    const loop = async () => {
      if (!document.hidden) await refresh();
      setTimeout(loop, refreshMs * Math.min(16, 2 ** failures));
    };
    setTimeout(loop, refreshMs);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  }

  // ---- buttons that post --------------------------------------------------------------------------
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-post]") : null;
    if (!button) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    try {
      const data = await post(button.dataset.post, JSON.parse(button.dataset.body || "{}"));
      toast(describe(data), "ok");
      await refresh();
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), "bad");
    } finally {
      button.disabled = false;
    }
  });

  // ---- enqueue forms ------------------------------------------------------------------------------
  const units = { ms: 1, s: 1000, m: 60000, min: 60000, h: 3600000, d: 86400000 };
  const parseDelay = (text) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text);
    return match ? Number(match[1]) * units[(match[2] || "s").toLowerCase()] : undefined;
  };
  const valueOf = (element) => {
    const kind = element.dataset.kind;
    if (element instanceof HTMLInputElement && element.type === "checkbox") return { value: element.checked };
    const text = element.value;
    if (text.trim() === "") return undefined;
    if (kind === "number") {
      const n = Number(text.trim());
      return { value: Number.isFinite(n) ? n : text };
    }
    if (kind === "boolean") return { value: text === "true" };
    if (kind === "choice") return { value: JSON.parse(text) };
    if (kind === "json") {
      try { return { value: JSON.parse(text) }; } catch { throw new Error((element.dataset.field || "inputs") + ": not valid JSON"); }
    }
    return { value: text };
  };
  document.addEventListener("submit", async (event) => {
    const form = event.target instanceof Element ? event.target.closest("form[data-enqueue]") : null;
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector(".form-error");
    const ok = form.querySelector(".form-ok");
    error.hidden = true;
    ok.hidden = true;
    try {
      let inputs = {};
      for (const element of form.querySelectorAll("[data-field]")) {
        const found = valueOf(element);
        if (found === undefined) continue;
        if (element.dataset.field === "") inputs = found.value;
        else inputs[element.dataset.field] = found.value;
      }
      const body = { inputs };
      const queue = form.querySelector('[data-option="queue"]').value.trim();
      if (queue !== "") body.queue = queue;
      const delay = form.querySelector('[data-option="delay"]').value.trim();
      if (delay !== "" && delay !== "now") {
        const ms = parseDelay(delay);
        if (ms === undefined) throw new Error("delay: write it as 30s, 5m, 2h or 1d");
        body.delayMs = ms;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const job = await post(form.dataset.enqueue, body);
        ok.textContent = "Enqueued " + job.action + " on " + job.queue + (job.at === null ? "" : " at " + new Date(job.at).toLocaleString());
        ok.hidden = false;
        toast(ok.textContent, "ok");
        refresh();
      } finally {
        button.disabled = false;
      }
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      error.hidden = false;
    }
  });
})();
`
