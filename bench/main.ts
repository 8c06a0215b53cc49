/**
 * `deno task bench [--quick] [--only idle,fanout,posting,changes,burst,rules,startup,uploads,export]
 * [--fanout-streams 1000,2000,…] [--cpu-prof <dir>]`
 *
 * Starts a throwaway PostgreSQL, a Plaza instance on it and the bare
 * `Deno.serve` broadcaster (bench/bare_broadcaster.ts), and drives both with
 * the same load from separate load-generator processes
 * (bench/load_generator/main.ts). Prints one table row per scenario and
 * target, the ratio Plaza/bare, and a summary against the performance
 * targets; writes everything to bench/results/bench-<date>.json. All on
 * 127.0.0.1, bounded in time, and every process and the cluster are stopped
 * on exit, error, Ctrl-C or SIGTERM. Method and figures: docs/benchmarks.md.
 */

import { parseArgs, USAGE } from "./cli.ts";
import { warmUp } from "./delivery_round.ts";
import { sweepLines } from "./fanout_sweep.ts";
import { round1 } from "./format.ts";
import { GENERATORS, LoadGenerators } from "./generators.ts";
import { describeMachine } from "./machine.ts";
import { planFor } from "./plan.ts";
import { limitsOff } from "./plaza_limits.ts";
import { sampleProcess } from "./proc_stats.ts";
import { note, rows } from "./report.ts";
import { writeResults } from "./results.ts";
import { burst } from "./scenarios/burst.ts";
import { fanout } from "./scenarios/fanout.ts";
import { idle } from "./scenarios/idle.ts";
import { changes } from "./scenarios/changes.ts";
import { posting } from "./scenarios/posting.ts";
import { rules } from "./scenarios/rules.ts";
import type { Context } from "./scenarios/scenario.ts";
import { startup } from "./scenarios/startup.ts";
import { uploads } from "./scenarios/uploads.ts";
import { exportScenario } from "./scenarios/export.ts";
import { plazaEnvironment, startPostgres, startServer } from "./servers.ts";
import { printSummary, summarise } from "./summary.ts";
import { exitWith, track } from "./teardown.ts";

/** The whole run is torn down past this, whatever it is doing. */
const TOTAL_TIMEOUT_MS = 15 * 60_000;

const started = performance.now();

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0)} s`;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const plan = planFor(options.quick, options.fanoutStreams);
  const info = await describeMachine();
  const machine =
    `${info.nproc} cores (${info.cpu}), ${info.memoryGiB} GiB, Linux ${info.kernel}; Deno ${info.deno}`;
  console.log(
    `# deno task bench${options.quick ? " --quick" : ""} — ${info.date}\n` +
      `machine: ${machine}\n` +
      `file limit here: soft ${info.fdLimits.soft}, hard ${info.fdLimits.hard} (children raise soft to hard)\n` +
      `scenarios: ${
        options.only.join(", ")
      }; load generators: ${GENERATORS} processes; everything on 127.0.0.1`,
  );
  const limits = limitsOff();
  console.log(
    "Plaza's limits turned off for the bench instances (via config):",
  );
  for (const l of limits) console.log(`  ${l.name}=${l.value}  — ${l.why}`);
  console.log(
    "  kept at defaults: HEARTBEAT_MS (15 s pings), STREAM_BUFFER_BYTES (1 MiB slow-client budget; the generator reads everything), TYPING_RATE (unused)",
  );
  console.log(
    "  Plaza runs with LOG_LEVEL=info (its only info lines are start-up and a per-minute stream count) and without the web client (/ answers 503; unused here).",
  );

  const tmp = await Deno.makeTempDir({ prefix: "plaza-bench-" });
  track(() => Deno.remove(tmp, { recursive: true }));
  console.log(`\nstarting PostgreSQL, load generators … (${elapsed()})`);
  const cluster = await startPostgres();
  const plazaEnv = await plazaEnvironment(cluster, tmp, limits);
  const generators = await LoadGenerators.start();
  const ctx: Context = {
    plan,
    plazaEnv,
    cluster,
    generators,
    servers: null,
    runOn: `${machine}; ${info.date}`,
    fdLimits: info.fdLimits,
    tmp,
    profileDir: options.cpuProfDir,
  };
  console.log(
    `PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port} (${elapsed()})`,
  );

  if (options.only.includes("idle")) await idle(ctx);
  if (options.only.includes("fanout")) await fanout(ctx);
  const shared = options.only.filter((s) =>
    ["posting", "changes", "burst", "rules"].includes(s)
  );
  if (shared.length > 0) {
    const plaza = await startServer("plaza", plazaEnv, ctx.profileDir);
    const bare = await startServer("bare", plazaEnv, ctx.profileDir);
    ctx.servers = { plaza, bare };
    // A first stream and message on each, so JIT warm-up is not in row one.
    for (const s of [plaza, bare]) await warmUp(generators, s.port);
    if (shared.includes("posting")) await posting(ctx);
    if (shared.includes("changes")) await changes(ctx);
    if (shared.includes("burst")) await burst(ctx);
    if (shared.includes("rules")) await rules(ctx);
    for (const s of [plaza, bare]) {
      const stats = await sampleProcess(s.pid).catch(() => null);
      if (stats) {
        note(`${s.target}: RSS at the end ${round1(stats.rss / 2 ** 20)} MiB`);
      }
      await s.stop();
    }
    ctx.servers = null;
  }
  if (options.only.includes("startup")) await startup(ctx);
  if (options.only.includes("uploads")) await uploads(ctx);
  if (options.only.includes("export")) await exportScenario(ctx);

  const summary = summarise(plan);
  printSummary(summary);
  const durationS = Math.round((performance.now() - started) / 1000);
  const file = await writeResults({
    machine: info,
    options: { quick: options.quick, only: options.only },
    plan,
    limitsOff: limits,
    durationS,
    rows,
    summary,
    // Empty when fan-out did not run.
    fanoutSweep: sweepLines(plan.fanoutCounts),
  });
  const failed = rows.filter((r) => r.error !== undefined).length;
  console.log(
    `\n${rows.length} rows (${failed} with problems noted) in ${durationS} s; results: ${file}`,
  );
  return 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    exitWith(130, `\n${signal}: stopping servers, generators and PostgreSQL …`);
  });
}
const watchdog = setTimeout(() => {
  exitWith(
    1,
    `bench: still running after ${
      TOTAL_TIMEOUT_MS / 60_000
    } minutes; stopping.`,
  );
}, TOTAL_TIMEOUT_MS);

try {
  const code = await main();
  clearTimeout(watchdog);
  await exitWith(code);
} catch (error) {
  await exitWith(
    1,
    `bench failed: ${error instanceof Error ? error.stack : String(error)}`,
  );
}
