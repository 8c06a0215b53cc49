// The queue's own rules, and its central promise under contention: with
// several dispatchers on one database, every message reaches every other
// subscriber exactly once (counted through the notifications' texts).
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { createPushDispatcher } from "./dispatcher.ts";
import type { PushPayload } from "./payload.ts";
import { fanOut, mentionKeys } from "./fanout.ts";
import { materialize, nextPendingMs, waitingCount } from "./materialize.ts";
import { claimDeliveries, retryDelivery } from "./queue.ts";
import type { PushSender } from "./send.ts";
import { createVisibilityStore } from "./visibility.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { until, withDeadline } from "../../test/harness/wait.ts";

async function withDb(fn: (db: Database, url: string) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await migrate(db, await readMigrations());
      await fn(db, url);
    } finally {
      await db.close();
    }
  });
}

async function addSubscriber(db: Database, name: string): Promise<number> {
  const [row] = await db.query<{ id: number | string }>(
    `insert into push_subscriptions (endpoint, p256dh, auth, name)
     values ($1, 'k', 'a', $2) returning id`,
    [`https://push.example.net/${crypto.randomUUID()}`, name],
  );
  return Number(row.id);
}

/** Stores a message as verified (name_id set), so that it is its author's own. */
async function post(db: Database, author: string, text: string) {
  await db.query(
    "insert into messages (author, text, name_id) values ($1, $2, 1)",
    [author, text],
  );
}

/** Posts a message nobody verified (anyone may type any author). */
async function postUnverified(db: Database, author: string, text: string) {
  await db.query("insert into messages (author, text) values ($1, $2)", [
    author,
    text,
  ]);
}

/** The notifications made so far, by subscription id. */
async function made(db: Database) {
  const rows = await db.query<
    { subscription_id: number | string; payload: string; urgency: string }
  >("select subscription_id, payload, urgency from push_deliveries");
  return new Map(rows.map((r) => [Number(r.subscription_id), {
    ...(JSON.parse(r.payload) as PushPayload),
    urgency: r.urgency,
  }]));
}

Deno.test("mentionKeys: every name an @ could mention, none inside a word", () => {
  assert.deepEqual(
    mentionKeys("hi @Bob!"),
    ["bob", "bob!"],
  );
  assert.deepEqual(mentionKeys("mail me at x@bob.example"), []);
  // Names may hold spaces: each run that ends before a non-word character.
  assert.deepEqual(mentionKeys("@Ada Lovelace, look"), [
    "ada",
    "ada lovelace",
    "ada lovelace,",
    "ada lovelace, look",
  ]);
});

Deno.test("the summary: own messages left out, authors in order, the latest mention kept", async () => {
  await withDb(async (db) => {
    const ada = await addSubscriber(db, "ada");
    const bob = await addSubscriber(db, "bob");
    const carol = await addSubscriber(db, "carol");
    await post(db, "ada", "hi @bob");
    await post(db, "bob", "hey");
    await post(db, "ada", "mail me at x@bob.example");
    await postUnverified(db, "dan", `@BOB ${"long ".repeat(40)}`);
    const [{ first }] = await db.query<{ first: number | string }>(
      "select min(id) as first from messages",
    );
    const id = (k: number) => Number(first) + k;
    assert.equal((await fanOut(db, 100)).consumed, 4);
    assert.equal((await materialize(db, 0, 100)).created, 3);
    const byId = await made(db);
    assert.deepEqual(byId.get(ada), {
      title: "Plaza",
      body: "2 new messages from bob, dan",
      tag: "plaza",
      url: `/m/${id(1)}`,
      messageId: id(1),
      urgency: "normal",
    });
    // "x@bob.example" is not a mention; the latest real one wins.
    const toBob = byId.get(bob)!;
    assert.equal(toBob.messageId, id(3));
    assert.equal(toBob.urgency, "high");
    assert.match(toBob.body, /^dan: @BOB long long .*… \(\+2 more\)$/);
    assert.ok(Array.from(toBob.body).length <= 120 + 20);
    assert.equal(byId.get(carol)?.body, "4 new messages from ada, bob, dan");
    assert.equal(byId.get(carol)?.messageId, id(0));
    // Nothing new for someone who wrote everything since.
    await db.query("delete from push_deliveries");
    await post(db, "ada", "just me");
    await db.query(
      "update push_subscriptions set last_notified_at = null where id <> $1",
      [ada],
    );
    await fanOut(db, 100);
    await materialize(db, 0, 100);
    assert.deepEqual([...(await made(db)).keys()].sort(), [bob, carol].sort());
  });
});

