// A database restart must lose nothing: the listener re-listens and reads
// every row committed while it was away before going live again.
import assert from "node:assert/strict";
import { createHub } from "./hub.ts";
import type { Database, ListenHandlers } from "../../db/database.ts";
import type { Message } from "../../protocol/message.ts";
import { createMessageStore } from "../store/message_store.ts";
import {
  type Change,
  type ChangeFeed,
  createChangeFeed,
} from "../store/change_feed.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { CHANGES_CHANNEL } from "../../db/channels.ts";
import { createNotifyListener } from "./notify_listener.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { startPgCluster } from "../../test/harness/pg_cluster.ts";
import { startTcpProxy } from "../../test/harness/tcp_proxy.ts";
import { withDeadline } from "../../test/harness/wait.ts";

Deno.test("after a database restart the listener back-fills the missed rows, once each, in order", async () => {
  const cluster = await startPgCluster();
  const db = createPostgresDatabase(cluster.url);
  const writer = createPostgresDatabase(cluster.url, { max: 1 });
  const hub = createHub({ heartbeatMs: 60_000 });
  const got: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  hub.subscribe({
    deliver(batch) {
      for (const e of batch.events) if (e.id !== 0) got.push(e.id);
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
  // A long first retry (3–6 s with jitter), so the rows written right after
  // the restart are committed while nobody listens; the live=false check
  // below fails loudly if that ever stops holding.
  const listener = createNotifyListener({
    db,
    changes: createChangeFeed(db),
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

Deno.test("the watchdog rebuilds a LISTEN session that silently stopped answering", async () => {
  const cluster = await startPgCluster();
  const port = Number(new URL(cluster.url).port);
  const proxy = startTcpProxy(port);
  const viaProxy = new URL(cluster.url);
  viaProxy.port = String(proxy.port);
  const db = createPostgresDatabase(viaProxy.toString());
  const writer = createPostgresDatabase(cluster.url, { max: 1 });
  const hub = createHub({ heartbeatMs: 60_000 });
  const got: number[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  hub.subscribe({
    deliver(batch) {
      for (const e of batch.events) if (e.id !== 0) got.push(e.id);
      if (waiter && got.length >= waiter.n) waiter.resolve();
    },
    end() {},
  });
  const received = (n: number) =>
    new Promise<void>((resolve) => {
      if (got.length >= n) resolve();
      else waiter = { n, resolve };
    });
  const errors: string[] = [];
  const liveChanges: boolean[] = [];
  let backLive!: () => void;
  const relive = new Promise<void>((resolve) => (backLive = resolve));
  // Only the LISTEN session goes through the proxy; reads use a direct pool.
  const listener = createNotifyListener({
    db,
    changes: createChangeFeed(writer),
    hub,
    watchdogMs: 300,
    minRetryMs: 50,
    onError: (message) => errors.push(message),
    onLiveChange: (live) => {
      liveChanges.push(live);
      if (liveChanges.length === 3) backLive();
    },
  });
  try {
    await migrate(writer, await readMigrations());
    const writes = createMessageStore(writer);
    await listener.start();
    const { message: first } = await writes.insert({ author: "a", text: "1" });
    await received(1);
    // The listen connection now hears nothing and answers nothing, yet
    // stays open: only the watchdog's ping can tell. Without it the wait
    // below would never end, hence the bound.
    proxy.freeze();
    const missed = [];
    for (let i = 0; i < 3; i++) {
      missed.push((await writes.insert({ author: "b", text: `${i}` })).message);
    }
    await withDeadline(received(4), 10_000, "the missed rows");
    assert.deepEqual(got, [first.id, ...missed.map((m) => m.id)]);
    assert.ok(
      errors.some((e) => /did not answer a ping/.test(e)),
      errors.join(),
    );
    await relive;
    assert.deepEqual(liveChanges, [true, false, true]);
    assert.equal(listener.live, true);
  } finally {
    await listener.close();
    hub.close();
    await writer.close();
    await db.close();
    await proxy.close();
    await cluster.stop();
  }
});

Deno.test("rows this instance committed are published at once when they follow the cursor, and their NOTIFY is then skipped", async () => {
  const message = (id: number): Message => ({
    id,
    author: "ada",
    text: `m${id}`,
    createdAt: "2026-11-27T10:00:00.000Z",
    clientId: null,
  });
  // A database whose LISTEN session delivers only what the test sends.
  let notify: ListenHandlers["onNotify"] = () => {};
  const db: Database = {
    kind: "postgres",
    query: () => Promise.reject(new Error("not used")),
    exec: () => Promise.reject(new Error("not used")),
    transaction: () => Promise.reject(new Error("not used")),
    listen: (_channels, handlers) => {
      notify = handlers.onNotify;
      return Promise.resolve({
        ping: () => Promise.resolve(),
        close: () => Promise.resolve(),
      });
    },
    close: () => Promise.resolve(),
  };
  // Changes 1–5 are stored before the listener starts.
  const unused = () => Promise.reject(new Error("not used"));
  const changes: ChangeFeed = {
    lastSeq: () => Promise.resolve(5),
    after: () => Promise.resolve([]),
    at: unused,
    latest: unused,
  };
  const created = (m: Message) =>
    JSON.stringify({ seq: m.id, kind: "message", id: m.id, message: m });
  const hub = createHub({ heartbeatMs: 60_000 });
  const got: number[] = [];
  hub.subscribe({
    deliver(batch) {
      for (const e of batch.events) if (e.id !== 0) got.push(e.id);
    },
    end() {},
  });
  const told: number[] = [];
  const listener = createNotifyListener({
    db,
    changes,
    hub,
    onPublish: (c: Change) => told.push(c.seq),
  });
  await listener.start();
  const endOfTick = () => new Promise<void>((r) => setTimeout(r, 0));

  listener.committed([message(6), message(7)]);
  await endOfTick();
  assert.deepEqual(got, [6, 7], "published without waiting for NOTIFY");
  notify(CHANGES_CHANNEL, created(message(6)));
  notify(CHANGES_CHANNEL, created(message(7)));
  await endOfTick();
  assert.deepEqual(got, [6, 7], "their NOTIFYs are not published again");

  // 8 is not heard of yet (another instance's reaction, a change like any
  // message): 9 must wait for it.
  listener.committed([message(9)]);
  await endOfTick();
  assert.deepEqual(got, [6, 7]);
  notify(
    CHANGES_CHANNEL,
    JSON.stringify({ seq: 8, kind: "reaction", id: 6, reactions: [] }),
  );
  notify(CHANGES_CHANNEL, created(message(9)));
  await endOfTick();
  assert.deepEqual(got, [6, 7, 8, 9]);
  assert.deepEqual(told, [6, 7, 8, 9], "onPublish hears each once, in order");
  await listener.close();
  hub.close();
});
