/**
 * Turns the rounds of every entry into the report: a Markdown table of median [min–max], the round-trip
 * table, and where we stand against the targets of the issue.
 */
import { barrelVariant, bullmqTracedVariant, cases, type CaseId, caseIds, isComparisonVariant, label, mixedActionsVariant, observabilityVariants, observedVariant, warmedUpVariant } from "./plan.ts"
import type { CaseResult, System } from "./protocol.ts"

export interface Summary {
  readonly case: string
  readonly system: System
  readonly variant: string
  readonly n: number
  readonly unit: CaseResult["unit"]
  readonly rounds: number
  readonly value: Spread
  readonly nodeCpuPct: number
  readonly redisCpuPct: number
  readonly extra: Readonly<Record<string, number>>
}

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const spread = (xs: ReadonlyArray<number>): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })

/** Groups results by entry (in first-seen order) and summarises each group. */
export const summarise = (results: ReadonlyArray<CaseResult>): ReadonlyArray<Summary> => {
  const groups = new Map<string, Array<CaseResult>>()
  for (const result of results) {
    const key = label(result)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [result])
    else group.push(result)
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as CaseResult
    const extraKeys = [...new Set(group.flatMap((r) => Object.keys(r.extra)))]
    return {
      case: first.case,
      system: first.system,
      variant: first.variant,
      n: first.n,
      unit: first.unit,
      rounds: group.length,
      value: spread(group.map((r) => r.value)),
      nodeCpuPct: median(group.map((r) => r.nodeCpuPct)),
      redisCpuPct: median(group.map((r) => r.redisCpuPct)),
      extra: Object.fromEntries(extraKeys.map((k) => [k, median(group.flatMap((r) => (r.extra[k] === undefined ? [] : [r.extra[k]])))]))
    }
  })
}

const fmt = (x: number): string =>
  !Number.isFinite(x) ? "–" : Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)

