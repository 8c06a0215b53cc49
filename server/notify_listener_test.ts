// A database restart must lose nothing: the listener re-listens and reads
// every row committed while it was away before going live again.
import assert from "node:assert/strict";
import { createHub } from "./hub.ts";
import { createMessageStore } from "./message_store.ts";
import { migrate, readMigrations } from "./migrate.ts";
import { createNotifyListener } from "./notify_listener.ts";
import { createPostgresDatabase } from "./postgres_database.ts";
import { startPgCluster } from "./testing/pg_cluster.ts";

Deno.test("after a database restart the listener back-fills the missed rows, once each, in order", async () => {
  const cluster = await startPgCluster();
  const db = createPostgresDatabase(cluster.url);
  const writer = createPostgresDatabase(cluster.url, { max: 1 });
  const hub = createHub({ heartbeatMs: 60_000 });
  const got: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  hub.subscribe({
    deliver(id) {
      if (id === 0) return;
      got.push(id);
      for (const w of waiters) if (got.length >= w.n) w.resolve();
    },
    end() {},
  });
  const received = (n: number) =>
    new Promise<void>((resolve) => {
      if (got.length >= n) resolve();
      else waiters.push({ n, resolve });
    });
  const errors: string[] = [];
  const store = createMessageStore(db);
  // A long first retry (3–6 s with jitter), so the rows written right after
  // the restart are committed while nobody listens; the live=false check
  // below fails loudly if that ever stops holding.
  const listener = createNotifyListener({
    db,
    store,
    hub,
    minRetryMs: 6000,
    maxRetryMs: 6000,
    onError: (message) => errors.push(message),
  });
  try {
    await migrate(db, await readMigrations());
    const writes = createMessageStore(writer);
    await listener.start();
    const { message: before } = await writes.insert({
      author: "ada",
      text: "before",
    });
    await received(1);

    await cluster.restart("immediate");
    const during = [];
    // The writer's pool reconnects on its own; the listener is still waiting.
    for (let i = 0; i < 5; i++) {
      const { message } = await writes.insert({
        author: "bob",
        text: `while away ${i}`,
      });
      during.push(message);
    }
    assert.equal(listener.live, false);
    await received(6);
    const { message: after } = await writes.insert({
      author: "ada",
      text: "after",
    });
    await received(7);
    assert.deepEqual(got, [before.id, ...during.map((m) => m.id), after.id]);
    assert.equal(listener.live, true);
    assert.ok(errors.some((e) => /lost its connection/.test(e)), errors.join());
  } finally {
    await listener.close();
    hub.close();
    await writer.close();
    await db.close();
    await cluster.stop();
  }
});
