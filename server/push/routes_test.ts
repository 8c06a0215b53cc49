// The HTTP contract the client's "Notify me" codes against: statuses, JSON
// errors for every bad input (never a 500), and what each call stores.
import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { createHub } from "../live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import type { Database } from "../../db/database.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { DEFAULT_PUSH_SERVICE_HOSTS } from "../config.ts";
import { createPushSubscriptionStore } from "./subscriptions.ts";
import { createVisibilityStore } from "./visibility.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";

type App = ReturnType<typeof createApp>;

const PUBLIC_KEY =
  "BJFdv8MMVorCzkEPImokojPYMDpqr7bI0Mc5920Z15qdP2byt1PXah2pl5kthnoj5XoacTXg-UZfcv8DDazQ3ak";
// A browser's keys: a P-256 point (65 bytes) and a 16-byte secret.
const P256DH = PUBLIC_KEY;
const AUTH = "AAECAwQFBgcICQoLDA0ODw";
// The shape Chrome gives (FCM, one of the default PUSH_SERVICE_HOSTS).
const ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123";

async function withPushApp(
  fn: (app: App, db: Database) => Promise<void>,
  options: { allowInsecure?: boolean; burst?: number; hosts?: string[] } = {},
) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs: 60_000 });
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(db, hub, {
        push: {
          publicKey: PUBLIC_KEY,
          subscriptions: createPushSubscriptionStore(db),
          visibility: createVisibilityStore(db),
          limiter: createRateLimiter({
            capacity: options.burst ?? 1000,
            perSecond: options.burst === undefined ? 1000 : 0.001,
          }),
          visibilityLimiter: createRateLimiter({
            capacity: options.burst ?? 1000,
            perSecond: options.burst === undefined ? 1000 : 0.001,
          }),
          endpoints: {
            hosts: options.hosts ?? DEFAULT_PUSH_SERVICE_HOSTS,
            allowInsecure: options.allowInsecure ?? false,
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

function send(method: string, body: unknown, type = "application/json") {
  return {
    method,
    headers: { "Content-Type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

function subscription(overrides: Record<string, unknown> = {}) {
  return {
    subscription: { endpoint: ENDPOINT, keys: { p256dh: P256DH, auth: AUTH } },
    name: "ada",
    ...overrides,
  };
}

/** Rows as a plain array (postgres.js returns its own Array subclass). */
async function select(db: Database, sql: string): Promise<unknown[]> {
  return [...await db.query(sql)];
}

async function expectError(res: Response, status: number, pattern: RegExp) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(typeof body.error, "string");
  assert.match(body.error, pattern);
}

Deno.test("GET /push/key gives the VAPID public key", async () => {
  await withPushApp(async (app) => {
    const res = await app.request("/push/key");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { publicKey: PUBLIC_KEY });
    await expectError(
      await app.request("/push/key", { method: "POST" }),
      405,
      /only GET/,
    );
  });
});

Deno.test("POST /push/subscriptions: 201 new, 200 for the same endpoint with a new name and keys", async () => {
  await withPushApp(async (app, db) => {
    const first = await app.request(
      "/push/subscriptions",
      send("POST", subscription({ name: " ada " })),
    );
    assert.equal(first.status, 201);
    assert.deepEqual(await first.json(), { ok: true });
    const otherAuth = "ZmVkY2JhOTg3NjU0MzIxMA";
    const again = await app.request(
      "/push/subscriptions",
      send("POST", {
        subscription: {
          endpoint: ENDPOINT,
          keys: { p256dh: P256DH, auth: otherAuth },
        },
        name: "Ada L.",
      }),
    );
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { ok: true });
    const rows = await select(
      db,
      "select endpoint, name, auth from push_subscriptions",
    );
    assert.deepEqual(rows, [{
      endpoint: ENDPOINT,
      name: "Ada L.",
      auth: otherAuth,
    }]);
  });
});

Deno.test("POST /push/subscriptions refuses bad input with a 4xx saying what is wrong", async () => {
  await withPushApp(async (app, db) => {
    const sub = (
      endpoint: unknown,
      p256dh: unknown = P256DH,
      auth: unknown = AUTH,
    ) => subscription({ subscription: { endpoint, keys: { p256dh, auth } } });
    const cases: [string, RequestInit, number, RegExp][] = [
      [
        "malformed JSON",
        send("POST", '{"subscription":'),
        400,
        /not valid JSON/,
      ],
      [
        "form body",
        send("POST", "name=ada", "application/x-www-form-urlencoded"),
        415,
        /application\/json/,
      ],
      ["array", send("POST", []), 400, /object/],
      ["no subscription", send("POST", { name: "ada" }), 400, /"subscription"/],
      [
        "http endpoint",
        send("POST", sub("http://push.example.net/x")),
        400,
        /https/,
      ],
      [
        "http loopback without the test flag",
        send("POST", sub("http://127.0.0.1:9/push/x")),
        400,
        /https/,
      ],
      ["not a URL", send("POST", sub("not-a-url")), 400, /must be a URL/],
      ["number endpoint", send("POST", sub(42)), 400, /"endpoint"/],
      [
        "credentials",
        send("POST", sub("https://u:p@push.example.net/x")),
        400,
        /user name/,
      ],
      [
        "endpoint too long",
        send("POST", sub(`https://push.example.net/${"x".repeat(2100)}`)),
        400,
        /2048/,
      ],
      [
        "short p256dh",
        send("POST", sub(ENDPOINT, P256DH.slice(0, 80))),
        400,
        /p256dh/,
      ],
      [
        "compressed point",
        send("POST", sub(ENDPOINT, "Ag" + P256DH.slice(2, 44))),
        400,
        /p256dh/,
      ],
      [
        // 65 bytes and the uncompressed prefix, but no point of P-256: web-push
        // could never encrypt for it, so every notification would fail.
        "p256dh off the curve",
        send(
          "POST",
          sub(
            ENDPOINT,
            new Uint8Array(65).map((_, i) => i === 0 ? 4 : 1).toBase64({
              alphabet: "base64url",
              omitPadding: true,
            }),
          ),
        ),
        400,
        /p256dh/,
      ],
      [
        "p256dh not base64url",
        send("POST", sub(ENDPOINT, "!".repeat(87))),
        400,
        /p256dh/,
      ],
      [
        "auth 15 bytes",
        send("POST", sub(ENDPOINT, P256DH, "AAECAwQFBgcICQoLDA0O")),
        400,
        /auth/,
      ],
      [
        "auth missing",
        send(
          "POST",
          subscription({
            subscription: { endpoint: ENDPOINT, keys: { p256dh: P256DH } },
          }),
        ),
        400,
        /auth/,
      ],
      [
        "no keys",
        send("POST", subscription({ subscription: { endpoint: ENDPOINT } })),
        400,
        /p256dh/,
      ],
      [
        "no name",
        send("POST", subscription({ name: undefined })),
        400,
        /"name" is required/,
      ],
      [
        "blank name",
        send("POST", subscription({ name: "  " })),
        400,
        /"name" must not be empty/,
      ],
      [
        "long name",
        send("POST", subscription({ name: "x".repeat(33) })),
        400,
        /"name" must be at most 32/,
      ],
      [
        "two-line name",
        send("POST", subscription({ name: "a\nb" })),
        400,
        /"name" must be a single line/,
      ],
      [
        "body too large",
        send("POST", subscription({ pad: "x".repeat(17_000) })),
        413,
        /larger/,
      ],
    ];
    for (const [what, init, status, pattern] of cases) {
      const res = await app.request("/push/subscriptions", init);
      try {
        await expectError(res, status, pattern);
      } catch (error) {
        throw new Error(`${what}: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(await select(db, "select id from push_subscriptions"), []);
    await expectError(
      await app.request("/push/subscriptions", { method: "GET" }),
      405,
      /POST, PATCH, DELETE/,
    );
  });
});

Deno.test("http endpoints on this machine are accepted only with PUSH_ALLOW_INSECURE_ENDPOINTS", async () => {
  await withPushApp(async (app) => {
    for (
      const endpoint of [
        "http://127.0.0.1:9/push/x",
        "http://localhost:9/push/y",
      ]
    ) {
      const res = await app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: { endpoint, keys: { p256dh: P256DH, auth: AUTH } },
          }),
        ),
      );
      assert.equal(res.status, 201, endpoint);
      await res.body?.cancel();
    }
    await expectError(
      await app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: {
              endpoint: "http://10.0.0.1/push/x",
              keys: { p256dh: P256DH, auth: AUTH },
            },
          }),
        ),
      ),
      400,
      /https/,
    );
    // The flag lets plain http to this machine through, nothing else: https
    // to it still has to be on the host list.
    await expectError(
      await app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: {
              endpoint: "https://127.0.0.1:9/push/x",
              keys: { p256dh: P256DH, auth: AUTH },
            },
          }),
        ),
      ),
      400,
      /known push service; 127\.0\.0\.1 is not one/,
    );
  }, { allowInsecure: true });
});

Deno.test("POST /push/subscriptions stores endpoints of the browsers' push services only (no requests to hosts of the sender's choosing)", async () => {
  await withPushApp(async (app, db) => {
    const post = (endpoint: string) =>
      app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: { endpoint, keys: { p256dh: P256DH, auth: AUTH } },
          }),
        ),
      );
    // What Chrome, Firefox, Edge and Safari hand out.
    const accepted = [
      "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
      "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
      "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2f",
      "https://web.push.apple.com/QGZ0a2V5",
      "https://FCM.GoogleAPIs.com/fcm/send/upper-case-host",
    ];
    for (const endpoint of accepted) {
      const res = await post(endpoint);
      assert.equal(res.status, 201, `${endpoint}: ${await res.text()}`);
    }
    const refused = [
      "https://169.254.169.254/latest/meta-data/",
      "https://localhost/admin",
      "https://10.0.0.5/push",
      "https://[::1]/push",
      "https://db.internal/push",
      "https://fcm.googleapis.com.evil.example/fcm/send/x",
      "https://evilfcm.googleapis.com/fcm/send/x",
      "https://notify.windows.com/w/",
      "https://push.apple.com.evil.example/x",
      "https://fcm.googleapis.com./fcm/send/x",
      "https://evil.example/#fcm.googleapis.com",
    ];
    for (const endpoint of refused) {
      try {
        await expectError(await post(endpoint), 400, /known push service/);
      } catch (error) {
        throw new Error(`${endpoint}: ${(error as Error).message}`);
      }
    }
    const [{ n }] = await db.query<{ n: number }>(
      "select count(*)::int as n from push_subscriptions",
    );
    assert.equal(n, accepted.length);
  });
  // PUSH_SERVICE_HOSTS replaces the list.
  await withPushApp(async (app) => {
    const post = (endpoint: string) =>
      app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: { endpoint, keys: { p256dh: P256DH, auth: AUTH } },
          }),
        ),
      );
    const ok = await post("https://a.push.example.net/x");
    assert.equal(ok.status, 201);
    await ok.body?.cancel();
    await expectError(
      await post("https://push.example.net/x"),
      400,
      /push\.example\.net is not one this server sends to \(PUSH_SERVICE_HOSTS\)/,
    );
    await expectError(await post(ENDPOINT), 400, /known push service/);
  }, { hosts: ["*.push.example.net"] });
});

Deno.test("POST /push/subscriptions refuses an allowed host on any port but the default https one", async () => {
  await withPushApp(async (app, db) => {
    const post = (endpoint: string) =>
      app.request(
        "/push/subscriptions",
        send(
          "POST",
          subscription({
            subscription: { endpoint, keys: { p256dh: P256DH, auth: AUTH } },
          }),
        ),
      );
    for (
      const [endpoint, port] of [
        ["https://fcm.googleapis.com:22/x", "22"],
        ["https://evil.push.apple.com:8443/x", "8443"],
        ["https://web.push.apple.com:80/x", "80"],
        ["https://updates.push.services.mozilla.com:1/x", "1"],
      ]
    ) {
      try {
        await expectError(
          await post(endpoint),
          400,
          new RegExp(`default https port; .* port ${port}\\.`),
        );
      } catch (error) {
        throw new Error(`${endpoint}: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(await select(db, "select id from push_subscriptions"), []);
    // ":443" is the default written out: the URL drops it, and it is fine.
    const ok = await post("https://fcm.googleapis.com:443/fcm/send/x");
    assert.equal(ok.status, 201);
    await ok.body?.cancel();
    assert.equal(
      (await select(db, "select id from push_subscriptions")).length,
      1,
    );
  });
});

Deno.test("an endpoint with characters no URL a browser gives can hold (NUL, spaces, non-ASCII) is a 400 on every route, not a 500", async () => {
  await withPushApp(async (app, db) => {
    const odd = [
      `${ENDPOINT}\u0000`,
      `${ENDPOINT}/a b`,
      `${ENDPOINT}\u007f`,
      `${ENDPOINT}/é`,
      `${ENDPOINT}/\ud800`,
    ];
    for (const endpoint of odd) {
      const label = JSON.stringify(endpoint);
      const requests: [string, RequestInit][] = [
        [
          "/push/subscriptions",
          send(
            "POST",
            subscription({
              subscription: { endpoint, keys: { p256dh: P256DH, auth: AUTH } },
            }),
          ),
        ],
        ["/push/subscriptions", send("DELETE", { endpoint })],
        [
          "/push/visibility",
          send("POST", { endpoint, tab: "a", visible: true }),
        ],
        [
          "/push/visibility",
          send("POST", { endpoint, tab: "a", visible: false }),
        ],
      ];
      for (const [path, init] of requests) {
        try {
          await expectError(
            await app.request(path, init),
            400,
            /"endpoint" must be printable ASCII/,
          );
        } catch (error) {
          throw new Error(
            `${init.method} ${path} ${label}: ${(error as Error).message}`,
          );
        }
      }
    }
    assert.deepEqual(await select(db, "select id from push_subscriptions"), []);
  });
});

Deno.test("DELETE /push/subscriptions: 204, then 404; its visibility rows go with it", async () => {
  await withPushApp(async (app, db) => {
    const created = await app.request(
      "/push/subscriptions",
      send("POST", subscription()),
    );
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const seen = await app.request(
      "/push/visibility",
      send("POST", { endpoint: ENDPOINT, tab: "tab-1", visible: true }),
    );
    assert.equal(seen.status, 204);
    const gone = await app.request(
      "/push/subscriptions",
      send("DELETE", { endpoint: ENDPOINT }),
    );
    assert.equal(gone.status, 204);
    assert.deepEqual(await select(db, "select tab from push_visibility"), []);
    await expectError(
      await app.request(
        "/push/subscriptions",
        send("DELETE", { endpoint: ENDPOINT }),
      ),
      404,
      /no subscription/,
    );
    await expectError(
      await app.request("/push/subscriptions", send("DELETE", {})),
      400,
      /"endpoint"/,
    );
    await expectError(
      await app.request("/push/subscriptions", send("DELETE", "[1]")),
      400,
      /object/,
    );
  });
});

Deno.test("POST /push/visibility: visible refreshes a tab's row, hidden deletes it; unknown endpoint 404; bad input 400", async () => {
  await withPushApp(async (app, db) => {
    const created = await app.request(
      "/push/subscriptions",
      send("POST", subscription()),
    );
    await created.body?.cancel();
    const report = (body: unknown) =>
      app.request("/push/visibility", send("POST", body));
    assert.equal(
      (await report({ endpoint: ENDPOINT, tab: "a", visible: true })).status,
      204,
    );
    assert.equal(
      (await report({ endpoint: ENDPOINT, tab: "b", visible: true })).status,
      204,
    );
    assert.equal(
      (await report({ endpoint: ENDPOINT, tab: "a", visible: true })).status,
      204,
    );
    const rows = await db.query<{ tab: string; left: number }>(
      `select tab, extract(epoch from expires_at - now())::float8 as left
       from push_visibility order by tab`,
    );
    assert.deepEqual(rows.map((r) => r.tab), ["a", "b"]);
    // A row counts for 45 s after its last refresh.
    for (const r of rows) {
      assert.ok(r.left > 40 && r.left <= 45, String(r.left));
    }
    assert.equal(
      (await report({ endpoint: ENDPOINT, tab: "a", visible: false })).status,
      204,
    );
    // Hiding a tab that had no row is fine: the client may repeat itself.
    assert.equal(
      (await report({ endpoint: ENDPOINT, tab: "zz", visible: false })).status,
      204,
    );
    assert.deepEqual(
      (await db.query<{ tab: string }>("select tab from push_visibility")).map((
        r,
      ) => r.tab),
      ["b"],
    );
    await expectError(
      await report({
        endpoint: "https://push.example.net/other",
        tab: "a",
        visible: true,
      }),
      404,
      /no subscription/,
    );
    await expectError(
      await report({
        endpoint: "https://push.example.net/other",
        tab: "a",
        visible: false,
      }),
      404,
      /no subscription/,
    );
    const bad: [unknown, RegExp][] = [
      [{ endpoint: ENDPOINT, tab: "a" }, /"visible"/],
      [{ endpoint: ENDPOINT, tab: "a", visible: "yes" }, /"visible"/],
      [{ endpoint: ENDPOINT, tab: "", visible: true }, /"tab"/],
      [{ endpoint: ENDPOINT, tab: "x".repeat(65), visible: true }, /"tab"/],
      [{ endpoint: ENDPOINT, tab: "has space", visible: true }, /"tab"/],
      [{ endpoint: ENDPOINT, tab: 7, visible: true }, /"tab"/],
      [{ tab: "a", visible: true }, /"endpoint"/],
      ["null", /object/],
    ];
    for (const [body, pattern] of bad) {
      await expectError(await report(body), 400, pattern);
    }
    await expectError(await app.request("/push/visibility"), 405, /only POST/);
  });
});

Deno.test("push requests are rate-limited per address, with Retry-After", async () => {
  await withPushApp(async (app) => {
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const res = await app.request(
        "/push/subscriptions",
        send("POST", subscription()),
      );
      codes.push(res.status);
      if (res.status === 429) {
        assert.ok(Number(res.headers.get("retry-after")) > 0);
        await expectError(res, 429, /Too many/);
      } else {
        await res.body?.cancel();
      }
    }
    assert.deepEqual(codes, [201, 200, 429]);
  }, { burst: 2 });
});

Deno.test("push answers are never cached, except the key (revalidated)", async () => {
  await withPushApp(async (app) => {
    const check = async (what: string, res: Response, status: number) => {
      await res.body?.cancel();
      assert.equal(res.status, status, what);
      assert.equal(res.headers.get("cache-control"), "no-store", what);
    };
    await check(
      "subscribe",
      await app.request("/push/subscriptions", send("POST", subscription())),
      201,
    );
    await check(
      "subscribe again",
      await app.request("/push/subscriptions", send("POST", subscription())),
      200,
    );
    await check(
      "bad subscription",
      await app.request("/push/subscriptions", send("POST", {})),
      400,
    );
    await check(
      "unknown endpoint",
      await app.request(
        "/push/visibility",
        send("POST", {
          endpoint: `${ENDPOINT}-gone`,
          tab: "a",
          visible: true,
        }),
      ),
      404,
    );
    await check(
      "wrong method",
      await app.request("/push/subscriptions", { method: "GET" }),
      405,
    );
    const key = await app.request("/push/key");
    await key.body?.cancel();
    assert.equal(key.headers.get("cache-control"), "no-cache");
  });
});