const fmtSpread = (s: Spread, unit: string, rounds: number): string =>
  rounds > 1 ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}] ${unit}` : `${fmt(s.median)} ${unit}`

/** Speed of `a` relative to `b` (> 1: `a` is faster), whatever the unit. */
const speedRatio = (a: Summary, b: Summary): number =>
  a.unit === "jobs/s" ? a.value.median / b.value.median : b.value.median / a.value.median

const extraNotes = (s: Summary): string => {
  const notes: Array<string> = []
  const e = s.extra
  if (e["noServer"] !== undefined) notes.push("no Redis server")
  if (e["peakRssMb"] !== undefined) notes.push(`peak RSS ${fmt(e["peakRssMb"])} MB`)
  if (e["statusMs"] !== undefined) notes.push(`status call ${fmt(e["statusMs"])} ms`)
  if (e["redisBytesPerChild"] !== undefined) notes.push(`Redis ${fmt(e["redisBytesPerChild"])} B/finished child`)
  return notes.join(", ")
}

/** The main table: one row per entry, timing cases only. */
export const table = (summaries: ReadonlyArray<Summary>): string => {
  if (!summaries.some((s) => s.case !== "roundtrips" && s.case !== "latency" && s.case !== "idle")) return ""
  const lines = [
    "| Case | System | Variant | N | Result: median [min–max] | Ours vs peer | node CPU | redis CPU | CPU µs/job node + redis | Notes |",
    "|---|---|---|---:|---:|---|---:|---:|---:|---|"
  ]
  for (const id of caseIds) {
    // these have tables of their own
    if (id === "roundtrips" || id === "latency" || id === "idle") continue
    const rows = summaries.filter((s) => s.case === id)
    // each peer's first entry of the case (its plain one; a peer's traced variant is compared in the targets),
    // and for a warmed-up entry of ours each peer's warmed-up one
    const peers = rows.filter((s, i) => s.system !== "ours" && rows.findIndex((r) => r.system === s.system) === i)
    const warmedPeers = rows.filter((s) => s.system !== "ours" && s.variant.endsWith(warmedUpVariant))
    for (const s of rows) {
      const compared = s.variant.includes(warmedUpVariant) ? warmedPeers : peers
      const versus = s.system === "ours" ? compared.map((p) => `${fmt(speedRatio(s, p))}× ${p.system}`).join(", ") : ""
      const noServer = s.extra["noServer"] !== undefined
      lines.push(
        `| ${cases[id]} | ${s.system} | ${s.variant} | ${s.n.toLocaleString("en-US")} | ${fmtSpread(s.value, s.unit, s.rounds)} | ${versus} | ${
          Math.round(s.nodeCpuPct)
        }% | ${noServer ? "–" : `${Math.round(s.redisCpuPct)}%`} | ${fmt(s.extra["nodeCpuUsPerJob"] ?? Number.NaN)} + ${
          noServer ? "–" : fmt(s.extra["redisCpuUsPerJob"] ?? Number.NaN)
        } | ${extraNotes(s)} |`
      )
    }
  }
  return lines.join("\n")
}

/** A percentage of one core, with a decimal below 10%. */
const pct = (x: number): string => (!Number.isFinite(x) ? "–" : Math.abs(x) >= 10 ? `${Math.round(x)}%` : `${x.toFixed(1)}%`)

/** The pick-up latency table (case `latency`): percentiles of run start − enqueue time, in ms. */
export const latencyTable = (summaries: ReadonlyArray<Summary>): string => {
  const rows = summaries.filter((s) => s.case === "latency")
  if (rows.length === 0) return ""
  const lines = [
    `${cases.latency}: jobs enqueued one at a time, 5–10 ms apart, producer and workers in one process (one clock); median over rounds.`,
    "",
    "| System | Variant | Jobs | p50 | p90 | p99 | max | mean | node CPU | redis CPU |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const s of rows) {
    const e = s.extra
    lines.push(
      `| ${s.system} | ${s.variant} | ${s.n.toLocaleString("en-US")} | ${fmtSpread(s.value, "ms", s.rounds)} | ${fmt(e["p90Ms"] ?? Number.NaN)} ms | ${
        fmt(e["p99Ms"] ?? Number.NaN)
      } ms | ${fmt(e["maxMs"] ?? Number.NaN)} ms | ${fmt(e["meanMs"] ?? Number.NaN)} ms | ${pct(s.nodeCpuPct)} | ${pct(s.redisCpuPct)} |`
    )
  }
  return lines.join("\n")
}

/** The busiest commands of an idle row, per second. */
const topCommands = (s: Summary, count = 4): string =>
  Object.entries(s.extra)
    .filter(([k]) => k.startsWith("cmd."))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, v]) => `${k.slice(4)} ${fmt(v)}`)
    .join(", ")

/** The idle-cost table (case `idle`): what an idle worker process costs Redis, per second. */
export const idleTable = (summaries: ReadonlyArray<Summary>): string => {
  const rows = summaries.filter((s) => s.case === "idle")
  if (rows.length === 0) return ""
  const windowS = median(rows.map((s) => s.extra["windowMs"] ?? Number.NaN)) / 1000
  const lines = [
    `${cases.idle}: over a ${fmt(windowS)} s window after a warm-up. Executed: redis-server's INFO commandstats growth (commands run by scripts included, MULTI/EXEC not), the harness's own INFO taken out; sent and round trips: counted on this process's sockets. Redis CPU: whole server over the window, and its own idle baseline before the system connected.`,
    "",
    "| System | Variant | Slots | Commands executed / s | Sent / s | Round trips / s | Inside scripts / s | redis CPU (baseline) | node CPU | Busiest commands / s | Notes |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
  ]
  for (const s of rows) {
    const e = s.extra
    const foreign = e["foreignActiveClients"] ?? 0
    lines.push(
      `| ${s.system} | ${s.variant} | ${s.n} | ${fmtSpread(s.value, "", s.rounds).trim()} | ${fmt(e["sentPerSec"] ?? Number.NaN)} | ${
        fmt(e["roundTripsPerSec"] ?? Number.NaN)
      } | ${fmt(e["insideScriptsPerSec"] ?? Number.NaN)} | ${pct(s.redisCpuPct)} (${pct(e["redisBaselineCpuPct"] ?? Number.NaN)}) | ${pct(s.nodeCpuPct)} | ${
        topCommands(s)
      } | ${foreign > 0 ? `${fmt(foreign)} other client(s) active: the executed count includes theirs` : ""} |`
    )
  }
  return lines.join("\n")
}

