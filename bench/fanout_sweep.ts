/**
 * The fan-out sweep's own table: per N, Plaza's and bare's p50 and p99,
 * their ratios, the memory each open stream took, and what each lost or got
 * twice, so the N where Plaza falls behind the runtime's ceiling can be read
 * off one table.
 */

import { fmt } from "./format.ts";
import { findRow, ratio, type Row } from "./report.ts";

/** One N of the sweep; null where a figure is missing (a failed row, or bare's 0). */
export interface FanoutSweepLine {
  streams: number;
  plazaP50: number | null;
  plazaP99: number | null;
  bareP50: number | null;
  bareP99: number | null;
  p50Ratio: number | null;
  p99Ratio: number | null;
  /** RSS growth per open stream, KB. */
  plazaKb: number | null;
  bareKb: number | null;
  kbRatio: number | null;
  plazaLost: number | null;
  bareLost: number | null;
  plazaDup: number | null;
  bareDup: number | null;
}

function figure(row: Row | undefined, key: string): number | null {
  const v = row?.figures[key];
  return typeof v === "number" ? v : null;
}

/** The sweep's lines for the N that were measured, in the order given. */
export function sweepLines(counts: number[]): FanoutSweepLine[] {
  const lines: FanoutSweepLine[] = [];
  for (const n of counts) {
    const plaza = findRow("fanout", `N=${fmt(n)}`, "plaza");
    const bare = findRow("fanout", `N=${fmt(n)}`, "bare");
    if (plaza === undefined && bare === undefined) continue;
    lines.push({
      streams: n,
      plazaP50: figure(plaza, "p50"),
      plazaP99: figure(plaza, "p99"),
      bareP50: figure(bare, "p50"),
      bareP99: figure(bare, "p99"),
      p50Ratio: ratio(plaza, bare, "p50"),
      p99Ratio: ratio(plaza, bare, "p99"),
      plazaKb: figure(plaza, "kbPerStream"),
      bareKb: figure(bare, "kbPerStream"),
      kbRatio: ratio(plaza, bare, "kbPerStream"),
      plazaLost: figure(plaza, "lost"),
      bareLost: figure(bare, "lost"),
      plazaDup: figure(plaza, "dup"),
      bareDup: figure(bare, "dup"),
    });
  }
  return lines;
}

/** Prints the sweep table, figures right-aligned under their labels. */
export function printSweep(
  lines: FanoutSweepLine[],
  what: string,
  runOn: string,
) {
  console.log(`\n## fanout sweep: ${what}\n${runOn}`);
  const n = (v: number | null) => v === null ? "—" : fmt(v);
  const x = (v: number | null) => v === null ? "—" : `${v.toFixed(2)}×`;
  const table = [[
    "streams",
    "Plaza p50 ms",
    "bare p50 ms",
    "p50 ratio",
    "Plaza p99 ms",
    "bare p99 ms",
    "p99 ratio",
    "Plaza KB/stream",
    "bare KB/stream",
    "KB ratio",
    "Plaza lost",
    "bare lost",
    "Plaza dup",
    "bare dup",
  ]];
  for (const l of lines) {
    table.push([
      fmt(l.streams),
      n(l.plazaP50),
      n(l.bareP50),
      x(l.p50Ratio),
      n(l.plazaP99),
      n(l.bareP99),
      x(l.p99Ratio),
      n(l.plazaKb),
      n(l.bareKb),
      x(l.kbRatio),
      n(l.plazaLost),
      n(l.bareLost),
      n(l.plazaDup),
      n(l.bareDup),
    ]);
  }
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((r) => r[i].length))
  );
  for (const r of table) {
    console.log(r.map((c, i) => c.padStart(widths[i])).join("  "));
  }
}
