import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { withDeadline } from "../../test/harness/wait.ts";
import { createMessageStore } from "../store/message_store.ts";
import { createPreviewWorker, type PreviewWorker } from "./preview_worker.ts";
import type { PagePreview } from "./parse_meta.ts";

const PAGE: PagePreview = {
  title: "T",
  description: "D",
  image: null,
  site: null,
};

async function withDb(fn: (db: Database) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 10 });
    try {
      await migrate(db, await readMigrations());
      await fn(db);
    } finally {
      await db.close();
    }
  });
}

Deno.test("two workers offered the same message: one claims and fetches, the other leaves it", async () => {
  await withDb(async (db) => {
    const fetched: string[] = [];
    const release = Promise.withResolvers<void>();
    const done: string[] = [];
    const bothDone = Promise.withResolvers<void>();
    const lost = Promise.withResolvers<void>();
    const worker = (): PreviewWorker =>
      createPreviewWorker({
        db,
        fetch: async (url) => {
          fetched.push(url);
          // Held, so the other worker's turn comes while this one fetches.
          await release.promise;
          return PAGE;
        },
        onError: (message, error) => assert.fail(`${message}: ${error}`),
        onDone: (_id, outcome) => {
          done.push(outcome);
          if (outcome === "claimed") lost.resolve();
          if (done.length === 2) bothDone.resolve();
        },
      });
    const workers = [worker(), worker()];
    try {
      const { message } = await createMessageStore(db).insert({
        author: "ada",
        text: "see https://site.test/a.",
      });
      for (const w of workers) w.offer(message);
      // The loser finishes while the winner's fetch is still held.
      await withDeadline(lost.promise, 10_000, "the second worker to yield");
      release.resolve();
      await bothDone.promise;
      assert.deepEqual(done.sort(), ["claimed", "ok"]);
      assert.deepEqual(fetched, ["https://site.test/a"]);
      const [row] = await db.query<{ status: string; title: string }>(
        "select status, title from message_previews where message_id = $1",
        [message.id],
      );
      assert.deepEqual(row, { status: "ok", title: "T" });
    } finally {
      release.resolve();
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});
