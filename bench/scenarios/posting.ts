/**
 * posting: keep-alive POSTs kept in flight at each concurrency of the plan,
 * for messages per second and POST latency, while one stream checks the
 * ordering guarantee.
 */

import { TARGETS } from "../plan.ts";
import type { PostResult } from "../load_generator/protocol.ts";
import { withCpu } from "../proc_stats.ts";
import { printHeader } from "../report.ts";
import { type Context, measure } from "./scenario.ts";

/** Runs the posting scenario on the long-lived servers. */
export async function posting(ctx: Context) {
  const { plan, generators } = ctx;
  printHeader(
    "posting",
    `keep-alive POSTs for ${
      plan.postingMs / 1000
    } s; one stream checks every 201'd id arrives once, ascending`,
  );
  for (const c of plan.postingConcurrency) {
    for (const target of TARGETS) {
      await measure(ctx, "posting", `c=${c}`, target, async () => {
        const server = ctx.servers![target];
        await generators.openStreams(server.port, 1, 1);
        const { value, serverCpu, machineCpu } = await withCpu(
          server,
          () =>
            generators.all[0].call<PostResult>({
              op: "post",
              port: server.port,
              round: generators.nextRound(),
              concurrency: c,
              durationMs: plan.postingMs,
              drainMs: 10_000,
            }, plan.postingMs + 40_000),
        );
        const r = value.result;
        const non201 = r.posts.sent - (r.posts.statuses["201"] ?? 0);
        const o = r.ordering;
        return {
          figures: {
            perSecond: r.messagesPerSecond,
            p50: r.posts.latency.p50,
            p99: r.posts.latency.p99,
            max: r.posts.latency.max,
            created: r.created,
            non201,
            ordering: o.ok ? "ok" : "FAILED",
          },
          generatorCpuPercent: value.cost.cpuPercent,
          serverCpuPercent: serverCpu,
          machineCpuPercent: machineCpu,
          error: o.ok && non201 === 0 ? undefined : [
            o.ok ? "" : `ordering: ${JSON.stringify(o)}`,
            non201 > 0
              ? `statuses ${JSON.stringify(r.posts.statuses)} ${
                JSON.stringify(r.posts.errors)
              }`
              : "",
          ].filter((s) => s).join("; "),
          raw: r,
        };
      });
    }
  }
}
