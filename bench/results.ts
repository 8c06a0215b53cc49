/** The results file: everything a run printed, raw figures included, as JSON. */

import { join } from "node:path";
import type { FanoutSweepLine } from "./fanout_sweep.ts";
import type { MachineInfo } from "./machine.ts";
import type { Plan, ScenarioName } from "./plan.ts";
import type { LimitSetting } from "./plaza_limits.ts";
import type { Row } from "./report.ts";
import { ROOT } from "./servers.ts";
import type { SummaryLine } from "./summary.ts";

const RESULTS_DIR = join(ROOT, "bench", "results");

/** What a run writes. */
export interface Results {
  machine: MachineInfo;
  options: { quick: boolean; only: ScenarioName[] };
  plan: Plan;
  limitsOff: LimitSetting[];
  durationS: number;
  rows: Row[];
  summary: SummaryLine[];
  fanoutSweep: FanoutSweepLine[];
}

/** Writes bench/results/bench-<date>.json (git-ignored) and returns its path. */
export async function writeResults(results: Results): Promise<string> {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  const file = join(
    RESULTS_DIR,
    `bench-${
      results.machine.date.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")
    }.json`,
  );
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
  return file;
}
