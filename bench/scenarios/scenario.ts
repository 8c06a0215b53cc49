/** What every scenario is given, and how it records a row. */

import type { PgCluster } from "../../test/harness/pg_cluster.ts";
import type { LoadGenerators } from "../generators.ts";
import type { Plan, ScenarioName, Target } from "../plan.ts";
import { addRow, type RowBody } from "../report.ts";
import type { Server } from "../servers.ts";

/** The run as a scenario sees it. */
export interface Context {
  plan: Plan;
  plazaEnv: Record<string, string>;
  cluster: PgCluster;
  generators: LoadGenerators;
  /** Long-lived instances for posting, changes, burst and rules (fan-out starts its own per N). */
  servers: Record<Target, Server> | null;
  /** The machine and the run's start, for tables read on their own. */
  runOn: string;
  /** Soft file limit of this shell and hard limit, from `ulimit`. */
  fdLimits: { soft: string; hard: string };
  maxStreams?: { count: number; limitedBy: string };
  tmp: string;
  /** Set by --cpu-prof: servers write V8 CPU profiles there when they exit. */
  profileDir: string | null;
}

/** Runs one row, turning a failure into an error row; streams are always closed after. */
export async function measure(
  ctx: Context,
  scenario: ScenarioName,
  caseName: string,
  target: Target,
  fn: () => Promise<RowBody>,
) {
  try {
    const row = await fn();
    addRow({ scenario, case: caseName, target, ...row });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    addRow({
      scenario,
      case: caseName,
      target,
      figures: {},
      error: message,
    });
  } finally {
    await ctx.generators.closeStreams();
  }
}
