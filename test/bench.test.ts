/**
 * Smoke test of the benchmark, so its code cannot rot: the real orchestrator (`bench/run.ts`) runs every case
 * once with tiny sizes against the test Redis, under a key prefix of its own (it never flushes a server it did
 * not start: it deletes its own keys). Asserts that every case and system reports a row, that every case
 * process passed its correctness checks, and that the JSON results are written. No timing is asserted, and no
 * target has to be met: only that the pick-up latency, idle cost and in-memory cases report sane numbers.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis as IORedis } from "ioredis"
import { afterAll, describe, expect, inject, it } from "vitest"
import { caseIds, plan } from "../bench/lib/plan.ts"
import type { CaseResult } from "../bench/lib/protocol.ts"

const root = join(import.meta.dirname, "..")
const prefix = `bench-smoke-${randomUUID().slice(0, 8)}`
const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"))
const out = join(dir, "latest.json")
const settings = {
  n: 200,
  children: 200,
  roundTripN: 100,
  rounds: 1,
  ourConcurrency: [25],
  resqueWorkers: [5, 10] as const,
  latencyN: 50,
  idleSeconds: 1
}

const runBench = () =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve, reject) => {
    const args = [
      "--import", "tsx", join(root, "bench", "run.ts"),
      "--n", String(settings.n), "--children", String(settings.children), "--rt-n", String(settings.roundTripN),
      "--rounds", "1", "--concurrency", "25", "--resque-workers", "5,10", "--latency-n", String(settings.latencyN),
      "--idle-seconds", String(settings.idleSeconds), "--prefix", prefix, "--out", out
    ]
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, BENCH_REDIS_URL: inject("redisUrl") },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("error", reject)
    child.once("exit", (code) => resolve({ code, stdout, stderr }))
  })

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("benchmark (smoke, tiny N)", () => {
  it("runs every case with correct results, prints the tables and writes the JSON, leaving no keys behind", async () => {
    const { code, stdout, stderr } = await runBench()
    expect(code, stderr).toBe(0)
    expect(stdout).toContain("All correctness checks passed.")
    const entries = plan(settings, caseIds)
    const json = JSON.parse(readFileSync(out, "utf8")) as {
      results: ReadonlyArray<CaseResult>
      failures: ReadonlyArray<string>
      targets: ReadonlyArray<{ goal: string; measured: string }>
    }
    expect(json.failures).toEqual([])
    // one result per entry, each with its correctness checks
    expect(json.results.map((r) => `${r.case}|${r.system}|${r.variant}`).sort()).toEqual(
      entries.map((e) => `${e.case}|${e.system}|${e.variant}`).sort()
    )
    for (const result of json.results) {
      expect(result.checks.length, `${result.case} ${result.system}`).toBeGreaterThan(0)
      expect(Number.isFinite(result.value), `${result.case} ${result.system}`).toBe(true)
    }
    // every timed entry has a row in its Markdown table (the main one, pick-up latency, idle cost), and the
    // round-trip table and targets are there
    for (const entry of entries.filter((e) => e.case !== "roundtrips")) {
      expect(stdout).toMatch(new RegExp(`\\| ${entry.system} \\| ${entry.variant.replace(/[()]/g, "\\$&")} \\| ${entry.n.toLocaleString("en-US")} \\|`))
    }
    expect(stdout).toContain("| ours | process fan-out children (recording) |")
    expect(stdout).toContain("| result recording: 0 extra round trips per child |")
    const goals = [
      "processing (recording on) ≥ 1.5× BullMQ c50 (stretch 2×)",
      "worker peak RSS ≤ BullMQ's (processing case)",
      "pick-up latency p50 ≤ 1 ms, p99 ≤ 5 ms, and no worse than BullMQ",
      "idle worker process (50 slots) sends ≤ 1 Redis command/s, ≈ 0 Redis CPU",
      "in-memory ≥ 10 000 jobs/s, plain and fan-out children"
    ]
    for (const goal of goals) {
      expect(stdout).toContain(`| ${goal} |`)
      expect(json.targets.map((t) => t.goal)).toContain(goal)
    }
    // the new cases' numbers are sane: ordered percentiles, counts that are rates, in-memory rows without a server
    for (const result of json.results.filter((r) => r.case === "latency")) {
      const e = result.extra
      expect(result.n).toBe(settings.latencyN)
      expect(e["minMs"]).toBeGreaterThanOrEqual(0)
      expect(e["p50Ms"]).toBeLessThanOrEqual(e["p99Ms"] as number)
      expect(e["p99Ms"]).toBeLessThanOrEqual(e["maxMs"] as number)
    }
    for (const result of json.results.filter((r) => r.case === "idle")) {
      expect(result.unit).toBe("commands/s")
      expect(result.value, result.system).toBeGreaterThanOrEqual(0)
      expect(result.extra["sentPerSec"], result.system).toBeGreaterThanOrEqual(0)
      expect(result.extra["windowMs"], result.system).toBeGreaterThanOrEqual(settings.idleSeconds * 1000)
    }
    const memory = json.results.filter((r) => r.case === "memory")
    expect(memory.map((r) => r.n).sort()).toEqual([settings.children, settings.n].sort())
    for (const result of memory) {
      expect(result.redisCpuPct).toBe(0)
      expect(result.value).toBeGreaterThan(0)
    }
    // the orchestrator deleted every key it wrote on a server it did not start
    const redis = new IORedis(inject("redisUrl"))
    try {
      const [, keys] = await redis.scan("0", "MATCH", `${prefix}*`, "COUNT", 100_000)
      expect(keys).toEqual([])
    } finally {
      redis.disconnect()
    }
  }, 180_000)
})
