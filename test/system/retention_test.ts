// RETENTION_DAYS on two instances sharing one database: the old messages go
// once, as `delete` events that a live stream on either instance receives,
// and the recent ones stay.
import assert from "node:assert/strict";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import {
  RETENTION_FIRST_DELAY_MS,
  RETENTION_JOB,
} from "../../server/store/retention.ts";
import { withDeadline } from "../harness/wait.ts";

Deno.test("RETENTION_DAYS: two instances remove the old messages once, and live streams get the deletes", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await migrate(db, await readMigrations());
      await db.query(
        `insert into messages (author, text, created_at)
         select 'ada', 'old ' || g, now() - interval '40 days'
         from generate_series(1, 7) g`,
      );
      await db.query(
        "insert into messages (author, text) values ('ada', 'new')",
      );
      const [a, b] = await Promise.all(
        [1, 2].map(() => startTestInstance(url, { RETENTION_DAYS: "30" })),
      );
      try {
        const streams = await Promise.all(
          [a, b].map((p) => openSse(`${p.url}/stream?history=10`)),
        );
        try {
          // The first run comes a few seconds after start-up.
          await withDeadline(
            Promise.all(
              streams.map((s) =>
                s.until((e) =>
                  e.filter((x) => x.event === "delete").length === 7
                )
              ),
            ),
            RETENTION_FIRST_DELAY_MS + 10_000,
            "seven delete events on both streams",
          );
        } finally {
          await Promise.all(streams.map((s) => s.close()));
        }
        const left = await db.query<{ text: string }>(
          "select text from messages",
        );
        assert.deepEqual(left.map((r) => r.text), ["new"]);
        const [deletes] = await db.query<{ n: number; ids: number }>(
          `select count(*)::int as n, count(distinct message_id)::int as ids
           from changes where kind = 'delete'`,
        );
        assert.deepEqual(deletes, { n: 7, ids: 7 });
        const [lease] = await db.query<{ done: boolean; holder: null }>(
          `select done_at > now() - interval '1 minute' as done, holder
           from maintenance_leases where job = $1`,
          [RETENTION_JOB],
        );
        assert.deepEqual(lease, { done: true, holder: null });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      await db.close();
    }
  });
});
