/**
 * burst: many streams, messages posted back to back over a few connections,
 * for deliveries per second from the first POST to the last delivery.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { deliverRound, deliveryRow } from "../delivery_round.ts";
import { fmt } from "../format.ts";
import { GENERATORS } from "../generators.ts";
import { TARGETS } from "../plan.ts";
import { withCpu } from "../proc_stats.ts";
import { printHeader } from "../report.ts";
import { type Context, measure } from "./scenario.ts";

/** Runs the burst scenario on the long-lived servers. */
export async function burst(ctx: Context) {
  const { plan, generators } = ctx;
  printHeader(
    "burst",
    `${
      fmt(plan.burstStreams)
    } streams, ${plan.burstMessages} messages as fast as ${plan.burstConcurrency} connections post: deliveries/s from first POST to last delivery`,
  );
  for (const target of TARGETS) {
    await measure(
      ctx,
      "burst",
      `N=${fmt(plan.burstStreams)}`,
      target,
      async () => {
        const server = ctx.servers![target];
        const opened = await generators.openStreams(
          server.port,
          plan.burstStreams,
          GENERATORS,
        );
        if (opened.failed > 0) {
          throw new Error(`${opened.failed} streams did not open`);
        }
        await sleep(1_000);
        const { value, serverCpu, machineCpu } = await withCpu(
          server,
          () =>
            deliverRound(
              generators,
              server.port,
              plan.burstMessages,
              null,
              plan.burstConcurrency,
              30_000,
            ),
        );
        return deliveryRow(value, serverCpu, machineCpu);
      },
    );
  }
}
