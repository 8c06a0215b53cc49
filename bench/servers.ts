/**
 * The processes under test and what they run on: Plaza and the bare
 * broadcaster as child processes, and the throwaway PostgreSQL cluster.
 * Each registers its own stop with the teardown.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createTestDatabase,
  type PgCluster,
  startPgCluster,
} from "../test/harness/pg_cluster.ts";
import {
  type ServerProcess,
  startListening,
} from "../test/harness/server_process.ts";
import type { Target } from "./plan.ts";
import type { LimitSetting } from "./plaza_limits.ts";
import { note } from "./report.ts";
import { track } from "./teardown.ts";

/** The repository's root, the working directory of every child. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Plaza's entry point. */
export const PLAZA_MAIN = join(ROOT, "server", "main.ts");
/** The bare Deno.serve broadcaster Plaza is compared with. */
export const BARE = join(ROOT, "bench", "bare_broadcaster.ts");
/** Children get the hard file limit as their soft one, where the OS allows. */
export const RAISE_FD_LIMIT =
  'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

/** Environment passed to children: only what Deno needs to find its cache. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A running server under test. */
export interface Server {
  target: Target;
  port: number;
  pid: number;
  process: ServerProcess;
  stop(): Promise<void>;
}

/**
 * Starts Plaza (with `env`) or the bare broadcaster on a free port; with
 * `profileDir`, the server writes a V8 CPU profile there when it exits.
 * `denoFlags` go to `deno run` as well (bench/stream_memory.ts: --inspect).
 */
export async function startServer(
  target: Target,
  env: Record<string, string>,
  profileDir: string | null,
  denoFlags: readonly string[] = [],
): Promise<Server> {
  const profile = profileDir === null ? [...denoFlags] : [
    ...denoFlags,
    "--cpu-prof",
    `--cpu-prof-dir=${profileDir}`,
    `--cpu-prof-name=${target}-${Date.now()}.cpuprofile`,
  ];
  const args = target === "plaza"
    ? [
      "-c",
      RAISE_FD_LIMIT,
      Deno.execPath(),
      "run",
      ...profile,
      "--allow-all",
      PLAZA_MAIN,
    ]
    : [
      "-c",
      RAISE_FD_LIMIT,
      Deno.execPath(),
      "run",
      ...profile,
      "--allow-net",
      BARE,
      "0",
    ];
  const process = await startListening("sh", args, {
    env: { ...baseEnv(), ...(target === "plaza" ? env : {}) },
    clearEnv: true,
    cwd: ROOT,
  });
  let stopping = false;
  // A server that dies mid-run says why at once, not as a row of
  // "connection refused" later.
  process.child.status.then(async (status) => {
    if (stopping) return;
    const stderr = (await process.stderr).trim().split("\n").slice(-15);
    // Plaza exits 0 only after SIGINT/SIGTERM, which the bench had not sent.
    const why = target === "plaza" && status.code === 0
      ? " — a clean shutdown: something outside the bench sent it SIGINT or SIGTERM"
      : "";
    note(
      `${target} (pid ${process.pid}) exited with code ${status.code}${
        status.signal ? ` (${status.signal})` : ""
      }${why}; its last words:\n      ${stderr.join("\n      ")}`,
    );
  });
  const stop = track(async () => {
    stopping = true;
    // Streams are closed by the generators first, so SIGTERM finishes fast;
    // a server that hangs anyway is killed.
    const done = process.stop();
    const late = setTimeout(() => process.kill(), 5_000);
    await done.finally(() => clearTimeout(late));
  });
  return {
    target,
    port: Number(new URL(process.url).port),
    pid: process.pid,
    process,
    stop,
  };
}

/**
 * Starts a throwaway PostgreSQL cluster, stopped at teardown, with fsync on
 * (unlike the test suite): a 201 means the message is on disk, and the
 * posting figures must include what that costs.
 */
export async function startPostgres(): Promise<PgCluster> {
  const cluster = await startPgCluster({
    settings: { fsync: true, full_page_writes: true },
  });
  track(() => cluster.stop());
  return cluster;
}

/** Plaza's environment for the bench: a fresh database, no web client, the limits off. */
export async function plazaEnvironment(
  cluster: PgCluster,
  tmp: string,
  limits: LimitSetting[],
): Promise<Record<string, string>> {
  const db = await createTestDatabase(cluster.url);
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    DIST_DIR: join(tmp, "no-client"),
    // "listening on …", which startListening waits for, is an info line.
    LOG_LEVEL: "info",
    ...Object.fromEntries(limits.map((l) => [l.name, l.value])),
  };
}
