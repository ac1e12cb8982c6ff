/**
 * The dashboard in a real browser: Debian's Chromium (`/usr/bin/chromium`, headless, no sandbox, no background
 * networking, a fresh profile) driven by playwright-core, against the dashboard served with workers and a job
 * scheduler on the real Redis. An operator opens the overview, retries a failed job and sees it leave the
 * list, watches a fan-out's progress bar reach 100% without reloading, stops a recurring action, and enqueues
 * a job from the form generated from its Schema: an invalid value shows the Schema's message, a valid one runs.
 *
 * Screenshots of each step go to test/artifacts/ (git-ignored); `UPDATE_SCREENSHOT=1` also writes the
 * README's docs/dashboard.png. Waits are on what the page shows, each with a deadline; nothing sleeps.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { waitUntil } from "./support/app.ts"
import { real } from "./support/backends.ts"
import { baseUrl, charge, childGate, flaky, flakySwitch, gated, resize, serve, summarize } from "./support/dashboardApp.ts"
import { seedWorkers } from "./support/dashboardSeed.ts"

const root = join(import.meta.dirname, "..")
const artifacts = join(root, "test", "artifacts")
const chromiumPath = "/usr/bin/chromium"
const slow = { timeout: 90_000 }

let profile = ""
let context: BrowserContext | undefined

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium (.ci/run does)`)
  mkdirSync(artifacts, { recursive: true })
  profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1360, height: 860 }
  })
}, 60_000)

afterAll(async () => {
  await context?.close()
  if (profile !== "") rmSync(profile, { recursive: true, force: true })
})

/** Runs `f` on a fresh tab, failing on any script error in the page; the tab is closed afterwards. */
const withPage = <A>(f: (page: Page) => Promise<A>) =>
  Effect.promise(async () => {
    const page = await context!.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    page.on("dialog", (dialog) => void dialog.accept())
    try {
      const result = await f(page)
      assert.deepStrictEqual(errors, [], "no script error in the page")
      return result
    } finally {
      await page.close()
    }
  })

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

