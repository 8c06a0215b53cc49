/**
 * fanout: N open streams, messages posted at a steady rate, for
 * per-delivery latency and the time to the last client.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { deliverRound, deliveryRow } from "../delivery_round.ts";
import { fmt } from "../format.ts";
import { GENERATORS } from "../generators.ts";
import { TARGETS } from "../plan.ts";
import { withCpu } from "../proc_stats.ts";
import { printHeader } from "../report.ts";
import { type Context, measure } from "./scenario.ts";

/** Runs the fan-out scenario on the long-lived servers. */
export async function fanout(ctx: Context) {
  const { plan, generators } = ctx;
  printHeader(
    "fanout",
    `N streams, ${plan.fanoutMessages} messages at ${plan.fanoutRate}/s: per-delivery latency (POST written → event parsed), time to the last client`,
  );
  for (const n of plan.fanoutCounts) {
    for (const target of TARGETS) {
      await measure(ctx, "fanout", `N=${fmt(n)}`, target, async () => {
        const server = ctx.servers![target];
        const opened = await generators.openStreams(
          server.port,
          n,
          GENERATORS,
        );
        if (opened.failed > 0) {
          throw new Error(`${opened.failed} streams did not open`);
        }
        await sleep(1_000);
        const timeoutMs = (plan.fanoutMessages / plan.fanoutRate) * 1000 +
          20_000;
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
      });
    }
  }
}
