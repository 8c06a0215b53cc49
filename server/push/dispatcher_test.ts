// Web Push end to end: real instances (two on one Postgres, or one on
// PGlite) notify subscriptions made by the test push service, which checks
// every VAPID signature and decrypts every payload. Waits are on events (a
// notification arriving) or on database state, never on the clock: the
// "one per minute" window is 60 s here, and the tests make the minute pass
// by moving last_notified_at back.
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Plaza } from "../plaza.ts";
import { createPushDispatcher, retryDelayMs } from "./dispatcher.ts";
import { runPushCron } from "./cron.ts";
import { createVisibilityStore } from "./visibility.ts";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { parseRetryAfter } from "./send.ts";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../../test/harness/fixtures.ts";
import {
  type ReceivedNotification,
  startTestPushService,
  type TestPushService,
  type TestSubscription,
} from "../../test/harness/push_service.ts";
import { until } from "../../test/harness/wait.ts";

const PUSH_ENV = {
  PUSH_ALLOW_INSECURE_ENDPOINTS: "true",
  PUSH_INTERVAL_MS: "60000",
  PUSH_RETRY_MS: "20",
  PUSH_POLL_MS: "50",
};

type Sql = postgres.Sql;

async function subscribe(
  baseUrl: string,
  sub: TestSubscription,
  name: string,
): Promise<void> {
  const res = await fetch(`${baseUrl}/push/subscriptions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      subscription: { endpoint: sub.endpoint, keys: sub.keys },
      name,
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

async function reportVisible(
  baseUrl: string,
  sub: TestSubscription,
  tab: string,
  visible: boolean,
): Promise<void> {
  const res = await fetch(`${baseUrl}/push/visibility`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ endpoint: sub.endpoint, tab, visible }),
  });
  assert.equal(res.status, 204, await res.text());
}

// Subscribers owed a notification: messages past their cursor that are
// not their own (as server/push/materialize.ts counts them), and no tab
// showing the room (there they are seen, and the cursor moves past them).
const WAITING = `(select count(*) from push_subscriptions s
  where not exists (
    select 1 from push_visibility v
    where v.subscription_id = s.id and v.expires_at > now())
  and exists (
    select 1 from messages m
    where m.id > s.notified_through
      and m.id <= (select message_id from push_cursor)
      and not (m.name_id is not null and (lower(m.author) = s.name_key
        or exists (select 1 from names n
                   where n.id = m.name_id and n.key = s.name_key)))))`;

async function queueState(sql: Sql) {
  const [row] = await sql<
    { cursor: string; pending: number; deliveries: number }[]
  >`select (select message_id from push_cursor)::text as cursor,
           ${sql.unsafe(WAITING)}::int as pending,
           (select count(*) from push_deliveries)::int as deliveries`;
  return {
    cursor: Number(row.cursor),
    pending: row.pending,
    deliveries: row.deliveries,
  };
}

/** Every message up to `lastId` is folded in, nothing waits and nothing is in flight. */
function drained(sql: Sql, lastId: number): Promise<void> {
  return until(async () => {
    const s = await queueState(sql);
    return s.cursor >= lastId && s.pending === 0 && s.deliveries === 0;
  }, {
    intervalMs: 20,
    what: `the push queue to drain up to message ${lastId}`,
  });
}

function bodies(service: TestPushService, sub: TestSubscription): unknown[] {
  return service.receivedBy(sub.endpoint).map((r) => r.payload);
}

function payloadFor(id: number, body: string) {
  return {
    title: "Plaza",
    body,
    tag: "plaza",
    url: `/m/${id}`,
    messageId: id,
  };
}

async function withTwoInstances(
  fn: (a: Plaza, b: Plaza, service: TestPushService, sql: Sql) => Promise<void>,
) {
  await withTestDatabase(async (url) => {
    const service = startTestPushService();
    const instances = await Promise.all([
      startTestInstance(url, PUSH_ENV),
      startTestInstance(url, PUSH_ENV),
    ]);
    const sql = postgres(url, { onnotice: () => {} });
    try {
      await fn(instances[0], instances[1], service, sql);
      assert.deepEqual(
        service.rejected.filter((r) => !r.reason.startsWith("scripted")),
        [],
      );
    } finally {
      await Promise.all(instances.map((i) => i.close()));
      await sql.end({ timeout: 1 });
      await service.close();
    }
  });
}

Deno.test("two instances: each eligible subscriber gets exactly one notification per batch, with the right text; the author and a visible subscriber get none", async () => {
  await withTwoInstances(async (a, b, service, sql) => {
    const carol = await service.subscribe();
    const dave = await service.subscribe();
    const erin = await service.subscribe();
    const ada = await service.subscribe();
    await subscribe(a.url, carol, "carol");
    await subscribe(b.url, dave, "dave");
    await subscribe(a.url, erin, "erin");
    await subscribe(b.url, ada, "ada");
    // erin has Plaza open in a tab (reported to the other instance).
    await reportVisible(b.url, erin, "tab-1", true);
    // ada's messages are her own (not notified to her) because she posts
    // with her claimed name's token.
    const adaToken = await claimName(b.url, "ada");

    const hello = await postJson(a.url, "ada", "hello", { token: adaToken });
    await service.waitFor(
      () =>
        bodies(service, carol).length === 1 &&
        bodies(service, dave).length === 1,
      "carol's and dave's first notification",
    );
    assert.deepEqual(bodies(service, carol), [
      payloadFor(hello.id, "ada: hello"),
    ]);
    assert.deepEqual(bodies(service, dave), [
      payloadFor(hello.id, "ada: hello"),
    ]);
    const [first] = service.receivedBy(carol.endpoint);
    assert.equal(first.topic, "plaza");
    assert.equal(first.urgency, "normal");
    assert.equal(first.ttl, "86400");

    // A burst within the minute, through both instances.
    const burst = [
      await postJson(a.url, "ada", "one", { token: adaToken }),
      await postJson(b.url, "bob", "two, to nobody in particular"),
      await postJson(a.url, "ada", "three", { token: adaToken }),
    ];
    // ada was never notified: bob's message (her only one from someone
    // else) goes to her at once.
    await service.waitForCount(1, ada.endpoint);
    assert.deepEqual(bodies(service, ada), [
      payloadFor(burst[1].id, "bob: two, to nobody in particular"),
    ]);
    // carol and dave: folded into one pending row each, not sent yet.
    await until(async () => {
      const s = await queueState(sql);
      return s.cursor >= burst[2].id && s.pending === 2 && s.deliveries === 0;
    }, { intervalMs: 20, what: "the burst to wait for carol and dave" });
    assert.equal(bodies(service, carol).length, 1);

    // The minute passes, as far as the queue can tell.
    await sql`update push_subscriptions set last_notified_at = now() - interval '2 minutes'`;
    await service.waitFor(
      () =>
        bodies(service, carol).length === 2 &&
        bodies(service, dave).length === 2,
      "the collapsed notifications",
    );
    const collapsed = payloadFor(burst[0].id, "3 new messages from ada, bob");
    assert.deepEqual(bodies(service, carol)[1], collapsed);
    assert.deepEqual(bodies(service, dave)[1], collapsed);

    await drained(sql, burst[2].id);
    assert.equal(bodies(service, carol).length, 2);
    assert.equal(bodies(service, dave).length, 2);
    assert.equal(bodies(service, ada).length, 1);
    assert.equal(bodies(service, erin).length, 0);
    // Every notification, whichever instance sent it, was signed with the
    // one key both instances hand out.
    const keys = await Promise.all(
      [a, b].map(async (i) =>
        (await (await fetch(`${i.url}/push/key`)).json()).publicKey
      ),
    );
    assert.equal(keys[0], keys[1]);
    assert.deepEqual(
      [
        ...new Set(
          service.received.map((r: ReceivedNotification) => r.vapidKey),
        ),
      ],
      [keys[0]],
    );
  });
});

Deno.test("a mention is sent at once, even within the minute; then the subscriber stops being visible and is notified again", async () => {
  await withTwoInstances(async (a, b, service, sql) => {
    const carol = await service.subscribe();
    await subscribe(a.url, carol, "Carol");
    const hi = await postJson(a.url, "ada", "hi");
    await service.waitForCount(1, carol.endpoint);
    const plain = await postJson(b.url, "bob", "anyone around?");
    await until(async () => {
      const s = await queueState(sql);
      return s.cursor >= plain.id && s.pending === 1;
    }, { intervalMs: 20, what: "bob's message to wait for the minute" });
    const mention = await postJson(b.url, "ada", "@carol look at this");
    await service.waitForCount(2, carol.endpoint);
    assert.deepEqual(bodies(service, carol), [
      payloadFor(hi.id, "ada: hi"),
      payloadFor(mention.id, "ada: @carol look at this (+1 more)"),
    ]);
    assert.equal(service.receivedBy(carol.endpoint)[1].urgency, "high");
    await drained(sql, mention.id);

    // Looking at the room: nothing, mentions included. Then the tab is hidden.
    await reportVisible(a.url, carol, "t", true);
    const seen = await postJson(a.url, "ada", "@carol you are here");
    await until(
      async () => (await queueState(sql)).cursor >= seen.id,
      { intervalMs: 20, what: "the cursor to pass" },
    );
    await reportVisible(b.url, carol, "t", false);
    const after = await postJson(a.url, "ada", "@carol and now?");
    await service.waitForCount(3, carol.endpoint);
    assert.deepEqual(
      bodies(service, carol)[2],
      payloadFor(after.id, "ada: @carol and now?"),
    );
    await drained(sql, after.id);
    assert.equal(bodies(service, carol).length, 3);
  });
});

Deno.test("410 from the push service removes the subscription; 500 is retried with backoff and delivered once", async () => {
  await withTwoInstances(async (a, b, service, sql) => {
    const gone = await service.subscribe();
    const flaky = await service.subscribe();
    await subscribe(a.url, gone, "gone");
    await subscribe(b.url, flaky, "flaky");
    service.answer(gone.endpoint, { status: 410 });
    service.answer(flaky.endpoint, { status: 500, times: 2 });
    const m = await postJson(a.url, "ada", "are you there?");
    await service.waitForCount(1, flaky.endpoint);
    assert.equal(service.attempts(flaky.endpoint), 3);
    assert.deepEqual(bodies(service, flaky), [
      payloadFor(m.id, "ada: are you there?"),
    ]);
    await until(async () => {
      const [row] =
        await sql`select count(*)::int as n from push_subscriptions where endpoint = ${gone.endpoint}`;
      return row.n === 0;
    }, { intervalMs: 20, what: "the gone subscription to be deleted" });
    assert.equal(service.attempts(gone.endpoint), 1);
    await drained(sql, m.id);
    assert.equal(service.receivedBy(flaky.endpoint).length, 1);
    const res = await fetch(`${b.url}/push/subscriptions`, {
      method: "DELETE",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ endpoint: gone.endpoint }),
    });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("a subscription the push service refuses three times in a row is removed; one that gets through again is kept", async () => {
  await withTwoInstances(async (a, b, service, sql) => {
    const junk = await service.subscribe();
    const shaky = await service.subscribe();
    await subscribe(a.url, junk, "junk");
    await subscribe(b.url, shaky, "shaky");
    service.answer(junk.endpoint, { status: 400 });
    service.answer(shaky.endpoint, { status: 403, times: 2 });
    const refusals = async (endpoint: string) => {
      const [row] = await sql<{ n: number | null }[]>`
        select (select refusals from push_subscriptions
                where endpoint = ${endpoint}) as n`;
      return row.n;
    };
    // One message at a time, each notified on its own (the minute made to
    // pass before each).
    for (let round = 1; round <= 3; round++) {
      await sql`update push_subscriptions
                set last_notified_at = now() - interval '1 hour'`;
      const m = await postJson(a.url, "ada", `round ${round}`);
      await drained(sql, m.id);
    }
    assert.equal(service.attempts(junk.endpoint), 3);
    // The third refusal deletes the delivery before it counts the refusal
    // and removes the subscription: drained() can see the queue empty first.
    await until(async () => await refusals(junk.endpoint) === null, {
      intervalMs: 20,
      what: "the junk subscription to be removed",
    });
    assert.equal(service.attempts(shaky.endpoint), 3);
    assert.equal(service.receivedBy(shaky.endpoint).length, 1);
    assert.equal(await refusals(shaky.endpoint), 0, "kept, count reset");
  });
});

Deno.test("a stored subscription whose endpoint is not allowed (any more) is never sent to", async () => {
  await withTestDatabase(async (url) => {
    const service = startTestPushService();
    // The test push service is plain http on 127.0.0.1: allowed only with
    // PUSH_ALLOW_INSECURE_ENDPOINTS, which this instance does not have. The
    // row gets in around the API, as one stored under an older setting would.
    const plaza = await startTestInstance(url, {
      ...PUSH_ENV,
      PUSH_ALLOW_INSECURE_ENDPOINTS: "false",
    });
    const sql = postgres(url, { onnotice: () => {} });
    try {
      const carol = await service.subscribe();
      await sql`insert into push_subscriptions (endpoint, p256dh, auth, name)
        values (${carol.endpoint}, ${carol.keys.p256dh}, ${carol.keys.auth}, 'carol')`;
      const m = await postJson(plaza.url, "ada", "hello");
      await drained(sql, m.id);
      // A notification was made for carol (and dropped), not sent.
      const [row] = await sql<{ notified: boolean }[]>`
        select last_notified_at is not null as notified from push_subscriptions`;
      assert.equal(row.notified, true);
      assert.equal(service.attempts(carol.endpoint), 0);
      assert.deepEqual(service.received, []);
    } finally {
      await plaza.close();
      await sql.end({ timeout: 1 });
      await service.close();
    }
  });
});

Deno.test("three instances started together share one VAPID key pair", async () => {
  await withTestDatabase(async (url) => {
    const instances = await Promise.all(
      [1, 2, 3].map(() => startTestInstance(url, PUSH_ENV)),
    );
    const sql = postgres(url, { onnotice: () => {} });
    try {
      const keys = await Promise.all(instances.map(async (i) => {
        const res = await fetch(`${i.url}/push/key`);
        assert.equal(res.status, 200);
        return (await res.json()).publicKey as string;
      }));
      assert.equal(new Set(keys).size, 1);
      const bytes = Uint8Array.fromBase64(keys[0], { alphabet: "base64url" });
      assert.equal(bytes.length, 65);
      assert.equal(bytes[0], 4);
      const rows = await sql`select public_key from push_vapid_keys`;
      assert.deepEqual(rows.map((r) => r.public_key), [keys[0]]);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
      await sql.end({ timeout: 1 });
    }
  });
});

Deno.test("on PGlite (one instance, embedded): notified, collapsed, and mentioned", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "plaza_push_pglite_" });
  const service = startTestPushService();
  let plaza: Plaza | null = null;
  try {
    plaza = await startTestInstance(null, { ...PUSH_ENV, DATA_DIR: dataDir });
    const carol = await service.subscribe();
    await subscribe(plaza.url, carol, "carol");
    const one = await postJson(plaza.url, "ada", "one");
    await service.waitForCount(1, carol.endpoint);
    await postJson(plaza.url, "bob", "two");
    const three = await postJson(plaza.url, "ada", "@carol three");
    await service.waitForCount(2, carol.endpoint);
    assert.deepEqual(bodies(service, carol), [
      payloadFor(one.id, "ada: one"),
      payloadFor(three.id, "ada: @carol three (+1 more)"),
    ]);
    assert.deepEqual(service.rejected, []);
  } finally {
    await plaza?.close();
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("retry delays double from PUSH_RETRY_MS, honour a longer Retry-After, and stop at an hour", () => {
  assert.equal(retryDelayMs(1, 10_000, null), 10_000);
  assert.equal(retryDelayMs(3, 10_000, null), 40_000);
  assert.equal(retryDelayMs(1, 10_000, 120_000), 120_000);
  assert.equal(retryDelayMs(3, 10_000, 1_000), 40_000);
  assert.equal(retryDelayMs(40, 10_000, null), 3_600_000);
  assert.equal(parseRetryAfter("120"), 120_000);
  assert.equal(
    parseRetryAfter(
      "Wed, 21 Oct 2015 07:28:30 GMT",
      Date.parse("2015-10-21T07:28:00Z"),
    ),
    30_000,
  );
  assert.equal(parseRetryAfter("soon"), null);
  assert.equal(parseRetryAfter(null), null);
});

Deno.test("start() looks at the queue at once: an instance a visitor wakes on a scale-to-zero platform may live only seconds", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 2 });
    await migrate(db, await readMigrations());
    const calls: string[] = [];
    const counted: Database = {
      ...db,
      query(text, params) {
        calls.push(text);
        return db.query(text, params);
      },
      transaction(fn) {
        calls.push("transaction");
        return db.transaction(fn);
      },
    };
    const dispatcher = createPushDispatcher({
      db: counted,
      sender: { send: () => Promise.reject(new Error("nothing is queued")) },
      visibility: createVisibilityStore(counted),
      intervalMs: 60_000,
      retryMs: 1_000,
      maxAttempts: 1,
      sendTimeoutMs: 1_000,
      // Nothing would look at the queue for ten minutes unwoken.
      idleMs: 600_000,
    });
    try {
      assert.deepEqual(calls, []);
      dispatcher.start();
      // Before start() even returned: the fan-out's transaction and the
      // sender's claim, not a timer set for later.
      assert.equal(calls.length, 2, JSON.stringify(calls));
    } finally {
      await dispatcher.close();
      await db.close();
    }
  });
});

Deno.test("the Deno.cron run sends a notification that came due while no timer ran, and returns once it is sent", async () => {
  await withTestDatabase(async (url) => {
    const service = startTestPushService();
    // Unwoken, this instance would look at the queue in ten minutes.
    const plaza = await startTestInstance(url, {
      ...PUSH_ENV,
      PUSH_POLL_MS: "600000",
    });
    const sql = postgres(url, { onnotice: () => {} });
    try {
      const carol = await service.subscribe();
      await subscribe(plaza.url, carol, "carol");
      const hi = await postJson(plaza.url, "ada", "hi");
      await service.waitForCount(1, carol.endpoint);
      const later = await postJson(plaza.url, "ada", "later");
      await until(async () => {
        const s = await queueState(sql);
        return s.cursor >= later.id && s.pending === 1;
      }, {
        intervalMs: 20,
        what: "ada's second message to wait for the minute",
      });
      // The minute passes while, on Deploy, no instance would be running:
      // the instance's own timer is still a minute away.
      await sql`update push_subscriptions set last_notified_at = now() - interval '2 minutes'`;
      await runPushCron(0);
      assert.deepEqual(bodies(service, carol), [
        payloadFor(hi.id, "ada: hi"),
        payloadFor(later.id, "ada: later"),
      ]);
    } finally {
      await plaza.close();
      await sql.end({ timeout: 1 });
      await service.close();
    }
    // With no Plaza running in the process, the run fails visibly.
    await assert.rejects(runPushCron(0), /Plaza did not start in this process/);
  });
});
