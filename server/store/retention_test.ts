// Retention: old messages leave through the delete path in batches, each a
// `delete` in the change log, and two instances sharing a database run it
// once between them.
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { createChangeFeed } from "./change_feed.ts";
import { createMessageStore } from "./message_store.ts";
import { runRetention } from "./retention.ts";

async function insertAged(db: Database, count: number, daysAgo: number) {
  await db.query(
    `insert into messages (author, text, created_at)
     select 'ada', 'old ' || g,
       date_trunc('milliseconds', now() - make_interval(days => $2))
     from generate_series(1, $1) g`,
    [count, daysAgo],
  );
}

Deno.test("retention removes old messages in batches through the change log, once across two instances", async () => {
  await withTestDatabase(async (url) => {
    const one = createPostgresDatabase(url);
    const two = createPostgresDatabase(url);
    try {
      await migrate(one, await readMigrations());
      await insertAged(one, 7, 40);
      await insertAged(one, 2, 1);
      const before = await createChangeFeed(one).lastSeq();
      const batches: number[][] = [];
      const instance = (db: Database, instanceId: string) => {
        const store = createMessageStore(db);
        return runRetention({
          db,
          instanceId,
          days: 30,
          batch: 3,
          store: {
            removeMany: (ids) => {
              batches.push([...ids]);
              return store.removeMany(ids);
            },
          },
        });
      };
      const results = await Promise.all([
        instance(one, "one"),
        instance(two, "two"),
      ]);
      // One instance did all of it; the other found the job leased.
      assert.deepEqual(results.toSorted(), [7, null]);
      assert.deepEqual(batches.map((b) => b.length), [3, 3, 1]);
      const left = await one.query<{ text: string }>(
        "select text from messages order by id",
      );
      assert.deepEqual(left.map((r) => r.text).sort(), ["old 1", "old 2"]);
      // Each removal is one delete change, seen by a resume from before.
      const changes = await createChangeFeed(one).after(0, 100);
      const deletes = changes.filter((c) => c.kind === "delete");
      assert.equal(deletes.length, 7);
      assert.deepEqual(
        deletes.map((c) => c.kind === "delete" && c.id),
        batches.flat(),
      );
      assert.ok(deletes.every((c) => c.seq > before));
      // Done: not due again within the interval, on either instance.
      assert.equal(await instance(two, "two"), null);
      assert.equal(await instance(one, "one"), null);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

Deno.test("a lease held by an instance that stopped renewing it is taken over once it runs out", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await migrate(db, await readMigrations());
      await insertAged(db, 2, 40);
      await db.query(
        `insert into maintenance_leases (job, holder, held_until)
         values ('retention', 'gone', now() + interval '1 hour')`,
      );
      const store = createMessageStore(db);
      const run = () => runRetention({ db, store, instanceId: "me", days: 30 });
      assert.equal(await run(), null);
      await db.query(
        "update maintenance_leases set held_until = now() - interval '1 s'",
      );
      assert.equal(await run(), 2);
    } finally {
      await db.close();
    }
  });
});
