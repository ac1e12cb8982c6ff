/**
 * Takes the README's screenshot (docs/dashboard.png): the dashboard's overview of a busy application, in
 * Debian's Chromium. The scene, on the in-memory Redis: workers on `images`, `payments` and `children` while
 * `reports` and `emails` have backlogs, bursts of jobs for a few seconds (the throughput sparkline), declined
 * payments and flaky jobs in the failed list, registered workers busy and idle, delayed jobs, a fan-out running.
 *
 * Run: `npx tsx test/support/dashboardScreenshot.ts` (about 15 s).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { chromium } from "playwright-core"
import { Actions } from "../../src/layers/Actions.ts"
import * as RedisMemory from "../../src/layers/RedisMemory.ts"
import { baseUrl, charge, flaky, resize, serve, slow, summarize } from "./dashboardApp.ts"
import { seedWorkers } from "./dashboardSeed.ts"

const output = join(import.meta.dirname, "..", "..", "docs", "dashboard.png")

const scene = Effect.gen(function*() {
  const actions = yield* Actions
  yield* seedWorkers(9, { busyEvery: 2 })
  for (let i = 0; i < 1240; i++) yield* actions.enqueue(resize, { url: `https://img.example/report-${i}.png` }, { queue: "reports" })
  for (let i = 0; i < 87; i++) yield* actions.enqueue(resize, { url: `https://img.example/mail-${i}.png` }, { queue: "emails" })
  for (let i = 0; i < 15; i++) yield* actions.enqueueIn(`${(i + 1) * 7} minutes`, resize, { url: `https://img.example/later-${i}.png` })
  yield* actions.fanOut(slow, Array.from({ length: 3000 }, (_, i) => ({ i, ms: 25 })), { onComplete: summarize })
  // bursts of work of varying size, a few failures among them: the sparkline's shape
  for (let burst = 0; burst < 24; burst++) {
    const size = Math.round(40 + 35 * Math.sin(burst / 3) + (burst % 5) * 8)
    for (let i = 0; i < size; i++) yield* actions.enqueue(resize, { url: `https://img.example/${burst}-${i}.png`, width: 320 })
    if (burst % 4 === 1) for (let i = 0; i < 3; i++) yield* actions.enqueue(charge, { sku: `SKU-${burst}-${i}` })
    if (burst % 6 === 3) yield* actions.enqueue(flaky, { n: burst })
    yield* Effect.sleep("350 millis")
  }
  const base = yield* baseUrl
  yield* Effect.promise(async () => {
    const profile = mkdtempSync(join(tmpdir(), "dashboard-shot-"))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1360, height: 770 },
      deviceScaleFactor: 1
    })
    try {
      const page = await context.newPage()
      await page.goto(`${base}/`)
      await page.locator("svg.sparkline").waitFor()
      await page.screenshot({ path: output })
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })
  console.log(`wrote ${output}`)
})

scene.pipe(
  Effect.provide(serve(RedisMemory.layer({ namespace: "production" }), {
    workers: true,
    queues: ["images", "payments", "children"],
    scheduler: true,
    dashboard: { throughput: { every: "700 millis" }, refresh: "1 second" }
  })),
  Effect.runPromise
).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
