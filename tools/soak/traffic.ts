import { type RssSampler, scheduleRssSamples } from "./rss.ts";
import { runClient } from "./run_client.ts";
import type { SimClient } from "./sim_client.ts";
import type { Tally } from "./tally.ts";
import type { World } from "./world.ts";

/** Progress lines: this often in a run of up to two minutes, PROGRESS_LONG_MS in a longer one. */
const PROGRESS_SHORT_MS = 10_000;
const PROGRESS_LONG_MS = 30_000;

/** What the traffic phase needs. */
export interface TrafficPlan {
  world: World;
  clients: readonly SimClient[];
  durationMs: number;
  seed: number;
  /** Ends the traffic phase (aborts `world.traffic`). */
  endTraffic: () => void;
  sampleRss: RssSampler;
  elapsedS: () => number;
}

function startProgress(
  tally: Tally,
  deadline: number,
  durationMs: number,
  elapsedS: () => number,
): ReturnType<typeof setInterval> {
  const every = durationMs <= 120_000 ? PROGRESS_SHORT_MS : PROGRESS_LONG_MS;
  return setInterval(() => {
    const left = Math.max(
      0,
      Math.round((deadline - performance.now()) / 1000),
    );
    console.error(
      `t=${elapsedS()}s (${left}s left) posted ${tally.posted}, deliveries ${tally.deliveries}, open streams ${tally.openStreams}, duplicates ${tally.duplicates}, out of order ${tally.outOfOrder}, 5xx ${tally.status5xx}, errors ${tally.errors}`,
    );
  }, every);
}

/** Runs every client for the planned time (less if an instance dies or the run is interrupted); returns the seconds it took. */
export async function runTraffic(plan: TrafficPlan): Promise<number> {
  const { world, clients, durationMs } = plan;
  const { tally } = world;
  const trafficStart = performance.now();
  const deadline = trafficStart + durationMs;
  const end = setTimeout(plan.endTraffic, durationMs);
  const rss = scheduleRssSamples(plan.sampleRss, durationMs);
  const progress = startProgress(tally, deadline, durationMs, plan.elapsedS);
  // Instances that die mid-run end the traffic phase: the rest would only
  // measure the crash.
  for (const i of world.instances) {
    i.done.then(() => {
      if (!i.stopping) plan.endTraffic();
    });
  }

  console.error(
    `Soak: ${
      durationMs / 1000
    } s, ${clients.length} clients, seed ${plan.seed}.`,
  );
  await Promise.all(
    clients.map((c) =>
      runClient(world, c).catch((error) =>
        tally.error(`client ${c.author}`, error)
      )
    ),
  );
  clearTimeout(end);
  clearInterval(progress);
  await rss.stop();
  return Math.round((performance.now() - trafficStart) / 100) / 10;
}