Deno.test("the summary: a message is a subscriber's own only when verified, whatever the name's case", async () => {
  await withDb(async (db) => {
    const ada = await addSubscriber(db, "ada");
    await post(db, "Ada", "me, verified");
    await postUnverified(db, "ada", "@ada I am ada too");
    await fanOut(db, 100);
    assert.equal((await materialize(db, 0, 100)).created, 1);
    // The impostor's message is told, mention included; the verified one not.
    const told = (await made(db)).get(ada)!;
    assert.equal(told.body, "ada: @ada I am ada too");
    assert.equal(told.urgency, "high");
  });
});

Deno.test("a subscriber whose tab shows the room is not told of what it shows, then or after; one whose report ran out is", async () => {
  await withDb(async (db) => {
    const looking = await addSubscriber(db, "looking");
    const away = await addSubscriber(db, "away");
    await db.query(
      `insert into push_visibility (subscription_id, tab, expires_at)
       values ($1, 'a', now() + interval '1 minute'),
              ($2, 'b', now() - interval '1 second')`,
      [looking, away],
    );
    await post(db, "ada", "first");
    assert.deepEqual(await fanOut(db, 100), {
      consumed: 1,
      anySubscriber: true,
    });
    // The expired row does not count: "away" is not looking.
    assert.deepEqual(await materialize(db, 60_000, 100), {
      created: 1,
      dropped: 1,
      woken: 2,
      more: false,
    });
    assert.deepEqual([...(await made(db)).keys()], [away]);
    // Held back while the tab's report counts: more messages cost nothing.
    await post(db, "ada", "second, @looking");
    await fanOut(db, 100);
    // away now waits for its minute; looking's mention is dropped.
    assert.deepEqual(await materialize(db, 60_000, 100), {
      created: 0,
      dropped: 1,
      woken: 1,
      more: false,
    });
    // The tab vanishes without a word: what it showed stays told.
    await db.query("delete from push_visibility");
    await db.query("update push_subscriptions set quiet_from = null");
    assert.deepEqual(await materialize(db, 60_000, 100), {
      created: 0,
      dropped: 1,
      woken: 0,
      more: false,
    });
    assert.equal(await waitingCount(db), 1, "only away, within its minute");
    const visibility = createVisibilityStore(db);
    await db.query(
      `insert into push_visibility (subscription_id, tab, expires_at)
       values ($1, 'a', now() - interval '1 second')`,
      [looking],
    );
    assert.equal(await visibility.prune(), 1);
  });
});

Deno.test("a tab's visibility report moves its subscriber past what the room shows, mentions included", async () => {
  await withDb(async (db) => {
    const carol = await addSubscriber(db, "carol");
    const [{ endpoint }] = await db.query<{ endpoint: string }>(
      "select endpoint from push_subscriptions where id = $1",
      [carol],
    );
    await post(db, "ada", "@carol seen in the room");
    await fanOut(db, 100);
    const visibility = createVisibilityStore(db);
    assert.equal(
      await visibility.set({ endpoint, tab: "t", visible: true }),
      true,
    );
    assert.equal(await waitingCount(db), 0);
    await post(db, "ada", "seen too");
    assert.equal(
      await visibility.set({ endpoint, tab: "t", visible: false }),
      true,
    );
    await post(db, "ada", "after the tab was hidden");
    await fanOut(db, 100);
    assert.equal((await materialize(db, 60_000, 100)).created, 1);
    assert.equal(
      (await made(db)).get(carol)?.body,
      "ada: after the tab was hidden",
    );
  });
});

Deno.test("a fan-out while another instance holds the cursor skips instead of waiting", async () => {
  await withDb(async (db, url) => {
    await addSubscriber(db, "carol");
    await post(db, "ada", "hello");
    const other = createPostgresDatabase(url, { max: 1 });
    try {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = other.transaction(async (tx) => {
        await tx.query("select * from push_cursor for update");
        locked();
        await held;
      });
      await isLocked;
      assert.deepEqual(await fanOut(db, 100), {
        consumed: null,
        anySubscriber: true,
      });
      release();
      await holder;
      assert.equal((await fanOut(db, 100)).consumed, 1);
    } finally {
      await other.close();
    }
  });
});

