// Notification settings per subscription (db/migrations/014): what PATCH
// /push/subscriptions accepts and stores, and what the queue then makes of
// each mode and of a mute.
import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { createHub } from "../live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import type { Database } from "../../db/database.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { DEFAULT_PUSH_SERVICE_HOSTS } from "../config.ts";
import { fanOut } from "./fanout.ts";
import { materialize } from "./materialize.ts";
import type { PushPayload } from "./payload.ts";
import { createPushSubscriptionStore } from "./subscriptions.ts";
import { createVisibilityStore } from "./visibility.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";

type App = ReturnType<typeof createApp>;

const P256DH =
  "BJFdv8MMVorCzkEPImokojPYMDpqr7bI0Mc5920Z15qdP2byt1PXah2pl5kthnoj5XoacTXg-UZfcv8DDazQ3ak";
const AUTH = "AAECAwQFBgcICQoLDA0ODw";
const ENDPOINT = "https://fcm.googleapis.com/fcm/send/settings";

async function withPushApp(fn: (app: App, db: Database) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs: 60_000 });
    const limiter = () =>
      createRateLimiter({ capacity: 1000, perSecond: 1000 });
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(db, hub, {
        push: {
          publicKey: P256DH,
          subscriptions: createPushSubscriptionStore(db),
          visibility: createVisibilityStore(db),
          limiter: limiter(),
          visibilityLimiter: limiter(),
          endpoints: {
            hosts: DEFAULT_PUSH_SERVICE_HOSTS,
            allowInsecure: false,
          },
        },
      }));
      await fn(app, db);
    } finally {
      hub.close();
      await db.close();
    }
  });
}

function patch(body: unknown) {
  return {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function subscribe(app: App, name = "ada") {
  const res = await app.request("/push/subscriptions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      subscription: {
        endpoint: ENDPOINT,
        keys: { p256dh: P256DH, auth: AUTH },
      },
      name,
    }),
  });
  assert.equal(res.status, 201);
  await res.body?.cancel();
}

async function settingsRow(db: Database) {
  const [row] = await db.query<
    { mode: string; muted_until: Date | string | null }
  >("select mode, muted_until from push_subscriptions where endpoint = $1", [
    ENDPOINT,
  ]);
  return row;
}

Deno.test("PATCH /push/subscriptions: sets the mode and a mute, keeps what is not given, unmutes with null", async () => {
  await withPushApp(async (app, db) => {
    await subscribe(app);
    assert.deepEqual(await settingsRow(db), { mode: "all", muted_until: null });
    let res = await app.request(
      "/push/subscriptions",
      patch({ endpoint: ENDPOINT, mode: "mentions" }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { mode: "mentions", mutedUntil: null });
    const until = new Date(Date.now() + 3_600_000);
    res = await app.request(
      "/push/subscriptions",
      patch({ endpoint: ENDPOINT, mutedUntil: until.toISOString() }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      mode: "mentions",
      mutedUntil: until.toISOString(),
    });
    const row = await settingsRow(db);
    assert.equal(row.mode, "mentions");
    assert.equal(new Date(row.muted_until!).getTime(), until.getTime());
    // Subscribing again (a new name) keeps the settings.
    const again = await app.request("/push/subscriptions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        subscription: {
          endpoint: ENDPOINT,
          keys: { p256dh: P256DH, auth: AUTH },
        },
        name: "bob",
      }),
    });
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal((await settingsRow(db)).mode, "mentions");
    res = await app.request(
      "/push/subscriptions",
      patch({ endpoint: ENDPOINT, mutedUntil: null, mode: "none" }),
    );
    assert.deepEqual(await res.json(), { mode: "none", mutedUntil: null });
    assert.deepEqual(await settingsRow(db), {
      mode: "none",
      muted_until: null,
    });
  });
});

Deno.test("PATCH /push/subscriptions: bad bodies are a 400 (404 for an unknown endpoint) and change nothing", async () => {
  await withPushApp(async (app, db) => {
    await subscribe(app);
    const far = new Date(Date.now() + 8 * 24 * 3_600_000).toISOString();
    for (
      const [body, pattern] of [
        ["null", /Body must be an object/],
        [[], /Body must be an object/],
        [{ mode: "all" }, /"endpoint"/],
        [{ endpoint: ENDPOINT }, /Give "mode", "mutedUntil"/],
        [{ endpoint: ENDPOINT, mode: "some" }, /"mode" must be/],
        [{ endpoint: ENDPOINT, mode: null }, /"mode" must be/],
        [{ endpoint: ENDPOINT, mutedUntil: "soon" }, /"mutedUntil"/],
        [{ endpoint: ENDPOINT, mutedUntil: 3_600_000 }, /"mutedUntil"/],
        [{ endpoint: ENDPOINT, mutedUntil: far }, /at most a week/],
        [{ endpoint: ENDPOINT, mode: "none", mutedUntil: "x" }, /mutedUntil/],
        ["{", /JSON/],
      ] as const
    ) {
      const res = await app.request("/push/subscriptions", patch(body));
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify([body, json]));
      assert.match(json.error, pattern);
    }
    const unknown = await app.request(
      "/push/subscriptions",
      patch({ endpoint: ENDPOINT + "x", mode: "none" }),
    );
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const form = await app.request("/push/subscriptions", {
      method: "PATCH",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "mode=none",
    });
    assert.equal(form.status, 415);
    await form.body?.cancel();
    assert.deepEqual(await settingsRow(db), { mode: "all", muted_until: null });
  });
});