layer(
  serve(real.layer(), {
    workers: true,
    scheduler: true,
    dashboard: { refresh: "300 millis", throughput: { every: "500 millis" }, title: "effect-resque" }
  }),
  { excludeTestServices: true }
)("dashboard in Chromium", (it) => {
  it.effect("the overview shows queues, counters, throughput, workers, the leader and recent failures", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      const ops = yield* Operations
      for (let i = 0; i < 6; i++) yield* actions.enqueue(charge, { sku: `SKU-${i}` })
      for (let i = 0; i < 40; i++) yield* actions.enqueue(resize, { url: `https://img.example/${i}.png`, width: 200 + i })
      yield* actions.enqueueIn("10 minutes", resize, { url: "https://img.example/later.png" })
      yield* actions.enqueue(resize, { url: "https://img.example/waits.png" }, { queue: "thumbnails" })
      yield* seedWorkers(3, { busyEvery: 2 })
      yield* waitUntil("six failed charges", ops.failedCount, (n) => n >= 6)
      yield* waitUntil("a leader", Effect.map(ops.summary, (s) => s.leader), (leader) => leader !== null)
      const base = yield* baseUrl
      yield* withPage(async (page) => {
        await page.goto(`${base}/`)
        await page.getByRole("heading", { name: "Overview" }).waitFor()
        const cards = page.locator(".cards")
        await cards.getByText("Failed jobs kept").waitFor()
        assert.match(await cards.innerText(), /scheduler leader/i)
        await page.locator("#overview").getByRole("link", { name: "thumbnails" }).waitFor()
        await page.locator("#overview").getByText("PaymentDeclined").first().waitFor()
        // the sparkline draws once the dashboard has two samples: it appears without a reload
        await page.locator("svg.sparkline").waitFor({ timeout: 15_000 })
        assert.strictEqual(await page.locator("#live-status").innerText(), "live")
        await shot(page, "overview")
        if (process.env["UPDATE_SCREENSHOT"] === "1") await page.screenshot({ path: join(root, "docs", "dashboard.png") })
      })
    }), slow)

  it.effect("retrying a failed job takes it off the list, and the job runs", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      const ops = yield* Operations
      flakySwitch.failing = true
      yield* actions.enqueue(flaky, { n: 42 })
      const page1 = yield* waitUntil(
        "the flaky failure",
        ops.failedPage({ action: "flaky" }),
        (p) => p.jobs.some((j) => (j.inputs as { n?: number }).n === 42)
      )
      const failed = page1.jobs.find((j) => (j.inputs as { n?: number }).n === 42)!
      const base = yield* baseUrl
      yield* withPage(async (page) => {
        await page.goto(`${base}/failed?action=flaky`)
        const row = page.locator(`tr[data-id="${failed.id}"]`)
        await row.waitFor()
        await row.locator("summary").click()
        await row.getByText("Backtrace").waitFor()
        await shot(page, "failed")
        flakySwitch.failing = false
        await row.getByRole("button", { name: "Retry" }).click()
        await page.locator(".toast").getByText("retried flaky").waitFor()
        await row.waitFor({ state: "detached", timeout: 10_000 })
        await shot(page, "failed-retried")
      })
      yield* waitUntil("the retried job to run", Effect.map(ops.actionActivity, (all) => all.find((a) => a.action === "flaky")?.lastRun), (last) => last?.ok === true)
      assert.isFalse((yield* ops.failedPage({ action: "flaky" })).jobs.some((j) => j.id === failed.id))
    }), slow)

  it.effect("a fan-out's progress bar reaches 100% live, without a reload", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      const started = yield* actions.fanOut(gated, Array.from({ length: 40 }, (_, i) => ({ i })), { onComplete: summarize })
      const base = yield* baseUrl
      yield* withPage(async (page) => {
        await page.goto(`${base}/fan-outs/${started.fanOutId}`)
        const bar = page.locator(".progress.large")
        await bar.waitFor()
        assert.strictEqual(await bar.getAttribute("data-progress"), "0")
        await page.evaluate(() => Object.assign(globalThis, { stillTheSamePage: true }))
        await shot(page, "fan-out-running")
        await Effect.runPromise(childGate.open)
        await page.locator('.progress.large[data-progress="100"]').waitFor({ timeout: 20_000 })
        assert.isTrue(await page.evaluate(() => (globalThis as { stillTheSamePage?: boolean }).stillTheSamePage === true), "not reloaded")
        await page.getByText("enqueued").first().waitFor()
        assert.include(await page.locator(".cards.small").innerText(), "40")
        await shot(page, "fan-out-done")
      })
    }), slow)

  it.effect("stopping a recurring action from its page", () =>
    Effect.gen(function*() {
      const ops = yield* Operations
      yield* waitUntil("the heartbeat to run", Effect.map(ops.recurringDetails, ([r]) => r?.lastRun), (last) => last !== null && last !== undefined, { timeout: "20 seconds" })
      const base = yield* baseUrl
      yield* withPage(async (page) => {
        await page.goto(`${base}/recurring`)
        const row = page.locator('tr[data-action="heartbeat"]')
        await row.getByRole("button", { name: "Stop" }).click()
        await row.locator(".state").getByText("stopped").waitFor()
        await row.getByRole("button", { name: "Start" }).waitFor()
        await shot(page, "recurring-stopped")
      })
      const [heartbeat] = yield* ops.recurringDetails
      assert.isTrue(heartbeat!.stopped)
      assert.isFalse(heartbeat!.live)
    }), slow)

  it.effect("enqueueing from the form generated from the Schema: an invalid value shows the error, a valid one runs", () =>
    Effect.gen(function*() {
      const ops = yield* Operations
      // the overview's resize jobs have all run: the count below moves by this test's job only
      const idle = Effect.gen(function*() {
        const queues = yield* ops.queues
        const running = (yield* ops.allWorkingOn).filter((w) => !w.worker.startsWith("host-"))
        return queues.every((q) => q.length === 0) && running.every((w) => w.job.action !== "resize")
      })
      yield* waitUntil("the earlier resize jobs to run", idle, (done) => done)
      const before = (yield* ops.actionActivity).find((a) => a.action === "resize")!.runs
      const base = yield* baseUrl
      yield* withPage(async (page) => {
        await page.goto(`${base}/actions`)
        const form = page.locator("#enqueue-resize")
        await form.locator("summary").click()
        await form.getByLabel("url").fill("https://img.example/form.png")
        await form.getByLabel("width").fill("-5")
        await form.getByLabel("format").selectOption("png")
        await form.getByRole("button", { name: "Enqueue" }).click()
        const error = form.locator(".form-error")
        await error.waitFor()
        assert.match(await error.innerText(), /greater than 0/)
        assert.match(await error.innerText(), /\["width"\]/)
        await shot(page, "enqueue-invalid")
        await form.getByLabel("width").fill("320")
        await form.getByRole("button", { name: "Enqueue" }).click()
        await form.locator(".form-ok").getByText("Enqueued resize on images").waitFor()
        assert.isTrue(await error.isHidden())
        // the job runs: the runs column moves on the live page
        // a function, not a string: the page's CSP forbids the eval a string predicate needs on every poll
        await page.waitForFunction(
          (wanted) => {
            const page = globalThis as unknown as { document: { querySelector: (s: string) => { textContent: string | null } | null } }
            return Number(page.document.querySelector('tr[data-action="resize"] .runs')?.textContent?.replace(/,/g, "")) >= wanted
          },
          before + 1,
          { timeout: 15_000 }
        )
        await shot(page, "enqueue-valid")
      })
      const activity = (yield* ops.actionActivity).find((a) => a.action === "resize")!
      assert.isAtLeast(activity.runs, before + 1)
      assert.isTrue(activity.lastRun?.ok)
    }), slow)
})