Deno.test("a sender whose lease ran out cannot reschedule a delivery another sender now holds", async () => {
  await withDb(async (db) => {
    await addSubscriber(db, "carol");
    await post(db, "ada", "hello");
    await fanOut(db, 100);
    assert.equal((await materialize(db, 0, 100)).created, 1);
    const [stale] = await claimDeliveries(db, 10, 60_000);
    assert.equal(stale.attempts, 1);
    // The first sender stalls past its lease; a second one takes over.
    await db.query(
      "update push_deliveries set next_attempt_at = now() - interval '1 second'",
    );
    const [current] = await claimDeliveries(db, 10, 60_000);
    assert.equal(current.id, stale.id);
    assert.equal(current.attempts, 2);
    // The first one's late 5xx must not cut the second one's lease short:
    // that would let a third sender claim it while the second still sends.
    await retryDelivery(db, stale, 0);
    assert.deepEqual(await claimDeliveries(db, 10, 60_000), []);
    const leftMs = async () => {
      const [row] = await db.query<{ ms: number }>(
        `select extract(epoch from next_attempt_at - now())::float8 * 1000 as ms
         from push_deliveries`,
      );
      return row.ms;
    };
    assert.ok(await leftMs() > 50_000);
    // The holder's own retry does apply.
    await retryDelivery(db, current, 5_000);
    const left = await leftMs();
    assert.ok(left > 3_000 && left <= 5_000, String(left));
  });
});

/** How many messages a notification stands for, read back from its text. */
function countOf(payload: PushPayload): number {
  const collapsed = payload.body.match(/^(\d+) new messages from /);
  if (collapsed) return Number(collapsed[1]);
  const more = payload.body.match(/ \(\+(\d+) more\)$/);
  return more ? Number(more[1]) + 1 : 1;
}

Deno.test("four dispatchers on one database: every message reaches every other subscriber exactly once", async () => {
  await withDb(async (db, url) => {
    const names = ["ada", "bob", "carol", "dan", "erin"];
    const ids = new Map<number, string>();
    for (const name of names) ids.set(await addSubscriber(db, name), name);
    const connections = [1, 2, 3, 4].map(() =>
      createPostgresDatabase(url, { max: 3 })
    );
    const counted = new Map<string, number>();
    let sends = 0;
    const senders = new Set<number>();
    const sender = (instance: number): PushSender => ({
      send(target, message) {
        sends++;
        senders.add(instance);
        const name = names.find((n) => target.endpoint.endsWith(n)) ?? "";
        const payload = JSON.parse(message.payload) as PushPayload;
        counted.set(name, (counted.get(name) ?? 0) + countOf(payload));
        // Now and then a push service hiccups: retried, never doubled.
        if ((sends + instance) % 7 === 0) {
          counted.set(name, (counted.get(name) ?? 0) - countOf(payload));
          return Promise.resolve({
            kind: "retry",
            status: 503,
            retryAfterMs: null,
            reason: "busy",
          });
        }
        return Promise.resolve({ kind: "sent", status: 201 });
      },
    });
    // Endpoints that say whose they are, for the fake sender.
    for (const [id, name] of ids) {
      await db.query(
        "update push_subscriptions set endpoint = $2 where id = $1",
        [
          id,
          `https://push.example.net/${name}`,
        ],
      );
    }
    const dispatchers = connections.map((c, i) =>
      createPushDispatcher({
        db: c,
        sender: sender(i),
        visibility: createVisibilityStore(c),
        // Every notification is due at once: the most contention.
        intervalMs: 0,
        retryMs: 5,
        maxAttempts: 100,
        sendTimeoutMs: 1_000,
        idleMs: 20,
        batchSize: 7,
      })
    );
    try {
      for (const d of dispatchers) d.start();
      const expected = new Map(names.map((n) => [n, 0]));
      for (let k = 0; k < 120; k++) {
        const author = names[k % 3] === "carol" ? "zed" : names[k % 3];
        await post(db, author, `message ${k}${k % 10 === 0 ? " @erin" : ""}`);
        for (const n of names) {
          if (n !== author) expected.set(n, expected.get(n)! + 1);
        }
        for (const d of dispatchers) d.wake();
      }
      const [{ max }] = await db.query<{ max: number | string }>(
        "select max(id) as max from messages",
      );
      await until(async () => {
        const [s] = await db.query<{ ok: boolean }>(
          `select (select message_id from push_cursor) >= $1
             and not exists (select 1 from push_deliveries) as ok`,
          [Number(max)],
        );
        return s.ok && await waitingCount(db) === 0;
      }, { timeoutMs: 20_000, intervalMs: 20, what: "the queue to drain" });
      assert.deepEqual(
        Object.fromEntries(names.map((n) => [n, counted.get(n) ?? 0])),
        Object.fromEntries(expected),
      );
      // The work was shared, not done by one dispatcher while the rest idled.
      assert.ok(senders.size >= 2, `senders: ${[...senders]}`);
    } finally {
      await Promise.all(dispatchers.map((d) => d.close()));
      await Promise.all(connections.map((c) => c.close()));
    }
  });
});