async function withDb(fn: (db: Database) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await migrate(db, await readMigrations());
      await fn(db);
    } finally {
      await db.close();
    }
  });
}

async function addSubscriber(
  db: Database,
  name: string,
  mode = "all",
  mutedUntil: Date | null = null,
): Promise<number> {
  const [row] = await db.query<{ id: number | string }>(
    `insert into push_subscriptions
       (endpoint, p256dh, auth, name, mode, muted_until)
     values ($1, 'k', 'a', $2, $3, $4) returning id`,
    [`https://push.example.net/${crypto.randomUUID()}`, name, mode, mutedUntil],
  );
  return Number(row.id);
}

/** Claims `name` and posts under it (a verified message); its id. */
async function postVerified(
  db: Database,
  name: string,
  text: string,
  replyTo: number | null = null,
): Promise<number> {
  const [claim] = await db.query<{ id: number | string }>(
    `insert into names (key, name, token_hash) values ($1, $2, $3)
     on conflict (key) do update set name = excluded.name returning id`,
    [
      name.toLowerCase(),
      name,
      crypto.randomUUID().replaceAll("-", "").repeat(2),
    ],
  );
  return await postAs(db, name, text, Number(claim.id), replyTo);
}

async function postAs(
  db: Database,
  author: string,
  text: string,
  nameId: number | null = null,
  replyTo: number | null = null,
): Promise<number> {
  const [row] = await db.query<{ id: number | string }>(
    `insert into messages (author, text, name_id, reply_to)
     values ($1, $2, $3, $4) returning id`,
    [author, text, nameId, replyTo],
  );
  return Number(row.id);
}

/** Runs the queue's first two steps and gives the notifications made, by subscription id. */
async function runQueue(db: Database) {
  await fanOut(db, 100);
  await materialize(db, 0, 100);
  const rows = await db.query<
    { subscription_id: number | string; payload: string }
  >(
    "select subscription_id, payload from push_deliveries",
  );
  await db.query("delete from push_deliveries");
  // Due again at once: the interval is not what these tests are about.
  await db.query("update push_subscriptions set last_notified_at = null");
  return new Map(rows.map((r) => [
    Number(r.subscription_id),
    JSON.parse(r.payload) as PushPayload,
  ]));
}

Deno.test("mode 'mentions': told of a mention and of a reply to the subscriber's verified message, not of a plain message", async () => {
  await withDb(async (db) => {
    const ada = await addSubscriber(db, "ada", "mentions");
    const all = await addSubscriber(db, "carol");
    const own = await postVerified(db, "ada", "my question");
    await runQueue(db);
    // A plain message: the 'all' subscriber is told, ada is not.
    await postAs(db, "bob", "just chatting");
    let told = await runQueue(db);
    assert.deepEqual([...told.keys()], [all]);
    // A mention.
    const mention = await postAs(db, "bob", "@ada look");
    told = await runQueue(db);
    assert.equal(told.get(ada)?.messageId, mention);
    assert.equal(told.get(ada)?.body, "bob: @ada look");
    // A reply to her verified message, without a mention.
    const reply = await postAs(db, "dan", "an answer", null, own);
    told = await runQueue(db);
    assert.equal(told.get(ada)?.messageId, reply);
    assert.equal(told.get(ada)?.body, "dan: an answer");
    // A reply to a message that only says it is by ada (unverified) is not hers.
    const fake = await postAs(db, "ada", "not really ada");
    await runQueue(db);
    await postAs(db, "dan", "answering the impostor", null, fake);
    told = await runQueue(db);
    assert.equal(told.has(ada), false);
    assert.equal(told.has(all), true);
  });
});

Deno.test("mode 'none' tells nothing, mentions included, and keeps the subscription", async () => {
  await withDb(async (db) => {
    const ada = await addSubscriber(db, "ada", "none");
    await postAs(db, "bob", "hello");
    await postAs(db, "bob", "@ada hello");
    assert.equal((await runQueue(db)).has(ada), false);
    const [row] = await db.query<{ n: number }>(
      "select count(*)::int as n from push_subscriptions where id = $1",
      [ada],
    );
    assert.equal(row.n, 1);
  });
});

Deno.test("a muted subscriber is told nothing during the mute, nor afterwards of what came then", async () => {
  await withDb(async (db) => {
    const ada = await addSubscriber(
      db,
      "ada",
      "all",
      new Date(Date.now() + 3_600_000),
    );
    await postAs(db, "bob", "during the mute");
    await postAs(db, "bob", "@ada during the mute");
    assert.equal((await runQueue(db)).has(ada), false);
    // The mute ends: what came during it stays untold.
    await db.query(
      "update push_subscriptions set muted_until = now() - interval '1 second'",
    );
    assert.equal((await runQueue(db)).has(ada), false);
    const after = await postAs(db, "bob", "after the mute");
    const told = await runQueue(db);
    assert.equal(told.get(ada)?.messageId, after);
    assert.equal(told.get(ada)?.body, "bob: after the mute");
  });
});
