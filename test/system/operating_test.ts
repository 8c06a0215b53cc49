// /metrics, the request id and error logs, through the whole app.
import assert from "node:assert/strict";
import { type AppDependencies, createApp } from "../../server/http/app.ts";
import type { Database } from "../../db/database.ts";
import { createHub, type Hub } from "../../server/live/hub.ts";
import { messageChange } from "../../server/store/change_feed.ts";
import { createLogger } from "../../server/observe/logger.ts";
import { createPlazaMetrics } from "../../server/observe/metrics.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { createRateLimiter } from "../../server/limits/rate_limiter.ts";
import { testAppDependencies, testLimits } from "../harness/app_deps.ts";
import { withTestDatabase } from "../harness/fixtures.ts";

/** Posting is limited to one message, so a second POST is refused. */
function baseDeps(db: Database, hub: Hub): AppDependencies {
  return testAppDependencies(db, hub, {
    limits: testLimits({
      post: createRateLimiter({ capacity: 1, perSecond: 0.001 }),
    }),
  });
}

/** The value of one sample line in a Prometheus exposition. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

Deno.test("GET /metrics reflects a POST, an open stream, its deliveries and a rate-limited POST", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    // As in plaza.ts: the gauge reads the hub, which counts into the metrics.
    let open = () => 0;
    const metrics = createPlazaMetrics(() => open());
    const counted = createHub({ heartbeatMs: 60_000, metrics });
    open = () => counted.size;
    try {
      await migrate(db, await readMigrations());
      const app = createApp({ ...baseDeps(db, counted), metrics });
      const before = await app.request("/metrics");
      assert.equal(before.status, 200);
      assert.match(
        before.headers.get("content-type") ?? "",
        /^text\/plain; version=0\.0\.4/,
      );
      const start = await before.text();
      assert.equal(sample(start, "plaza_open_streams"), 0);
      assert.equal(sample(start, "plaza_messages_posted_total"), 0);

      const stream = await app.request("/stream?history=0");
      const reader = stream.body!.getReader();
      await reader.read(); // hello: subscribed
      const post = await app.request("/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"author":"ada","text":"hi"}',
      });
      assert.equal(post.status, 201);
      counted.publish(messageChange(await post.json()));
      const limited = await app.request("/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"author":"ada","text":"again"}',
      });
      assert.equal(limited.status, 429);
      await limited.body?.cancel();

      const text = await (await app.request("/metrics")).text();
      assert.equal(sample(text, "plaza_open_streams"), 1);
      assert.equal(sample(text, "plaza_messages_posted_total"), 1);
      assert.equal(sample(text, "plaza_deliveries_total"), 1);
      assert.equal(sample(text, "plaza_notify_to_delivery_seconds_count"), 1);
      assert.equal(
        sample(text, 'plaza_notify_to_delivery_seconds_bucket{le="+Inf"}'),
        1,
      );
      assert.equal(sample(text, 'plaza_rate_limited_total{kind="post"}'), 1);
      assert.equal(sample(text, "plaza_streams_opened_total"), 1);

      await reader.cancel();
      const after = await (await app.request("/metrics")).text();
      assert.equal(sample(after, "plaza_open_streams"), 0);
      assert.equal(sample(after, "plaza_streams_closed_total"), 1);
    } finally {
      counted.close();
      await db.close();
    }
  });
});

Deno.test("with METRICS_TOKEN, /metrics answers 401 without a token, 403 with a wrong one", async () => {
  // No query reaches the database in this test.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const token = "0123456789abcdef0123";
  const app = createApp({ ...baseDeps(db, hub), metricsToken: token });
  try {
    const missing = await app.request("/metrics");
    assert.equal(missing.status, 401);
    assert.match((await missing.json()).error, /METRICS_TOKEN/);
    assert.match(missing.headers.get("www-authenticate") ?? "", /Bearer/);
    const wrong = await app.request("/metrics", {
      headers: { Authorization: "Bearer not-the-token-at-all" },
    });
    assert.equal(wrong.status, 403);
    await wrong.body?.cancel();
    const right = await app.request("/metrics", {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(right.status, 200);
    assert.match(await right.text(), /^# TYPE plaza_open_streams gauge$/m);
    const post = await app.request("/metrics", { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    hub.close();
    await db.close();
  }
});

Deno.test("every response carries X-Request-Id (echoed or made up) and an unhandled error is logged with it", async () => {
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    write: (line) => lines.push(line),
  });
  const deps = baseDeps(db, hub);
  const store = {
    ...deps.store,
    get: () => Promise.reject(new Error("boom")),
  };
  const app = createApp({ ...deps, store, logger });
  try {
    const echoed = await app.request("/nowhere", {
      headers: { "X-Request-Id": "edge-42" },
    });
    assert.equal(echoed.headers.get("x-request-id"), "edge-42");
    await echoed.body?.cancel();
    // A header that is not a plausible id is replaced, not logged as is.
    const odd = await app.request("/nowhere", {
      headers: { "X-Request-Id": "a b\u00e9" },
    });
    assert.match(odd.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await odd.body?.cancel();

    const failed = await app.request("/messages/7", {
      headers: { "X-Request-Id": "req-7" },
    });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get("x-request-id"), "req-7");
    await failed.body?.cancel();
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]);
    assert.equal(entry.level, "error");
    assert.equal(entry.event, "request_failed");
    assert.equal(entry.requestId, "req-7");
    assert.equal(entry.path, "/messages/7");
    assert.equal(entry.error.message, "boom");
  } finally {
    hub.close();
    await db.close();
  }
});