Deno.test("a dispatcher that stops mid-send leaves the notification due at once for another instance", async () => {
  await withDb(async (db, url) => {
    await addSubscriber(db, "carol");
    const other = createPostgresDatabase(url, { max: 2 });
    let started = () => {};
    const sending = new Promise<void>((resolve) => (started = resolve));
    // Hangs until the dispatcher is closed, like a push service that stalls.
    const stalling: PushSender = {
      send: (_target, _message, signal) =>
        new Promise((resolve) => {
          started();
          signal?.addEventListener("abort", () =>
            resolve({
              kind: "retry",
              status: null,
              retryAfterMs: null,
              reason: "stopped",
            }));
        }),
    };
    const delivered: string[] = [];
    let deliveredOne = () => {};
    const firstDelivery = new Promise<void>((r) => (deliveredOne = r));
    const options = {
      visibility: createVisibilityStore(db),
      intervalMs: 60_000,
      retryMs: 60_000,
      maxAttempts: 5,
      sendTimeoutMs: 60_000,
      idleMs: 20,
    };
    const first = createPushDispatcher({ ...options, db, sender: stalling });
    const second = createPushDispatcher({
      ...options,
      db: other,
      sender: {
        send(_target, message) {
          delivered.push(JSON.parse(message.payload).body);
          deliveredOne();
          return Promise.resolve({ kind: "sent", status: 201 });
        },
      },
    });
    try {
      first.start();
      await post(db, "ada", "are you there?");
      first.wake();
      await sending;
      await first.close();
      // Its lease would have lasted two minutes; stopping gave it back.
      const [row] = await db.query<{ due: boolean }>(
        "select next_attempt_at <= now() as due from push_deliveries",
      );
      assert.equal(row.due, true);
      second.start();
      await withDeadline(
        firstDelivery,
        10_000,
        "a send by the second dispatcher",
      );
      assert.deepEqual(delivered, ["ada: are you there?"]);
    } finally {
      await first.close();
      await second.close();
      await other.close();
    }
  });
});

Deno.test("the interval between notifications counts from when one was sent: a notification retried for minutes is not followed by another at once", async () => {
  await withDb(async (db) => {
    await addSubscriber(db, "carol");
    let answer = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let firstSent = () => {};
    const sending = new Promise<void>((resolve) => (firstSent = resolve));
    const delivered: string[] = [];
    let calls = 0;
    const sender: PushSender = {
      async send(_target, message) {
        if (++calls === 1) {
          // The push service keeps this one waiting, then answers 503.
          firstSent();
          await answered;
          return {
            kind: "retry",
            status: 503,
            retryAfterMs: null,
            reason: "busy",
          };
        }
        delivered.push(JSON.parse(message.payload).body);
        return { kind: "sent", status: 201 };
      },
    };
    const dispatcher = createPushDispatcher({
      db,
      sender,
      visibility: createVisibilityStore(db),
      intervalMs: 60_000,
      retryMs: 5,
      maxAttempts: 5,
      sendTimeoutMs: 1_000,
      idleMs: 20,
    });
    const count = async (table: string) =>
      (await db.query<{ n: number }>(
        `select count(*)::int as n from ${table}`,
      ))[0].n;
    try {
      dispatcher.start();
      await post(db, "ada", "one");
      dispatcher.wake();
      await sending;
      // Two minutes go by before the notification finally goes out.
      await db.query(
        "update push_subscriptions set last_notified_at = now() - interval '2 minutes'",
      );
      answer();
      await until(
        async () =>
          delivered.length === 1 && await count("push_deliveries") === 0,
        { intervalMs: 20, what: "the retried notification to be sent" },
      );
      await post(db, "bob", "two");
      dispatcher.wake();
      await until(
        async () => delivered.length > 1 || await waitingCount(db) === 1,
        { intervalMs: 20, what: "bob's message to be queued" },
      );
      assert.deepEqual(delivered, ["ada: one"]);
      // It waits a whole interval from the send.
      const next = await nextPendingMs(db, 60_000);
      assert.ok(next !== null && next > 50_000, String(next));
    } finally {
      await dispatcher.close();
    }
  });
});

