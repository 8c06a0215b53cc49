// Who may do what: origins, per-address limits, proxies, tokens.
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { createHub } from "../live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import {
  testAppDependencies,
  testLimits,
} from "../../test/harness/app_deps.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { expectError, json, withApp } from "../../test/harness/app_requests.ts";

Deno.test("a browser POST from another site is refused (403); same site, listed origins and no Origin pass", async () => {
  await withApp(async (app) => {
    const post = (headers: Record<string, string>) =>
      app.request("http://chat.example/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: '{"author":"ada","text":"hi"}',
      });
    await expectError(
      await post({ Origin: "https://evil.example" }),
      403,
      /ALLOWED_ORIGINS/,
    );
    await expectError(await post({ Origin: "null" }), 403, /not allowed/);
    const typing = await app.request("http://chat.example/typing", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Origin: "https://evil.example",
      },
      body: '{"author":"ada"}',
    });
    assert.equal(typing.status, 403);
    await typing.body?.cancel();
    const own = await post({
      Origin: "http://chat.example",
      Host: "chat.example",
    });
    assert.equal(own.status, 201);
    await own.body?.cancel();
    const curl = await post({});
    assert.equal(curl.status, 201);
    await curl.body?.cancel();
    const all = await (await app.request("/messages")).json();
    assert.equal(all.messages.length, 2);
  });
  // Listed origins pass.
  await withApp(
    async (app) => {
      const res = await app.request("http://chat.example/messages", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Origin: "https://friend.example",
        },
        body: '{"author":"ada","text":"hi"}',
      });
      assert.equal(res.status, 201);
      await res.body?.cancel();
    },
    60_000,
    ["https://friend.example"],
  );
});

Deno.test("posting is rate-limited per address: 429 with Retry-After, nothing stored", async () => {
  let now = 0;
  const post = createRateLimiter({ capacity: 5, perSecond: 1, now: () => now });
  await withApp(
    async (app) => {
      const send = (headers: Record<string, string> = {}) =>
        app.request("/messages", {
          method: "POST",
          headers: { "Content-Type": "application/json", ...headers },
          body: '{"author":"ada","text":"hi"}',
        });
      for (let i = 0; i < 5; i++) {
        const ok = await send();
        assert.equal(ok.status, 201);
        await ok.body?.cancel();
      }
      const refused = await send();
      assert.equal(refused.headers.get("retry-after"), "1");
      await expectError(refused, 429, /too fast/);
      // X-Forwarded-For is not believed unless TRUST_PROXY is on.
      await expectError(
        await send({ "X-Forwarded-For": "203.0.113.9" }),
        429,
        /too fast/,
      );
      now += 1000;
      const again = await send();
      assert.equal(again.status, 201);
      await again.body?.cancel();
      const all = await (await app.request("/messages")).json();
      assert.equal(all.messages.length, 6);
    },
    60_000,
    [],
    { post },
  );
});

Deno.test("with TRUST_PROXY, each X-Forwarded-For client has its own budget", async () => {
  const post = createRateLimiter({ capacity: 1, perSecond: 0.001 });
  await withApp(
    async (app) => {
      const send = (forwardedFor: string) =>
        app.request("/messages", {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            // The proxy appends the address it saw; earlier entries are the
            // client's own claims.
            "X-Forwarded-For": forwardedFor,
          },
          body: '{"author":"ada","text":"hi"}',
        });
      const statuses = [];
      for (
        const xff of [
          "1.1.1.1",
          "2.2.2.2",
          "9.9.9.9, 1.1.1.1",
          "1.1.1.1, 3.3.3.3",
        ]
      ) {
        const res = await send(xff);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      assert.deepEqual(statuses, [201, 201, 429, 201]);
    },
    60_000,
    [],
    { post, trustProxy: { kind: "hops", hops: 1 } },
  );
});

Deno.test("streams are capped per address (429) and per instance (503)", async () => {
  await withApp(
    async (app, hub) => {
      const a = await app.request("/stream");
      const b = await app.request("/stream");
      assert.equal(hub.size, 2);
      await expectError(
        await app.request("/stream"),
        429,
        /Too many open streams/,
      );
      await a.body!.cancel();
      const c = await app.request("/stream");
      assert.equal(c.status, 200);
      await Promise.all([b.body!.cancel(), c.body!.cancel()]);
    },
    60_000,
    [],
    { streamsPerAddress: 2 },
  );
  await withApp(
    async (app) => {
      const a = await app.request("/stream");
      const refused = await app.request("/stream");
      assert.equal(refused.headers.get("retry-after"), "10");
      await expectError(refused, 503, /as many open streams/);
      await a.body!.cancel();
    },
    60_000,
    [],
    { maxStreams: 1 },
  );
});

