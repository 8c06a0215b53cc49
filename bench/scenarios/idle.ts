/**
 * idle: N open streams on a fresh server per row, for memory per stream and
 * the time to connect them all; "max" is as many as the file limits and the
 * port range allow.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { fmt, round1 } from "../format.ts";
import { GENERATORS, type LoadGenerators } from "../generators.ts";
import { TARGETS } from "../plan.ts";
import { type ProcSample, sampleProcess } from "../proc_stats.ts";
import { note, printHeader } from "../report.ts";
import { type Server, startServer } from "../servers.ts";
import { type Context, measure } from "./scenario.ts";

/** File descriptors left free in each process beside the streams (database, pipes, listener, V8). */
const FD_MARGIN = 64;

/** Runs the idle scenario: every count of the plan, then "max" if planned. */
export async function idle(ctx: Context) {
  const { generators } = ctx;
  printHeader(
    "idle",
    "N open streams (fresh server per row): memory per stream and time to connect them all",
  );
  const counts: (number | "max")[] = [...ctx.plan.idleCounts];
  if (ctx.plan.idleMax) counts.push("max");
  for (const wanted of counts) {
    let n = typeof wanted === "number" ? wanted : 0;
    for (const target of TARGETS) {
      let server: Server | null = null;
      const caseName = wanted === "max" ? "N=max" : `N=${fmt(n)}`;
      await measure(ctx, "idle", caseName, target, async () => {
        server = await startServer(target, ctx.plazaEnv, ctx.profileDir);
        // Warm up the code paths (JIT, first allocations) so they do not
        // count as per-stream memory.
        await generators.openStreams(server.port, 50, 1);
        await generators.closeStreams();
        await sleep(500);
        const before = await sampleProcess(server.pid);
        if (wanted === "max" && ctx.maxStreams === undefined) {
          ctx.maxStreams = await maxStreams(before, generators);
          note(
            `max = ${
              fmt(ctx.maxStreams.count)
            } streams, limited by ${ctx.maxStreams.limitedBy}`,
          );
        }
        if (wanted === "max") n = ctx.maxStreams!.count;
        const opened = await generators.openStreams(server.port, n, GENERATORS);
        await sleep(1_000);
        const after = await sampleProcess(server.pid);
        const figures: Record<string, number | string> = {
          requested: n,
          opened: opened.opened,
          failed: opened.failed,
          connectMs: opened.ms,
          rssBeforeMiB: round1(before.rss / 2 ** 20),
          rssAfterMiB: round1(after.rss / 2 ** 20),
          kbPerStream: opened.opened > 0
            ? round1((after.rss - before.rss) / opened.opened / 1024)
            : 0,
          fdLimit: after.fdLimit,
          serverFds: after.fds,
        };
        if (wanted === "max") figures.limitedBy = ctx.maxStreams!.limitedBy;
        return {
          figures,
          generatorCpuPercent: opened.cpu,
          serverCpuPercent: null,
          error: opened.failed > 0
            ? `${opened.failed} of ${n} streams did not open`
            : undefined,
        };
      });
      if (server !== null) await (server as Server).stop();
    }
  }
}

/** How many streams "max" means: the smallest of what the server, the generators and the port range allow. */
async function maxStreams(
  server: ProcSample,
  generators: LoadGenerators,
): Promise<{ count: number; limitedBy: string }> {
  const bounds: [number, string][] = [[
    server.fdLimit - server.fds - FD_MARGIN,
    `server file limit ${fmt(server.fdLimit)} (${server.fds} fds in use)`,
  ]];
  let generatorRoom = 0;
  for (const g of generators.all) {
    const s = await sampleProcess(g.pid);
    generatorRoom += s.fdLimit - s.fds - FD_MARGIN;
  }
  bounds.push([
    generatorRoom,
    `${GENERATORS} generators' file limits`,
  ]);
  try {
    const [low, high] = (await Deno.readTextFile(
      "/proc/sys/net/ipv4/ip_local_port_range",
    )).trim().split(/\s+/).map(Number);
    bounds.push([high - low - 1_000, `ephemeral ports ${low}–${high}`]);
  } catch {
    // Not Linux: no port bound known.
  }
  bounds.sort((a, b) => a[0] - b[0]);
  return { count: Math.max(0, bounds[0][0]), limitedBy: bounds[0][1] };
}
