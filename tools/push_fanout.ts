/**
 * `deno run -A tools/push_fanout.ts [--subscribers 0,10000] [--messages 200] [--seconds 5]`:
 * what push subscriptions cost the posting path, with no real push sent.
 * For each subscriber count (rows inserted in SQL), on its own throwaway
 * cluster (fsync on) unless TEST_DATABASE_URL is set:
 *
 * - round: one message posted (one in 20 mentions a subscriber), then the
 *   queue round the dispatcher runs for it (fan-out, materialize, next due
 *   time), timed; subscribers are all within their interval (told of an
 *   earlier message), as under steady traffic. Repeated `--messages` times;
 *   then 20 more rounds counting the rows they read and write.
 * - first: the round that notifies every subscriber of a message at once
 *   (the work per notification: one push_deliveries row each).
 * - posting: messages/s inserted by 8 posters for `--seconds` while a real
 *   dispatcher (sender answering 201 at once) runs and is woken by each.
 * Stops by itself; prints one line per count.
 */
import { migrate, readMigrations } from "../db/migrate.ts";
import type { Database, Queryable } from "../db/database.ts";
import { createPostgresDatabase } from "../db/postgres_database.ts";
import { createPushDispatcher } from "../server/push/dispatcher.ts";
import { fanOut } from "../server/push/fanout.ts";
import { materialize, nextPendingMs } from "../server/push/materialize.ts";
import { createVisibilityStore } from "../server/push/visibility.ts";
import { startPgCluster } from "../test/harness/pg_cluster.ts";

const INTERVAL_MS = 60_000;
const BATCH = 100;
const POSTERS = 8;
const HISTORY = 20_000;

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i === -1 ? fallback : Deno.args[i + 1];
}

/** One round of the dispatcher's queue worker; returns deliveries made. */
async function queueRound(db: Database): Promise<number> {
  while ((await fanOut(db, BATCH)).consumed === BATCH);
  let created = 0;
  for (;;) {
    const r = await materialize(db, INTERVAL_MS, BATCH);
    created += r.created;
    if (!r.more) break;
  }
  await nextPendingMs(db, INTERVAL_MS);
  return created;
}

/** A Database that runs everything in transactions and adds up the user-table rows each read or wrote (pg_stat_xact_user_tables). */
function countingRows(db: Database) {
  let rows = 0;
  const total = async (tx: Queryable) => {
    const [s] = await tx.query<{ n: number | string | null }>(
      `select sum(seq_tup_read + coalesce(idx_tup_fetch, 0) + n_tup_ins
                  + n_tup_upd + n_tup_del) as n
       from pg_stat_xact_user_tables`,
    );
    return Number(s.n ?? 0);
  };
  const measured = <T>(fn: (tx: Queryable) => Promise<T>) =>
    db.transaction(async (tx) => {
      const before = await total(tx);
      const result = await fn(tx);
      rows += await total(tx) - before;
      return result;
    });
  const counted: Database = {
    ...db,
    query: (text, params) => measured((tx) => tx.query(text, params)),
    transaction: measured,
  };
  return {
    db: counted,
    take() {
      const n = rows;
      rows = 0;
      return n;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(
  url: string,
  subscribers: number,
  messages: number,
  seconds: number,
) {
  const db = createPostgresDatabase(url, { max: POSTERS + 2 });
  try {
    await migrate(db, await readMigrations());
    // A room with a history, so that plans are those of a real one (on a
    // table of a few rows Postgres scans it whole, whatever it is for).
    await db.query(
      `insert into messages (author, text)
       select 'history', 'message ' || g from generate_series(1, $1::int) g`,
      [HISTORY],
    );
    await db.query(
      `insert into push_subscriptions (endpoint, p256dh, auth, name)
       select 'https://push.example.net/' || g, 'k', 'a', 'sub' || g
       from generate_series(1, $1::int) g`,
      [subscribers],
    );
    await db.query("analyze");
    const post = (text: string) =>
      db.query("insert into messages (author, text) values ('bench', $1)", [
        text,
      ]);

    // Everyone is told of the first message at once.
    await post("first");
    let t = performance.now();
    const made = await queueRound(db);
    const firstMs = performance.now() - t;
    await db.query("delete from push_deliveries");
    // The message after it makes them all wait for their minute.
    await post("second");
    await queueRound(db);

    const rounds: number[] = [];
    for (let i = 0; i < messages; i++) {
      await post(`message ${i}${i % 20 === 0 ? " @sub7" : ""}`);
      t = performance.now();
      await queueRound(db);
      rounds.push(performance.now() - t);
      // Sent, as far as the queue is concerned.
      await db.query("delete from push_deliveries");
    }
    rounds.sort((a, b) => a - b);
    // Rows read and written per round, counted apart (counting adds queries).
    const counting = countingRows(db);
    const COUNTED = 20;
    for (let i = 0; i < COUNTED; i++) {
      await post(`counted ${i}${i % 10 === 0 ? " @sub7" : ""}`);
      await queueRound(counting.db);
      await db.query("delete from push_deliveries");
    }
    const rowsPerRound = counting.take() / COUNTED;

    const dispatcher = createPushDispatcher({
      db,
      sender: { send: () => Promise.resolve({ kind: "sent", status: 201 }) },
      visibility: createVisibilityStore(db),
      intervalMs: INTERVAL_MS,
      retryMs: 1_000,
      maxAttempts: 3,
      sendTimeoutMs: 5_000,
      batchSize: BATCH,
    });
    dispatcher.start();
    let posted = 0;
    const deadline = performance.now() + seconds * 1000;
    t = performance.now();
    await Promise.all(
      Array.from({ length: POSTERS }, async () => {
        while (performance.now() < deadline) {
          await post("x".repeat(100));
          posted++;
          dispatcher.wake();
        }
      }),
    );
    const postSeconds = (performance.now() - t) / 1000;
    await dispatcher.close();
    const [lag] = await db.query<{ behind: number }>(
      `select ((select max(id) from messages) -
               (select message_id from push_cursor))::int as behind`,
    );
    const mean = rounds.reduce((a, b) => a + b, 0) / rounds.length;
    const ms = (x: number) => x.toFixed(1);
    console.log(`${subscribers} subscriptions:`);
    console.log(
      `  queue round per message: mean ${ms(mean)} ms, p50 ${
        ms(percentile(rounds, 0.5))
      } ms, p99 ${ms(percentile(rounds, 0.99))} ms over ${messages}; ` +
        `${rowsPerRound.toFixed(0)} rows read or written per round`,
    );
    console.log(
      `  first message, everyone notified: ${made} notifications in ${
        ms(firstMs)
      } ms`,
    );
    console.log(
      `  posting (${POSTERS} posters, dispatcher running): ${
        (posted / postSeconds).toFixed(0)
      } messages/s; fan-out ${lag.behind} messages behind at the end`,
    );
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const counts = flag("subscribers", "0,10000").split(",").map(Number);
  const messages = Number(flag("messages", "200"));
  const seconds = Number(flag("seconds", "5"));
  const given = Deno.env.get("TEST_DATABASE_URL");
  if (given && counts.length > 1) {
    throw new Error("with TEST_DATABASE_URL, give one --subscribers count");
  }
  for (const n of counts) {
    const cluster = given ? null : await startPgCluster({
      settings: { fsync: true, full_page_writes: true },
    });
    try {
      await measure(given ?? cluster!.url, n, messages, seconds);
    } finally {
      await cluster?.stop();
    }
  }
}

if (import.meta.main) await main();