Deno.test("DELETE /messages/:id: with ADMIN_TOKEN set, only with the token, and the message is gone", async () => {
  await withApp(async (app) => {
    // Without ADMIN_TOKEN only authors delete (with their name's token).
    const res = await app.request("/messages/1", { method: "DELETE" });
    await expectError(res, 401, /name token/);
  });
  const token = "a-moderator-token-of-some-length";
  await withApp(
    async (app) => {
      const made = await (await app.request(
        "/messages",
        json('{"author":"spam","text":"buy now"}'),
      )).json();
      const del = (
        headers: Record<string, string>,
        id: string | number = made.id,
      ) => app.request(`/messages/${id}`, { method: "DELETE", headers });
      const missing = await del({});
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      await expectError(missing, 401, /admin token/);
      await expectError(
        await del({ Authorization: "Bearer wrong-token-here" }),
        403,
        /not valid/,
      );
      await expectError(
        await del({ Authorization: `Basic ${token}` }),
        401,
        /admin token/,
      );
      await expectError(
        await del({ Authorization: `Bearer ${token}` }, "x"),
        400,
        /id/,
      );
      const ok = await del({ Authorization: `Bearer ${token}` });
      assert.equal(ok.status, 204);
      await expectError(
        await del({ Authorization: `Bearer ${token}` }),
        404,
        /no message/,
      );
      await expectError(
        await app.request(`/messages/${made.id}`),
        404,
        /no message/,
      );
      const all = await (await app.request("/messages")).json();
      assert.deepEqual(all.messages, []);
    },
    60_000,
    [],
    {},
    token,
  );
});

Deno.test("wrong ADMIN_TOKEN / METRICS_TOKEN attempts are limited per address: then 429 for any token until the budget refills", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs: 60_000 });
    let now = 0;
    const adminToken = "a-moderator-token-of-some-length";
    const metricsToken = "a-metrics-token-of-some-length";
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(db, hub, {
        limits: testLimits({
          // As deployed: ten wrong tokens, then one a minute.
          authFailures: createRateLimiter({
            capacity: 10,
            perSecond: 1 / 60,
            now: () => now,
          }),
          trustProxy: { kind: "hops", hops: 1 },
        }),
        adminToken,
        metricsToken,
      }));
      const made = await (await app.request(
        "/messages",
        json('{"author":"spam","text":"buy now"}'),
      )).json();
      const del = (from: string, token: string, id = 999_999) =>
        app.request(`/messages/${id}`, {
          method: "DELETE",
          headers: {
            Authorization: `Bearer ${token}`,
            "X-Forwarded-For": from,
          },
        });
      const scrape = (from: string, token: string) =>
        app.request("/metrics", {
          headers: {
            Authorization: `Bearer ${token}`,
            "X-Forwarded-For": from,
          },
        });
      // Right tokens spend nothing, however many.
      for (let i = 0; i < 30; i++) {
        await expectError(
          await del("192.0.2.1", adminToken),
          404,
          /no message/,
        );
        const ok = await scrape("192.0.2.1", metricsToken);
        assert.equal(ok.status, 200);
        await ok.body?.cancel();
      }
      // Ten wrong ones, on either route, are each a 403...
      for (let i = 0; i < 5; i++) {
        await expectError(await del("192.0.2.1", `wrong-${i}`), 403, /admin/);
        await expectError(
          await scrape("192.0.2.1", `wrong-${i}`),
          403,
          /metrics/,
        );
      }
      // ...then every token from that address is a 429, the right ones too
      // (else the answer would still tell a right guess from a wrong one).
      for (
        const res of [
          await del("192.0.2.1", "wrong-again"),
          await del("192.0.2.1", adminToken, made.id),
          await scrape("192.0.2.1", metricsToken),
        ]
      ) {
        assert.equal(res.headers.get("retry-after"), "60");
        await expectError(res, 429, /Too many wrong tokens/);
      }
      // Another address is not affected.
      assert.equal((await del("192.0.2.2", adminToken, made.id)).status, 204);
      // A minute refills one try, no more.
      now += 60_000;
      await expectError(await del("192.0.2.1", "wrong-later"), 403, /admin/);
      await expectError(await del("192.0.2.1", adminToken), 429, /Too many/);
      now += 60_000;
      await expectError(await del("192.0.2.1", adminToken), 404, /no message/);
    } finally {
      hub.close();
      await db.close();
    }
  });
});
