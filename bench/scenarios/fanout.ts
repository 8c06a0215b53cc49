/**
 * fanout: a sweep over N open streams, messages posted at a steady rate,
 * for per-delivery latency and the time to the last client; a table of the
 * sweep follows the rows. The sweep stops starting new N once its time
 * budget is spent, so a long list cannot run the bench into its watchdog.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { deliverRound, deliveryRow } from "../delivery_round.ts";
import { printSweep, sweepLines } from "../fanout_sweep.ts";
import { fmt } from "../format.ts";
import { GENERATORS } from "../generators.ts";
import { type Target, TARGETS } from "../plan.ts";
import { withCpu } from "../proc_stats.ts";
import { note, printHeader, type RowBody } from "../report.ts";
import { sweepWithin } from "../sweep_budget.ts";
import { type Context, measure } from "./scenario.ts";

/** No new N starts once the sweep has run this long (one N takes about 30 s at 10,000 streams). */
const SWEEP_BUDGET_MS = 4 * 60_000;

/** Runs the fan-out sweep on the long-lived servers, then prints its table. */
export async function fanout(ctx: Context) {
  const { plan } = ctx;
  printHeader(
    "fanout",
    `N streams, ${plan.fanoutMessages} messages at ${plan.fanoutRate}/s: per-delivery latency (POST written → event parsed), time to the last client`,
  );
  const skipped = await sweepWithin(
    plan.fanoutCounts,
    SWEEP_BUDGET_MS,
    async (n) => {
      for (const target of TARGETS) {
        await measure(
          ctx,
          "fanout",
          `N=${fmt(n)}`,
          target,
          () => fanoutRound(ctx, n, target),
        );
      }
    },
  );
  if (skipped.length > 0) {
    note(
      `fan-out: past its ${SWEEP_BUDGET_MS / 60_000}-minute budget; N=${
        skipped.map(fmt).join(", N=")
      } not run`,
    );
  }
  printSweep(
    sweepLines(plan.fanoutCounts),
    `Plaza against bare per N (ratio = Plaza / bare), ${plan.fanoutMessages} messages at ${plan.fanoutRate}/s`,
  );
}

/** One row: `n` streams on `target`, then the plan's messages at its rate. */
async function fanoutRound(
  ctx: Context,
  n: number,
  target: Target,
): Promise<RowBody> {
  const { plan, generators } = ctx;
  const server = ctx.servers![target];
  const opened = await generators.openStreams(server.port, n, GENERATORS);
  if (opened.failed > 0) {
    throw new Error(`${opened.failed} streams did not open`);
  }
  await sleep(1_000);
  const timeoutMs = (plan.fanoutMessages / plan.fanoutRate) * 1000 + 20_000;
  const { value, serverCpu, machineCpu } = await withCpu(
    server,
    () =>
      deliverRound(
        generators,
        server.port,
        plan.fanoutMessages,
        plan.fanoutRate,
        4,
        timeoutMs,
      ),
  );
  return deliveryRow(value, serverCpu, machineCpu);
}
