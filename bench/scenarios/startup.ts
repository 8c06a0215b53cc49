/**
 * startup: spawn a server and time its first 200 from GET /readyz, for Plaza
 * on Postgres and on embedded PGlite, against the bare broadcaster.
 */

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase } from "../../test/harness/pg_cluster.ts";
import type { Target } from "../plan.ts";
import { printHeader } from "../report.ts";
import { BARE, baseEnv, PLAZA_MAIN, ROOT } from "../servers.ts";
import { track, untrack } from "../teardown.ts";
import { type Context, measure } from "./scenario.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** How to start one kind of server for the start-up scenario, on `port`. */
interface StartCommand {
  args: (port: number) => string[];
  env: (port: number) => Record<string, string>;
}

/** Spawn → first 200 from GET /readyz, in ms. */
async function timeToFirstResponse(
  command: StartCommand,
  timeoutMs: number,
): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: command.args(port),
    env: { ...baseEnv(), ...command.env(port) },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = track(async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  });
  let exited = false;
  child.status.then(() => (exited = true));
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        });
        await res.body?.cancel();
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // Not listening yet.
      }
      if (exited) throw new Error(`exited before serving:\n${await stderr}`);
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`no answer within ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const late = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }, 5_000);
    await child.status;
    clearTimeout(late);
    await stderr;
    untrack(stop);
  }
}

/** Runs the start-up scenario: Plaza on Postgres and on PGlite, and the bare broadcaster. */
export async function startup(ctx: Context) {
  const runs = ctx.plan.startupRuns;
  let client = "not built: / would answer 503";
  try {
    await Deno.stat(join(ROOT, "dist", "index.html"));
    client = "built, loaded at start-up";
  } catch {
    // Plaza then answers / with 503; /readyz is unaffected.
  }
  printHeader(
    "startup",
    `spawn \`deno run server/main.ts\` → first 200 from /readyz; one first start, then the median of ${runs} (client in dist/: ${client})`,
  );
  const db = await createTestDatabase(ctx.cluster.url);
  const dataDir = await Deno.makeTempDir({ prefix: "plaza-bench-pglite-" });
  track(() => Deno.remove(dataDir, { recursive: true }).catch(() => {}));
  const plaza = (env: Record<string, string>): StartCommand => ({
    // The permissions of `deno task start`.
    args: () => [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      PLAZA_MAIN,
    ],
    env: (port) => ({
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...env,
    }),
  });
  const cases: {
    name: string;
    target: Target;
    start: StartCommand;
    timeoutMs: number;
  }[] = [
    {
      name: "Postgres",
      target: "plaza",
      start: plaza({ DATABASE_URL: db.url }),
      timeoutMs: 30_000,
    },
    {
      // First start compiles PGlite's WASM and creates its files.
      name: "PGlite",
      target: "plaza",
      start: plaza({ DATA_DIR: dataDir }),
      timeoutMs: 90_000,
    },
    {
      name: "no database",
      target: "bare",
      start: {
        args: (port) => ["run", "--allow-net", BARE, String(port)],
        env: () => ({}),
      },
      timeoutMs: 30_000,
    },
  ];
  try {
    for (const c of cases) {
      await measure(ctx, "startup", c.name, c.target, async () => {
        // The first start creates the schema (and PGlite's files); the
        // "already-built checkout" figure is the median of the ones after.
        const first = await timeToFirstResponse(c.start, c.timeoutMs);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          times.push(await timeToFirstResponse(c.start, c.timeoutMs));
        }
        const sorted = [...times].sort((a, b) => a - b);
        return {
          figures: {
            medianMs: Math.round(sorted[Math.floor((sorted.length - 1) / 2)]),
            runs: times.map((t) => Math.round(t)).join("/"),
            firstMs: Math.round(first),
          },
        };
      });
    }
  } finally {
    await db.drop().catch(() => {});
  }
}
