/**
 * The run's rows and their tables: one row per (scenario, case, target),
 * printed under its scenario's header as it comes in, with a Plaza/bare
 * ratio line after each bare row.
 */

import { fmt } from "./format.ts";
import type { ScenarioName, Target } from "./plan.ts";
import { isExiting } from "./teardown.ts";

/** One (scenario, case, target) measurement. */
export interface Row {
  scenario: ScenarioName;
  /** e.g. "N=10,000" or "c=16"; rows with the same case are compared. */
  case: string;
  target: Target;
  figures: Record<string, number | string>;
  /** Highest generator CPU over the row's commands, in % of one core; null = no generator used. */
  generatorCpuPercent: number | null;
  /** Server CPU over the measured part, in % of one core. */
  serverCpuPercent: number | null;
  /** The whole machine's CPU over the measured part, in % of all cores. */
  machineCpuPercent: number | null;
  error?: string;
  raw?: unknown;
}

/** How a scenario's figures are shown. */
interface Column {
  key: string;
  label: string;
  /** Whether Plaza/bare means something for this figure. */
  ratio?: boolean;
}

/** What a measurement returns; the runner adds where it belongs. */
export type RowBody =
  & Omit<
    Row,
    | "scenario"
    | "case"
    | "target"
    | "generatorCpuPercent"
    | "serverCpuPercent"
    | "machineCpuPercent"
  >
  & {
    generatorCpuPercent?: number | null;
    serverCpuPercent?: number | null;
    machineCpuPercent?: number | null;
  };

const COLUMNS: Record<ScenarioName, Column[]> = {
  idle: [
    { key: "opened", label: "streams" },
    { key: "connectMs", label: "connect ms", ratio: true },
    { key: "rssBeforeMiB", label: "RSS before MiB" },
    { key: "rssAfterMiB", label: "RSS after MiB" },
    { key: "kbPerStream", label: "KB/stream", ratio: true },
    { key: "fdLimit", label: "fd limit" },
  ],
  fanout: [
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "max", label: "max ms", ratio: true },
    { key: "lastP50", label: "last client p50", ratio: true },
    { key: "lastMax", label: "last client max", ratio: true },
    { key: "lost", label: "lost" },
    { key: "late", label: "late" },
    { key: "dup", label: "dup" },
    { key: "ooo", label: "out of order" },
    { key: "kbPerStream", label: "KB/stream", ratio: true },
  ],
  posting: [
    { key: "perSecond", label: "msg/s", ratio: true },
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "non201", label: "non-201" },
    { key: "ordering", label: "order check" },
  ],
  changes: [
    { key: "editsPerSecond", label: "edits/s" },
    { key: "editP50", label: "edit p50" },
    { key: "editP99", label: "edit p99" },
    { key: "reactionsPerSecond", label: "reactions/s" },
    { key: "reactionP50", label: "react p50" },
    { key: "reactionP99", label: "react p99" },
    { key: "non200", label: "non-200" },
  ],
  burst: [
    { key: "perSecond", label: "deliveries/s", ratio: true },
    { key: "spanMs", label: "span ms", ratio: true },
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "lost", label: "lost" },
    { key: "late", label: "late" },
    { key: "dup", label: "dup" },
  ],
  uploads: [
    { key: "perSecond", label: "uploads/s" },
    { key: "p50", label: "p50 ms" },
    { key: "p99", label: "p99 ms" },
    { key: "peakRssMiB", label: "peak RSS MiB" },
    { key: "endRssMiB", label: "end RSS MiB" },
    { key: "non201", label: "non-201" },
  ],
  rules: [
    { key: "matcherUs", label: "match µs" },
    { key: "perSecond", label: "msg/s" },
    { key: "p50", label: "p50 ms" },
    { key: "p99", label: "p99 ms" },
    { key: "non201", label: "non-201" },
  ],
  startup: [
    { key: "medianMs", label: "median ms", ratio: true },
    { key: "runs", label: "runs ms" },
    { key: "firstMs", label: "first start ms" },
  ],
  export: [
    { key: "messages", label: "messages" },
    { key: "seconds", label: "s" },
    { key: "perSecond", label: "msg/s" },
    { key: "mibPerSecond", label: "MiB/s" },
    { key: "rssBeforeMiB", label: "RSS before" },
    { key: "rssPeakMiB", label: "RSS peak" },
    { key: "heapBeforeMiB", label: "heap before" },
    { key: "heapPeakMiB", label: "heap peak" },
    { key: "quarters", label: "RSS/heap MiB by quarter" },
  ],
};

