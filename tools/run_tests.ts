/**
 * `deno task test [deno test args…]`: runs `deno test --allow-all` against a
 * PostgreSQL server. TEST_DATABASE_URL (or else DATABASE_URL) is used as is
 * when set; otherwise a throwaway cluster is started for the run and removed
 * afterwards, whatever happens to the tests.
 */

import { startPgCluster } from "../test/harness/pg_cluster.ts";
import type { PgCluster } from "../test/harness/pg_cluster.ts";

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

async function main(): Promise<number> {
  let cluster: PgCluster | null = null;
  let child: Deno.ChildProcess | null = null;
  let interrupted: Deno.Signal | null = null;

  // Without these handlers a Ctrl-C or a CI timeout would kill this process at
  // once and leave a postmaster and its temp dir behind.
  const onSignal = (signal: Deno.Signal) => () => {
    interrupted = signal;
    try {
      // On Ctrl-C the terminal already signalled the whole process group; a
      // SIGTERM sent to us alone must reach deno test too.
      child?.kill(signal);
    } catch {
      // Already exited.
    }
  };
  const handlers = SIGNALS.map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);

  try {
    let url = Deno.env.get("TEST_DATABASE_URL") ?? Deno.env.get("DATABASE_URL");
    if (url) {
      const from = Deno.env.get("TEST_DATABASE_URL")
        ? "TEST_DATABASE_URL"
        : "DATABASE_URL";
      console.error(`test database: ${from} (${describe(url)})`);
    } else {
      try {
        cluster = await startPgCluster();
      } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        return 1;
      }
      url = cluster.url;
      console.error(
        `test database: throwaway PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port}`,
      );
    }
    if (interrupted) return 130;

    child = new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", ...Deno.args],
      env: { TEST_DATABASE_URL: url },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    // A hung test must not hold CI for its whole 90 minutes: the suite takes
    // about a quarter of an hour on a 2-core machine (docs/development.md),
    // so 40 minutes (TEST_TIMEOUT_MINUTES) means stuck.
    const minutes = Number(Deno.env.get("TEST_TIMEOUT_MINUTES") ?? "40");
    const running = child;
    const watchdog = setTimeout(() => {
      console.error(
        `deno test still running after ${minutes} min: stopping it (a test is stuck).`,
      );
      try {
        running.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, minutes * 60_000);
    const status = await child.status;
    clearTimeout(watchdog);
    return status.code === 0 && status.signal !== null ? 1 : status.code;
  } finally {
    if (cluster) {
      await cluster.stop().catch((err) => {
        console.error(`could not stop the test database: ${err}`);
      });
    }
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

/** host:port/db of a URL, without the credentials, for the log line. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return "unparsable URL";
  }
}

// Not named test.ts, which `deno test` would pick up as a test module; the
// guard keeps an explicit import from starting `deno test` recursively.
if (import.meta.main) Deno.exit(await main());
