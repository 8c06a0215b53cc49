// The shared limits' SQL, straight against a migrated database.
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import {
  createSharedRateLimiter,
  createSharedStreamSlots,
} from "./shared_limits.ts";

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

Deno.test("shared rate limiter: two limiters on one database spend one bucket per address, and parallel takes never overspend", async () => {
  await withDb(async (db) => {
    const options = { kind: "post", capacity: 5, perSecond: 1 / 3600 };
    const one = createSharedRateLimiter(db, options);
    const two = createSharedRateLimiter(db, options);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).take("a")),
    );
    assert.equal(answers.filter((a) => a.ok).length, 5);
    const refusal = answers.find((a) => !a.ok);
    assert.ok(refusal && !refusal.ok && refusal.retryAfterSeconds > 1000);
    assert.equal((await one.take("b")).ok, true, "addresses are separate");
    const typing = createSharedRateLimiter(db, { ...options, kind: "typing" });
    assert.equal((await typing.take("a")).ok, true, "kinds are separate");
  });
});

Deno.test("shared stream slots: a dead instance's rows stop counting once stale; a closed instance's go at once", async () => {
  await withDb(async (db) => {
    const a = createSharedStreamSlots(db, { instanceId: "a" });
    const b = createSharedStreamSlots(db, { instanceId: "b" });
    try {
      assert.equal(await a.acquire("x", 2), true);
      assert.equal(await b.acquire("x", 2), true);
      assert.equal(await b.acquire("x", 2), false, "two across instances");
      // Instance a goes silent: its row ages past the stale time.
      await db.query(
        "update stream_counts set updated_at = now() - interval '1 hour' where instance_id = 'a'",
      );
      assert.equal(await b.acquire("x", 2), true);
      assert.equal(await b.acquire("x", 2), false);
      b.release("x");
      await b.close();
      const c = createSharedStreamSlots(db, { instanceId: "c" });
      try {
        assert.equal(await c.acquire("x", 1), true, "b's rows are gone");
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
