// What a message costs the push queue: rows read and written, counted by
// Postgres itself (pg_stat_xact_user_tables, per transaction), must not
// grow with the number of subscriptions.
import assert from "node:assert/strict";
import type { Database, Queryable } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { fanOut } from "./fanout.ts";
import { materialize, nextPendingMs } from "./materialize.ts";

const SUBSCRIPTIONS = 2_000;
/** Generous for a handful of rows (cursor, message, mention); far below one per subscription. */
const MAX_ROWS_PER_MESSAGE = 60;

/** A Database that runs everything in transactions and adds up the user-table rows each one read or wrote. */
function countingRows(db: Database) {
  let rows = 0;
  // The view's counts may include earlier transactions of the same
  // connection not yet flushed (PostgreSQL 15+), so each is a difference.
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

/** One round of the dispatcher's queue worker (dispatcher.ts queueStep). */
async function queueRound(db: Database, intervalMs: number) {
  while ((await fanOut(db, 100)).consumed === 100);
  while ((await materialize(db, intervalMs, 100)).more);
  await nextPendingMs(db, intervalMs);
}

Deno.test(`a message costs the push queue a few rows, with ${SUBSCRIPTIONS} subscriptions as with none`, async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await migrate(db, await readMigrations());
      await db.query(
        `insert into push_subscriptions (endpoint, p256dh, auth, name)
         select 'https://push.example.net/' || g, 'k', 'a', 'sub' || g
         from generate_series(1, $1::int) g`,
        [SUBSCRIPTIONS],
      );
      const post = (text: string) =>
        db.query("insert into messages (author, text) values ('ada', $1)", [
          text,
        ]);
      const counting = countingRows(db);

      await post("hello");
      await fanOut(counting.db, 100);
      const fanOutRows = counting.take();
      assert.ok(
        fanOutRows <= MAX_ROWS_PER_MESSAGE,
        `fanOut touched ${fanOutRows} rows`,
      );

      // Everyone is told of "hello": work per notification, as a push
      // request is. Then, within the minute, each new message (a mention
      // of one subscriber among them) costs the whole round a few rows.
      await queueRound(db, 60_000);
      await db.query("delete from push_deliveries");
      await post("while the minute runs");
      await queueRound(db, 60_000);
      counting.take();
      for (const text of ["one more", "@sub7 look"]) {
        await post(text);
        await queueRound(counting.db, 60_000);
        const roundRows = counting.take();
        assert.ok(
          roundRows <= MAX_ROWS_PER_MESSAGE,
          `a queue round for "${text}" touched ${roundRows} rows`,
        );
      }
      const [made] = await db.query<{ n: number }>(
        "select count(*)::int as n from push_deliveries",
      );
      assert.equal(made.n, 1, "the mention goes at once, alone");
    } finally {
      await db.close();
    }
  });
});

Deno.test("010 carries what 004's queue had pending over: each subscriber's cursor, whether it waits, its mention", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      const all = await readMigrations();
      await migrate(db, all.filter((m) => m.name < "010"));
      await db.query(
        `insert into messages (author, text)
         select 'ada', 'message ' || g from generate_series(1, 5) g`,
      );
      // 004's fan-out read all five; carol has 3..5 pending with a mention
      // at 4, dan nothing; erin subscribed after it ran.
      await db.query("update push_cursor set message_id = 5");
      const [carol, dan] = await Promise.all(
        ["Carol", "dan"].map(async (n) =>
          Number(
            (await db.query<{ id: number | string }>(
              `insert into push_subscriptions (endpoint, p256dh, auth, name)
             values ('https://push.example.net/' || $1, 'k', 'a', $1)
             returning id`,
              [n],
            ))[0].id,
          )
        ),
      );
      await db.query(
        `insert into push_pending (subscription_id, message_count, authors,
           first_message_id, last_message_id, last_author, last_text,
           mention_message_id, mention_author, mention_text)
         values ($1, 3, '{ada}', 3, 5, 'ada', 'message 5', 4, 'ada', 'message 4')`,
        [carol],
      );
      await migrate(db, all);
      const rows = await db.query<
        {
          id: number | string;
          name_key: string;
          notified_through: number | string;
          waiting: boolean;
        }
      >(
        "select id, name_key, notified_through, waiting from push_subscriptions order by id",
      );
      assert.deepEqual(
        rows.map((r) => [
          Number(r.id),
          r.name_key,
          Number(r.notified_through),
          r.waiting,
        ]),
        [[carol, "carol", 2, true], [dan, "dan", 5, false]],
      );
      const mentions = await db.query<
        { s: number | string; m: number | string }
      >(
        "select subscription_id as s, message_id as m from push_mentions",
      );
      assert.deepEqual(mentions.map((r) => [Number(r.s), Number(r.m)]), [[
        carol,
        4,
      ]]);
      // A subscription stored after the migration starts at the newest message.
      const [erin] = await db.query<{ through: number | string; key: string }>(
        `insert into push_subscriptions (endpoint, p256dh, auth, name)
         values ('https://push.example.net/erin', 'k', 'a', 'Erin')
         returning notified_through as through, name_key as key`,
      );
      assert.deepEqual([Number(erin.through), erin.key], [5, "erin"]);
      await fanOut(db, 100);
      assert.equal((await materialize(db, 0, 100)).created, 1);
      const [made] = await db.query<{ payload: string }>(
        "select payload from push_deliveries",
      );
      assert.equal(
        JSON.parse(made.payload).body,
        "ada: message 4 (+2 more)",
      );
    } finally {
      await db.close();
    }
  });
});
