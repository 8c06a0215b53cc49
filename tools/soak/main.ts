/**
 * `deno task soak [--minutes N | --seconds N] [--clients N] [--seed N]`: a
 * bounded soak test of two Plaza instances sharing one throwaway PostgreSQL.
 *
 * Simulated people connect to either instance's /stream, read for a while,
 * post at a human pace (sometimes repeating a clientId, as a retrying browser
 * does), disconnect and resume with Last-Event-ID, for the whole run. At the
 * end every client resumes once more to catch up, and what it received is
 * compared with the database: nothing may be missing, repeated or out of
 * order, and no request may get a 5xx. Each instance's memory (VmRSS) is
 * sampled along the way. The report goes to stdout and to
 * bench/results/soak-<date>.json; the exit code is 0 only if every check
 * passed. All traffic stays on 127.0.0.1; the run stops by itself.
 *
 * This file reads the command line, wires the parts together and tears
 * everything down whatever happens.
 */

import { catchUpAll } from "./catch_up.ts";
import { describeError } from "./describe_error.ts";
import { createFleet } from "./fleet.ts";
import { type Instance, START_TIMEOUT_MS } from "./instance.ts";
import { type Options, parseOptions, USAGE, UsageError } from "./options.ts";
import {
  buildReport,
  printOutcome,
  printReport,
  writeReport,
} from "./report.ts";
import { serverRevision } from "./revision.ts";
import { createRssSampler } from "./rss.ts";
import { createSimClient } from "./sim_client.ts";
import { createStopSwitch } from "./stop_switch.ts";
import { createTally, type Tally } from "./tally.ts";
import { runTraffic } from "./traffic.ts";
import { judge } from "./verdict.ts";
import { createWorld } from "./world.ts";

/** Beyond the planned duration, the run is considered stuck and torn down. */
const WATCHDOG_GRACE_MS = 3 * 60_000;
/** Once the watchdog fired, how long the run may take to wind down before it is torn down and exits. */
const STUCK_EXIT_MS = 60_000;
/** On Ctrl-C, how long the instances get to exit by themselves. */
const SIGINT_SELF_EXIT_MS = 5_000;

/** The options, or the exit code when there is nothing to run (help, or a usage error, printed). */
function readCommandLine(args: readonly string[]): Options | number {
  let options: Options | null;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  return options;
}

/** Counts unhandled rejections as errors: a bug here must not leave servers and a postmaster behind. Returns the undo. */
function guardRejections(tally: Tally): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    tally.error("unhandled rejection in the soak script", event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () =>
    globalThis.removeEventListener("unhandledrejection", onRejection);
}

/** Stops the run after `ms`, then tears down and exits if it is still stuck a minute later. */
function startWatchdog(
  ms: number,
  stopNow: (why: string) => void,
  cleanUp: () => Promise<void>,
): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    stopNow("watchdog: the run overran its time");
    const stuck = setTimeout(async () => {
      console.error("Still stuck; tearing down and exiting.");
      await cleanUp();
      Deno.exit(1);
    }, STUCK_EXIT_MS);
    Deno.unrefTimer(stuck);
  }, ms);
}

function reportAbnormalExits(instances: readonly Instance[]): void {
  for (const i of instances) {
    if (i.exit && (i.exit.code !== 0 || i.exit.signal !== null)) {
      console.error(
        `instance ${i.name} ended with code ${i.exit.code}, signal ${i.exit.signal}`,
      );
    }
  }
}

async function main(): Promise<number> {
  const options = readCommandLine(Deno.args);
  if (typeof options === "number") return options;
  const { durationMs, clients: clientCount, seed } = options;

  const stop = createStopSwitch();
  const tally = createTally();
  const unguard = guardRejections(tally);
  const fleet = createFleet();
  // A Ctrl-C in the terminal reaches the instances too; a SIGTERM on top
  // would be their second signal, which server/main.ts treats as "exit now".
  const selfExitMs = () =>
    stop.interruptedBy === "SIGINT" ? SIGINT_SELF_EXIT_MS : 0;
  let cleaning: Promise<void> | null = null;
  const cleanUp = () =>
    cleaning ??= fleet.stopInstances(selfExitMs()).then(() =>
      fleet.removeCluster()
    );
  // Nothing here may run past its time: stop everything if it does.
  const watchdog = startWatchdog(
    durationMs + WATCHDOG_GRACE_MS + START_TIMEOUT_MS,
    stop.stopNow,
    cleanUp,
  );

  const startedAt = new Date();
  const revision = await serverRevision();
  const t0 = performance.now();
  const elapsedS = () => Math.round((performance.now() - t0) / 100) / 10;
  let exitCode = 1;
  try {
    const { cluster, instances } = await fleet.start();
    if (stop.interrupt.aborted) return 130;
    const world = createWorld(
      instances,
      tally,
      stop.trafficEnd,
      stop.interrupt,
    );
    const clients = Array.from(
      { length: clientCount },
      (_, index) => createSimClient(seed, index),
    );
    const sampleRss = createRssSampler(instances, elapsedS);
    await sampleRss("idle");

    const trafficSeconds = await runTraffic({
      world,
      clients,
      durationMs,
      seed,
      endTraffic: stop.endTraffic,
      sampleRss,
      elapsedS,
    });

    const final = stop.interrupt.aborted
      ? null
      : await catchUpAll(world, clients, cluster.url, sampleRss);
    // Stopped before the report so that how they exit is part of it.
    console.error("Stopping the instances…");
    await fleet.stopInstances(selfExitMs());

    const verdict = judge(world, clients, final, stop.interruptedBy);
    const report = buildReport(
      {
        startedAt,
        durationMs,
        trafficSeconds,
        clients: clientCount,
        seed,
        postgres: cluster.version,
        revision,
        maxId: final?.maxId ?? null,
      },
      tally,
      verdict,
      instances,
    );
    printReport(report);
    printOutcome(report, await writeReport(report));
    exitCode = stop.interruptedBy !== null
      ? 130
      : verdict.failures.length === 0
      ? 0
      : 1;
  } catch (error) {
    console.error(`Soak failed: ${describeError(error)}`);
    exitCode = stop.interruptedBy !== null ? 130 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
    reportAbnormalExits(fleet.instances);
    stop.dispose();
    unguard();
  }
  return exitCode;
}

if (import.meta.main) Deno.exit(await main());
