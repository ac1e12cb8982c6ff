/**
 * Turns the rounds of every entry into the report: a Markdown table of median [min–max], the round-trip
 * table, and where we stand against the targets of the issue.
 */
import { cases, type CaseId, caseIds, label } from "./plan.ts"
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
  if (e["peakRssMb"] !== undefined) notes.push(`peak RSS ${fmt(e["peakRssMb"])} MB`)
  if (e["statusMs"] !== undefined) notes.push(`status call ${fmt(e["statusMs"])} ms`)
  if (e["redisBytesPerChild"] !== undefined) notes.push(`Redis ${fmt(e["redisBytesPerChild"])} B/finished child`)
  return notes.join(", ")
}

/** The main table: one row per entry, timing cases only. */
export const table = (summaries: ReadonlyArray<Summary>): string => {
  const lines = [
    "| Case | System | Variant | N | Result: median [min–max] | Ours vs peer | node CPU | redis CPU | CPU µs/job node + redis | Notes |",
    "|---|---|---|---:|---:|---|---:|---:|---:|---|"
  ]
  for (const id of caseIds) {
    if (id === "roundtrips") continue
    const rows = summaries.filter((s) => s.case === id)
    const peers = rows.filter((s) => s.system !== "ours")
    for (const s of rows) {
      const versus = s.system === "ours" ? peers.map((p) => `${fmt(speedRatio(s, p))}× ${p.system}`).join(", ") : ""
      lines.push(
        `| ${cases[id]} | ${s.system} | ${s.variant} | ${s.n.toLocaleString("en-US")} | ${fmtSpread(s.value, s.unit, s.rounds)} | ${versus} | ${
          Math.round(s.nodeCpuPct)
        }% | ${Math.round(s.redisCpuPct)}% | ${fmt(s.extra["nodeCpuUsPerJob"] ?? Number.NaN)} + ${fmt(s.extra["redisCpuUsPerJob"] ?? Number.NaN)} | ${extraNotes(s)} |`
      )
    }
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

interface Target {
  readonly goal: string
  readonly measured: string
  readonly met: boolean | undefined
}

const find = (summaries: ReadonlyArray<Summary>, id: CaseId, system: System) => summaries.filter((s) => s.case === id && s.system === system)

/** Where we stand against the issue's targets (ratios from this run's medians). */
export const targets = (summaries: ReadonlyArray<Summary>): string => {
  const out: Array<Target> = []
  const [oursFan] = find(summaries, "fanout-enqueue", "ours")
  const [bullFan] = find(summaries, "fanout-enqueue", "bullmq")
  if (oursFan && bullFan) {
    const r = speedRatio(oursFan, bullFan)
    out.push({ goal: "fan-out enqueue ≥ 10× BullMQ FlowProducer", measured: `${fmt(r)}× (${fmt(oursFan.value.median)} ms vs ${fmt(bullFan.value.median)} ms)`, met: r >= 10 })
  }
  const oursProcess = find(summaries, "process", "ours")
  const best = oursProcess.reduce<Summary | undefined>((a, s) => (a === undefined || s.value.median > a.value.median ? s : a), undefined)
  for (const [peer, goal] of [["node-resque", "processing (recording on) ≥ 1.0× node-resque MultiWorker"], ["bullmq", "processing (recording on) ≥ BullMQ c50"]] as const) {
    const [p] = find(summaries, "process", peer)
    if (best && p) {
      const r = speedRatio(best, p)
      out.push({ goal, measured: `${fmt(r)}× (ours ${best.variant}: ${fmt(best.value.median)} vs ${fmt(p.value.median)} jobs/s)`, met: r >= 1 })
    }
  }
  const [rt] = find(summaries, "roundtrips", "ours")
  if (rt) {
    const extra = (rt.extra["process-children.roundTrips"] ?? Number.NaN) - (rt.extra["process.roundTrips"] ?? Number.NaN)
    out.push({ goal: "result recording ≤ 1 extra round trip per child", measured: `${fmt(extra)} extra round trips per child`, met: extra <= 1 })
    const perBatch = (rt.extra["fanout.roundTrips"] ?? Number.NaN) * 100
    out.push({ goal: "enqueue ≤ 1 round trip per batch (of 100)", measured: `${fmt(perBatch)} round trips per batch`, met: perBatch <= 1.05 })
  }
  const [e2e] = find(summaries, "fanout-e2e", "ours")
  const status = e2e?.extra["statusMs"]
  if (e2e && status !== undefined) {
    out.push({ goal: `fanOutStatus on ${e2e.n.toLocaleString("en-US")} results well under 100 ms`, measured: `${fmt(status)} ms`, met: status < 100 })
  }
  if (out.length === 0) return ""
  return ["| Target | Measured | Met |", "|---|---|---|", ...out.map((t) => `| ${t.goal} | ${t.measured} | ${t.met === undefined ? "?" : t.met ? "yes" : "**no**"} |`)].join("\n")
}