Deno.test("close() does not wait for a backlog to be folded in: it stops after the transaction under way and leaves the rest to the queue", async () => {
  await withDb(async (db) => {
    await addSubscriber(db, "carol");
    await db.query(
      `insert into messages (author, text)
       select 'ada', 'message ' || g from generate_series(1, 2000) g`,
    );
    const dispatcher = createPushDispatcher({
      db,
      sender: {
        send: () => Promise.resolve({ kind: "sent", status: 201 }),
      },
      visibility: createVisibilityStore(db),
      intervalMs: 60_000,
      retryMs: 5,
      maxAttempts: 5,
      sendTimeoutMs: 1_000,
      idleMs: 20,
      // One message per fan-out transaction: 2000 transactions to catch up.
      batchSize: 1,
    });
    dispatcher.start();
    dispatcher.wake();
    await dispatcher.close();
    const [row] = await db.query<{ behind: number }>(
      `select ((select max(id) from messages) -
               (select message_id from push_cursor))::int as behind`,
    );
    assert.ok(row.behind > 1_000, `cursor ${row.behind} behind`);
  });
});

Deno.test("a message a moderator deleted before its notification was made is not quoted in it", async () => {
  await withDb(async (db) => {
    await addSubscriber(db, "carol");
    const deliveries = () =>
      db.query<{ payload: string; urgency: string }>(
        "select payload, urgency from push_deliveries",
      );
    // Alone: nothing left to tell.
    await post(db, "troll", "something nasty");
    await fanOut(db, 100);
    await db.query("delete from messages where author = 'troll'");
    assert.deepEqual(await materialize(db, 0, 100), {
      created: 0,
      dropped: 0,
      woken: 0,
      more: false,
    });
    assert.equal((await deliveries()).length, 0);
    // A deleted mention among others: not quoted, not counted, not urgent
    // (the summary is read from the messages, where it is gone).
    await post(db, "ada", "hi");
    await post(db, "troll", "@carol something nasty");
    await fanOut(db, 100);
    await db.query("delete from messages where author = 'troll'");
    assert.equal((await materialize(db, 0, 100)).created, 1);
    const [made] = await deliveries();
    assert.equal((JSON.parse(made.payload) as PushPayload).body, "ada: hi");
    assert.equal(made.urgency, "normal");
  });
});

Deno.test("close() waits for every send of a batch, even after one of them failed", async () => {
  await withDb(async (db) => {
    await addSubscriber(db, "a");
    await addSubscriber(db, "b");
    await db.query(
      "update push_subscriptions set endpoint = 'https://push.example.net/' || name",
    );
    let aCalled = () => {};
    const aFailed = new Promise<void>((resolve) => (aCalled = resolve));
    let bCalled = () => {};
    const bStarted = new Promise<void>((resolve) => (bCalled = resolve));
    let bDone = false;
    const sender: PushSender = {
      send(target, _message, signal) {
        if (target.endpoint.endsWith("/a")) {
          aCalled();
          // Anything on one delivery's path that throws (here the sender,
          // in real life the database while recording the outcome).
          return Promise.reject(new Error("boom"));
        }
        bCalled();
        return new Promise((resolve) => {
          signal?.addEventListener("abort", () => {
            // A push service that takes a moment to let go.
            setTimeout(() => {
              bDone = true;
              resolve({
                kind: "retry",
                status: null,
                retryAfterMs: null,
                reason: "stopped",
              });
            }, 50);
          });
        });
      },
    };
    const dispatcher = createPushDispatcher({
      db,
      sender,
      visibility: createVisibilityStore(db),
      intervalMs: 0,
      retryMs: 5,
      maxAttempts: 5,
      sendTimeoutMs: 60_000,
      idleMs: 20,
    });
    try {
      dispatcher.start();
      await post(db, "zed", "hello");
      dispatcher.wake();
      await Promise.all([aFailed, bStarted]);
    } finally {
      await dispatcher.close();
    }
    assert.equal(bDone, true);
  });
});