/** Phases the round-trip case counts, in order. */
export const phases = [
  ["enqueue-single", "enqueue one job"],
  ["enqueue-bulk", "bulk enqueue (per job)"],
  ["fanout", "fan-out enqueue (per child)"],
  ["process", "process (plain jobs)"],
  ["process-children", "process fan-out children (recording)"],
  ["status", "fanOutStatus (whole call)"]
] as const

/** The round-trip table: commands and round trips per job, per system and phase. */
export const roundTripTable = (summaries: ReadonlyArray<Summary>): string => {
  const rows = summaries.filter((s) => s.case === "roundtrips")
  if (rows.length === 0) return ""
  const lines = [
    "| System | Phase | Round trips / job | Commands sent / job | Commands run inside scripts / job |",
    "|---|---|---:|---:|---:|"
  ]
  for (const s of rows) {
    for (const [key, title] of phases) {
      const rt = s.extra[`${key}.roundTrips`]
      if (rt === undefined) continue
      lines.push(`| ${s.system} | ${title} | ${fmt(rt)} | ${fmt(s.extra[`${key}.commands`] ?? Number.NaN)} | ${fmt(s.extra[`${key}.scripted`] ?? Number.NaN)} |`)
    }
  }
  return lines.join("\n")
}

export interface Target {
  readonly goal: string
  readonly measured: string
  readonly met: boolean | undefined
}

const find = (summaries: ReadonlyArray<Summary>, id: CaseId, system: System) => summaries.filter((s) => s.case === id && s.system === system)

/** A peer's plain processing entry (not its traced or warmed-up variants). */
const plainProcessOf = (summaries: ReadonlyArray<Summary>, system: System) =>
  find(summaries, "process", system).find((s) => !s.variant.endsWith(bullmqTracedVariant) && !s.variant.includes(warmedUpVariant))

/** Redis CPU above the server's own idle baseline (in % of one core) that still counts as "≈ 0". */
export const idleCpuTolerancePct = 0.5

