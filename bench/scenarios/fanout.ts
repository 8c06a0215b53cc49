/**
 * fanout: a sweep over N open streams, messages posted at a steady rate,
 * for per-delivery latency, the time to the last client and the memory each
 * open stream takes; a table of the sweep follows the rows. Every N runs on
 * a fresh server, so no row inherits another's heap, JIT state or freed
 * memory (which a server reuses before it grows: RSS growth on a server
 * that held more streams before reads too low). The sweep stops starting
 * new N once its time budget is spent, so a long list cannot run the bench
 * into its watchdog.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { deliverRound, deliveryRow, warmUp } from "../delivery_round.ts";
import { printSweep, sweepLines } from "../fanout_sweep.ts";
import { GENERATORS } from "../generators.ts";
import { fmt, round1 } from "../format.ts";
import { type Target, TARGETS } from "../plan.ts";
import { sampleProcess, withCpu } from "../proc_stats.ts";
import { note, printHeader, type RowBody } from "../report.ts";
import { startServer } from "../servers.ts";
import { sweepWithin } from "../sweep_budget.ts";
import { type Context, measure } from "./scenario.ts";

/** No new N starts once the sweep has run this long (one N takes about 35 s at 10,000 streams). */
const SWEEP_BUDGET_MS = 5 * 60_000;

/** Runs the fan-out sweep, a fresh pair of servers per N, then prints its table. */
export async function fanout(ctx: Context) {
  const { plan } = ctx;
  printHeader(
    "fanout",
    `N streams (fresh server per row), ${plan.fanoutMessages} messages at ${plan.fanoutRate}/s: per-delivery latency (POST written → event parsed), time to the last client, RSS growth per open stream`,
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
    ctx.runOn,
  );
}

/** One row: a fresh `target` server, `n` streams on it, then the plan's messages at its rate. */
async function fanoutRound(
  ctx: Context,
  n: number,
  target: Target,
): Promise<RowBody> {
  const { plan, generators } = ctx;
  const server = await startServer(target, ctx.plazaEnv, ctx.profileDir);
  try {
    const port = server.port;
    await warmUp(generators, port);
    await sleep(500);
    const before = await sampleProcess(server.pid);
    const opened = await generators.openStreams(port, n, GENERATORS);
    if (opened.failed > 0) {
      throw new Error(`${opened.failed} streams did not open`);
    }
    await sleep(1_000);
    const after = await sampleProcess(server.pid);
    const timeoutMs = (plan.fanoutMessages / plan.fanoutRate) * 1000 +
      20_000;
    const { value, serverCpu, machineCpu } = await withCpu(
      server,
      () =>
        deliverRound(
          generators,
          port,
          plan.fanoutMessages,
          plan.fanoutRate,
          4,
          timeoutMs,
        ),
    );
    const row = deliveryRow(value, serverCpu, machineCpu);
    row.figures.kbPerStream = round1((after.rss - before.rss) / n / 1024);
    return row;
  } finally {
    await generators.closeStreams();
    await server.stop();
  }
}
