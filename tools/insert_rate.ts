/**
 * `deno run -A tools/insert_rate.ts [--seconds N] [--concurrency N]`:
 * how many messages per second one Postgres takes through Plaza's insert path
 * (the ordering lock and the NOTIFY trigger), straight from postgres.js with
 * no HTTP in between. Starts its own throwaway cluster (durable settings:
 * fsync on) unless TEST_DATABASE_URL is set; stops by itself.
 */
import postgres from "postgres";
import { migrate, readMigrations } from "../db/migrate.ts";
import { createPostgresDatabase } from "../db/postgres_database.ts";
import { startPgCluster } from "../test/harness/pg_cluster.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(Deno.args[i + 1]);
}

async function main(): Promise<void> {
  const seconds = flag("seconds", 10);
  const concurrency = flag("concurrency", 16);
  const given = Deno.env.get("TEST_DATABASE_URL");
  // fsync on: the figure should be what a real, durable server does.
  const cluster = given ? null : await startPgCluster({
    settings: { fsync: true, full_page_writes: true },
  });
  const url = given ?? cluster!.url;
  const db = createPostgresDatabase(url, { max: 2 });
  const sql = postgres(url, { max: concurrency, onnotice: () => {} });
  try {
    await migrate(db, await readMigrations());
    const text = "x".repeat(100);
    const latencies: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          await sql`insert into messages (author, text) values ('bench', ${text})`;
          latencies.push(performance.now() - t);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[
        Math.min(latencies.length - 1, Math.floor(q * latencies.length))
      ]
        .toFixed(1);
    console.log(
      `${latencies.length} inserts in ${seconds} s at concurrency ${concurrency}: ` +
        `${Math.round(latencies.length / seconds)}/s, ` +
        `latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`,
    );
  } finally {
    await sql.end({ timeout: 1 });
    await db.close();
    await cluster?.stop();
  }
}

if (import.meta.main) await main();
