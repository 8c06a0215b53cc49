/**
 * The summary after the tables: the headline figures of what was run, for
 * both targets, their ratio, and whether each meets its goal (the performance
 * targets discussed in docs/benchmarks.md).
 */

import { fmt } from "./format.ts";
import type { Plan, ScenarioName, Target } from "./plan.ts";
import { findRow, type Row } from "./report.ts";

/** One line of the summary: a figure for both targets and the goal it is held to, if any. */
interface Headline {
  label: string;
  scenario: ScenarioName;
  case: string;
  key: string;
  target?: string;
  /** Whether the target is met; null when it cannot be judged. */
  met?: (plaza: number, bare: number | null, plazaRow: Row) => boolean | null;
}

function headlines(plan: Plan): Headline[] {
  const list: Headline[] = [];
  for (const n of plan.idleCounts) {
    list.push({
      label: `idle ${fmt(n)}: KB per stream`,
      scenario: "idle",
      case: `N=${fmt(n)}`,
      key: "kbPerStream",
    });
    list.push({
      label: `idle ${fmt(n)}: connect ms`,
      scenario: "idle",
      case: `N=${fmt(n)}`,
      key: "connectMs",
    });
  }
  if (plan.idleMax) {
    list.push({
      label: "idle max: streams held",
      scenario: "idle",
      case: "N=max",
      key: "opened",
      target: "≥ 19,000",
      met: (p, _b, row) => row.error === undefined && p >= 19_000,
    });
    list.push({
      label: "idle max: KB per stream",
      scenario: "idle",
      case: "N=max",
      key: "kbPerStream",
      target: "≤ 32 KB",
      met: (p) => p <= 32,
    });
    list.push({
      label: "idle max: connect ms",
      scenario: "idle",
      case: "N=max",
      key: "connectMs",
    });
  }
  for (const n of plan.fanoutCounts) {
    const c = `N=${fmt(n)}`;
    const at1k = n === 1_000;
    const at10k = n === 10_000;
    list.push({
      label: `fan-out ${fmt(n)}: p50 ms`,
      scenario: "fanout",
      case: c,
      key: "p50",
      target: at1k ? "≤ 15 ms" : at10k ? "ratio ≤ 1.0" : undefined,
      met: at1k
        ? (p) => p <= 15
        : at10k
        ? (p, b) => b === null ? null : p / b <= 1
        : undefined,
    });
    list.push({
      label: `fan-out ${fmt(n)}: p99 ms`,
      scenario: "fanout",
      case: c,
      key: "p99",
      target: at1k ? "≤ 50 ms" : at10k ? "ratio ≤ 1.0" : undefined,
      met: at1k
        ? (p) => p <= 50
        : at10k
        ? (p, b) => b === null ? null : p / b <= 1
        : undefined,
    });
    list.push({
      label: `fan-out ${fmt(n)}: last client p50 ms`,
      scenario: "fanout",
      case: c,
      key: "lastP50",
    });
    list.push({
      label: `fan-out ${fmt(n)}: last client max ms`,
      scenario: "fanout",
      case: c,
      key: "lastMax",
    });
    list.push({
      label: `fan-out ${fmt(n)}: deliveries lost`,
      scenario: "fanout",
      case: c,
      key: "lost",
      target: "0",
      met: (p, _b, row) =>
        p === 0 && row.figures.dup === 0 && row.figures.ooo === 0,
    });
  }
  for (const c of plan.postingConcurrency) {
    list.push({
      label: `posting c=${c}: messages/s`,
      scenario: "posting",
      case: `c=${c}`,
      key: "perSecond",
      target: "≥ 2,000",
      met: (p, _b, row) => p >= 2_000 && row.figures.ordering === "ok",
    });
    list.push({
      label: `posting c=${c}: p99 ms`,
      scenario: "posting",
      case: `c=${c}`,
      key: "p99",
      target: "≤ 50 ms",
      met: (p) => p <= 50,
    });
  }
  for (const c of plan.changesConcurrency) {
    for (
      const [label, key] of [
        ["edits/s", "editsPerSecond"],
        ["edit p99 ms", "editP99"],
        ["reactions/s", "reactionsPerSecond"],
        ["reaction p99 ms", "reactionP99"],
      ]
    ) {
      list.push({
        label: `changes c=${c}: ${label}`,
        scenario: "changes",
        case: `c=${c}`,
        key,
      });
    }
  }
  list.push({
    label: `burst ${fmt(plan.burstStreams)}: deliveries/s`,
    scenario: "burst",
    case: `N=${fmt(plan.burstStreams)}`,
    key: "perSecond",
    target: plan.burstStreams === 10_000 ? "≥ 150,000" : undefined,
    met: plan.burstStreams === 10_000
      ? (p, _b, row) => p >= 150_000 && row.figures.lost === 0
      : undefined,
  });
  list.push({
    label: "start-up on Postgres: median ms",
    scenario: "startup",
    case: "Postgres",
    key: "medianMs",
    target: "≤ 1,500 ms",
    met: (p) => p <= 1_500,
  });
  list.push({
    label: "start-up on PGlite: median ms",
    scenario: "startup",
    case: "PGlite",
    key: "medianMs",
  });
  return list;
}

/** A summary line: one figure for both targets, against its goal. */
export interface SummaryLine {
  figure: string;
  plaza: number | null;
  bare: number | null;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

/** Summary lines for what was run. */
export function summarise(plan: Plan): SummaryLine[] {
  const out: SummaryLine[] = [];
  for (const h of headlines(plan)) {
    const find = (t: Target, c = h.case) => findRow(h.scenario, c, t);
    const plazaRow = find("plaza");
    // Start-up has one bare row, against which both databases compare.
    const bareRow = h.scenario === "startup"
      ? find("bare", "no database")
      : find("bare");
    if (plazaRow === undefined) continue;
    const p = plazaRow.figures[h.key];
    const b = bareRow?.figures[h.key];
    const plaza = typeof p === "number" ? p : null;
    const bare = typeof b === "number" ? b : null;
    out.push({
      figure: h.label,
      plaza,
      bare,
      ratio: plaza !== null && bare ? plaza / bare : null,
      target: h.target ?? "",
      met: h.met && plaza !== null ? h.met(plaza, bare, plazaRow) : null,
    });
  }
  return out;
}

/** Prints the summary table. */
export function printSummary(lines: SummaryLine[]) {
  console.log(
    "\n## summary (ratio = Plaza / bare Deno.serve broadcaster, same run)",
  );
  const table = [["figure", "Plaza", "bare", "ratio", "target", "met"]];
  for (const l of lines) {
    table.push([
      l.figure,
      l.plaza === null ? "—" : fmt(l.plaza),
      l.bare === null ? "—" : fmt(l.bare),
      l.ratio === null ? "—" : `${l.ratio.toFixed(2)}×`,
      l.target,
      l.met === null ? "" : l.met ? "met" : "NOT MET",
    ]);
  }
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((r) => r[i].length))
  );
  for (const r of table) {
    console.log(
      r.map((c, i) =>
        i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])
      ).join("  ").trimEnd(),
    );
  }
}