/** Every row so far, in the order measured. */
export const rows: Row[] = [];

/** Prints a remark under the current row; silent once the run is being torn down. */
export function note(text: string) {
  // Once stopping, failures are the teardown's, not the servers'.
  if (isExiting()) return;
  console.log(`  · ${text}`);
}

/** Records and prints a row, with a remark when a generator or the machine was saturated. */
export function addRow(
  row: RowBody & Pick<Row, "scenario" | "case" | "target">,
) {
  const full: Row = {
    generatorCpuPercent: null,
    serverCpuPercent: null,
    machineCpuPercent: null,
    ...row,
  };
  if (isExiting()) return;
  rows.push(full);
  printRow(full);
  if ((full.generatorCpuPercent ?? 0) >= 90) {
    note(
      `a load generator used ${full.generatorCpuPercent} % of a core: it may be the bottleneck of this row`,
    );
  }
  if ((full.machineCpuPercent ?? 0) >= 90) {
    note(
      `the machine's CPUs were ${full.machineCpuPercent} % busy: latencies include waiting for a core`,
    );
  }
}

/** Prints a scenario's title and its table header. */
export function printHeader(scenario: ScenarioName, what: string) {
  console.log(`\n## ${scenario}: ${what}`);
  console.log(line(scenario, headerCells(scenario)));
}

function headerCells(scenario: ScenarioName): string[] {
  const cols = COLUMNS[scenario];
  return [
    "case",
    "target",
    ...cols.map((c) => c.label),
    "gen CPU",
    "srv CPU",
    "box CPU",
  ];
}

/** Lays out a row under its scenario's header: text left, figures right. */
function line(scenario: ScenarioName, cells: string[]): string {
  const header = headerCells(scenario);
  return cells.map((c, i) => {
    const width = i === 0 ? 12 : i === 1 ? 6 : Math.max(header[i].length, 7);
    return i < 2 ? c.padEnd(width) : c.padStart(width);
  }).join("  ").trimEnd();
}

function cell(v: number | string | undefined): string {
  if (v === undefined) return "—";
  return typeof v === "number" ? fmt(v) : v;
}

function printRow(row: Row) {
  const cols = COLUMNS[row.scenario];
  const percent = (v: number | null) => v === null ? "—" : `${v} %`;
  console.log(line(row.scenario, [
    row.case,
    row.target,
    ...cols.map((c) => cell(row.figures[c.key])),
    percent(row.generatorCpuPercent),
    percent(row.serverCpuPercent),
    percent(row.machineCpuPercent),
  ]));
  if (row.error) note(`${row.target}: ${row.error}`);
  if (row.target === "bare") {
    const plaza = findRow(row.scenario, row.case, "plaza");
    if (plaza) {
      console.log(line(row.scenario, [
        row.case,
        "ratio",
        ...cols.map((c) => c.ratio ? ratioText(plaza, row, c.key) : ""),
      ]));
    }
  }
}

/** The row measured for this scenario, case and target, if any. */
export function findRow(
  scenario: ScenarioName,
  caseName: string,
  target: Target,
): Row | undefined {
  return rows.find((r) =>
    r.scenario === scenario && r.case === caseName && r.target === target
  );
}

/** Plaza's figure over bare's, or null when either is missing or bare's is 0. */
export function ratio(
  plaza: Row | undefined,
  bare: Row | undefined,
  key: string,
): number | null {
  const p = plaza?.figures[key];
  const b = bare?.figures[key];
  if (typeof p !== "number" || typeof b !== "number" || b === 0) return null;
  return p / b;
}

/** A ratio as printed: "1.23×", or "—" when there is none. */
export function ratioText(
  plaza: Row | undefined,
  bare: Row | undefined,
  key: string,
): string {
  const r = ratio(plaza, bare, key);
  return r === null ? "—" : `${r.toFixed(2)}×`;
}