/** Where we stand against the issue's targets (ratios from this run's medians). */
export const targetList = (summaries: ReadonlyArray<Summary>): ReadonlyArray<Target> => {
  const out: Array<Target> = []
  const [oursFan] = find(summaries, "fanout-enqueue", "ours")
  const [bullFan] = find(summaries, "fanout-enqueue", "bullmq")
  if (oursFan && bullFan) {
    const r = speedRatio(oursFan, bullFan)
    out.push({ goal: "fan-out enqueue ≥ 10× BullMQ FlowProducer", measured: `${fmt(r)}× (${fmt(oursFan.value.median)} ms vs ${fmt(bullFan.value.median)} ms)`, met: r >= 10 })
  }
  const allOursProcess = find(summaries, "process", "ours")
  const oursProcess = allOursProcess.filter((s) => !isComparisonVariant(s.variant))
  const best = oursProcess.reduce<Summary | undefined>((a, s) => (a === undefined || s.value.median > a.value.median ? s : a), undefined)
  const processGoals = [
    ["node-resque", "processing (recording on) ≥ 1× node-resque MultiWorker, by a wide margin", 1],
    ["bullmq", "processing (recording on) ≥ 1.5× BullMQ c50 (stretch 2×)", 1.5]
  ] as const
  for (const [peer, goal, ratio] of processGoals) {
    const p = plainProcessOf(summaries, peer)
    if (best && p) {
      const r = speedRatio(best, p)
      out.push({ goal, measured: `${fmt(r)}× (ours ${best.variant}: ${fmt(best.value.median)} vs ${fmt(p.value.median)} jobs/s)`, met: r >= ratio })
    }
  }
  // observability, warmed up: each variant against the same case off (`warmedUpVariant`)
  const cpuOf = (s: Summary) => s.extra["nodeCpuUsPerJob"] ?? Number.NaN
  const warmOff = allOursProcess.find((s) => s.variant.endsWith(`recording, ${warmedUpVariant}`))
  const bullWarm = find(summaries, "process", "bullmq").find((s) => s.variant.endsWith(warmedUpVariant))
  const bullTraced = bullWarm && find(summaries, "process", "bullmq").find((s) => s.variant === `${bullWarm.variant}, ${bullmqTracedVariant}`)
  for (const { label: suffix } of observabilityVariants) {
    const observed = warmOff && allOursProcess.find((s) => s.variant === `${warmOff.variant}, ${suffix}`)
    if (warmOff && observed) {
      const r = observed.value.median / warmOff.value.median
      // BullMQ with bullmq-otel, every trace exported, against its own off: the same cost on the peer
      const peer = suffix === observedVariant && bullWarm && bullTraced
        ? `; BullMQ with ${bullmqTracedVariant}: ${fmt(bullTraced.value.median / bullWarm.value.median)}× of its off, node CPU ${fmt(cpuOf(bullTraced))} vs ${fmt(cpuOf(bullWarm))} µs/job`
        : ""
      out.push({
        goal: `processing with ${suffix} within 10% of off (both ${warmedUpVariant})`,
        measured: `${fmt(r)}× (${fmt(observed.value.median)} vs ${fmt(warmOff.value.median)} jobs/s, ${warmOff.variant}); node CPU ${fmt(cpuOf(observed))} vs ${fmt(cpuOf(warmOff))} µs/job${peer}`,
        met: r >= 0.9
      })
    }
  }
  const mixedOff = allOursProcess.find((s) => s.variant.endsWith(`${mixedActionsVariant}, ${warmedUpVariant}`))
  const mixedOn = mixedOff && allOursProcess.find((s) => s.variant === `${mixedOff.variant}, metrics on`)
  if (mixedOff && mixedOn) {
    const r = mixedOn.value.median / mixedOff.value.median
    out.push({
      goal: `processing with metrics on within 10% of off, ${mixedActionsVariant} (both ${warmedUpVariant})`,
      measured: `${fmt(r)}× (${fmt(mixedOn.value.median)} vs ${fmt(mixedOff.value.median)} jobs/s); node CPU ${fmt(cpuOf(mixedOn))} vs ${fmt(cpuOf(mixedOff))} µs/job`,
      met: r >= 0.9
    })
  }
  const bullProcess = plainProcessOf(summaries, "bullmq")
  if (best && bullProcess) {
    const cpu = (s: Summary, side: "node" | "redis") => s.extra[`${side}CpuUsPerJob`] ?? Number.NaN
    const [node, redis, bullNode, bullRedis] = [cpu(best, "node"), cpu(best, "redis"), cpu(bullProcess, "node"), cpu(bullProcess, "redis")]
    out.push({
      goal: "CPU per job: node ≤ 30 µs, redis ≤ 15 µs (on the issue's machine, where BullMQ took 34 + 28)",
      measured: `${fmt(node)} + ${fmt(redis)} µs (BullMQ c50 here: ${fmt(bullNode)} + ${fmt(bullRedis)} µs)`,
      met: node <= 30 && redis <= 15
    })
    out.push({
      goal: "CPU per job relative to BullMQ in the same run, as the issue's goals are there: node ≤ 0.88×, redis ≤ 0.54×",
      measured: `node ${fmt(node / bullNode)}×, redis ${fmt(redis / bullRedis)}×`,
      met: node / bullNode <= 30 / 34 && redis / bullRedis <= 15 / 28
    })
    const rss = best.extra["peakRssMb"] ?? Number.NaN
    const bullRss = bullProcess.extra["peakRssMb"] ?? Number.NaN
    const barrel = allOursProcess.find((s) => s.variant.endsWith(barrelVariant))?.extra["peakRssMb"]
    out.push({
      goal: "worker peak RSS ≤ BullMQ's (processing case)",
      measured: `${fmt(rss)} MB vs ${fmt(bullRss)} MB${barrel === undefined ? "" : ` (${fmt(barrel)} MB when the app imports the \`effect\` barrel)`}`,
      met: rss <= bullRss
    })
  }
  const [rt] = find(summaries, "roundtrips", "ours")
  if (rt) {
    const extra = (rt.extra["process-children.roundTrips"] ?? Number.NaN) - (rt.extra["process.roundTrips"] ?? Number.NaN)
    out.push({ goal: "result recording: 0 extra round trips per child", measured: `${fmt(extra)} extra round trips per child`, met: extra <= 0.01 })
    const perBatch = (rt.extra["fanout.roundTrips"] ?? Number.NaN) * 100
    out.push({ goal: "enqueue ≤ 1 round trip per batch (of 100)", measured: `${fmt(perBatch)} round trips per batch`, met: perBatch <= 1.05 })
  }
  const [e2e] = find(summaries, "fanout-e2e", "ours")
  const status = e2e?.extra["statusMs"]
  if (e2e && status !== undefined) {
    out.push({ goal: `fanOutStatus on ${e2e.n.toLocaleString("en-US")} results well under 100 ms`, measured: `${fmt(status)} ms`, met: status < 100 })
  }
  const [latency] = find(summaries, "latency", "ours")
  if (latency) {
    const [bull] = find(summaries, "latency", "bullmq")
    const p50 = latency.value.median
    const p99 = latency.extra["p99Ms"] ?? Number.NaN
    const bullP50 = bull?.value.median ?? Number.NaN
    const bullP99 = bull?.extra["p99Ms"] ?? Number.NaN
    const own = p50 <= 1 && p99 <= 5
    out.push({
      goal: "pick-up latency p50 ≤ 1 ms, p99 ≤ 5 ms, and no worse than BullMQ",
      measured: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms${bull ? ` (BullMQ c50: p50 ${fmt(bullP50)} ms, p99 ${fmt(bullP99)} ms)` : " (no BullMQ row)"}`,
      met: !own ? false : bull ? p50 <= bullP50 && p99 <= bullP99 : undefined
    })
  }
  const [idle] = find(summaries, "idle", "ours")
  if (idle) {
    const commands = idle.value.median
    const sent = idle.extra["sentPerSec"] ?? Number.NaN
    const cpu = idle.extra["redisAttributableCpuPct"] ?? Number.NaN
    out.push({
      goal: `idle worker process (${idle.n} slots) sends ≤ 1 Redis command/s, ≈ 0 Redis CPU`,
      measured: `${fmt(commands)} commands/s executed (${fmt(idle.extra["sentPerSec"] ?? Number.NaN)} sent), redis CPU ${pct(idle.redisCpuPct)} (server idle baseline ${
        pct(idle.extra["redisBaselineCpuPct"] ?? Number.NaN)
      }; "≈ 0": ≤ ${idleCpuTolerancePct}% above it)`,
      met: sent <= 1 && cpu <= idleCpuTolerancePct
    })
  }
  const memory = find(summaries, "memory", "ours")
  if (memory.length > 0) {
    const plain = memory.find((s) => s.variant.startsWith("plain"))
    const fan = memory.find((s) => s.variant.startsWith("fan-out"))
    const rate = (s: Summary | undefined) => s?.value.median ?? Number.NaN
    const size = (s: Summary | undefined) => (s ? ` (${s.n.toLocaleString("en-US")})` : "")
    out.push({
      goal: "in-memory ≥ 10 000 jobs/s, plain and fan-out children",
      measured: `plain ${fmt(rate(plain))} jobs/s${size(plain)}, fan-out children ${fmt(rate(fan))} jobs/s${size(fan)}`,
      // one variant alone can fail the target, not meet it
      met: memory.some((s) => rate(s) < 10_000) ? false : plain && fan ? true : undefined
    })
  }
  return out
}

/** The targets table. */
export const targets = (summaries: ReadonlyArray<Summary>): string => {
  const out = targetList(summaries)
  if (out.length === 0) return ""
  return ["| Target | Measured | Met |", "|---|---|---|", ...out.map((t) => `| ${t.goal} | ${t.measured} | ${t.met === undefined ? "?" : t.met ? "yes" : "**no**"} |`)].join("\n")
}
