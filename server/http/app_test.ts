// Every bad input gets its status and a JSON error, and changes nothing.
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import type { AppLimits } from "./app_env.ts";
import { type Asset, ROOT_FILES } from "./client_assets.ts";
import { createHub, type Hub } from "../live/hub.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import {
  testAppDependencies,
  testLimits,
} from "../../test/harness/app_deps.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";

type App = ReturnType<typeof createApp>;

async function withApp(
  fn: (app: App, hub: Hub) => Promise<void>,
  heartbeatMs = 60_000,
  allowedOrigins: string[] = [],
  limits: Partial<AppLimits> = {},
  adminToken: string | null = null,
) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    const hub = createHub({ heartbeatMs });
    try {
      await migrate(db, await readMigrations());
      const app = createApp(testAppDependencies(db, hub, {
        limits: testLimits(limits),
        heartbeatMs,
        allowedOrigins,
        adminToken,
      }));
      await fn(app, hub);
    } finally {
      hub.close();
      await db.close();
    }
  });
}

async function expectError(res: Response, status: number, pattern: RegExp) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(typeof body.error, "string");
  assert.match(body.error, pattern);
}

const json = (body: string) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body,
});

Deno.test("POST /messages accepts JSON and form bodies: 201, Location, the stored message", async () => {
  await withApp(async (app) => {
    const res = await app.request(
      "/messages",
      json('{"author":" ada ","text":"hi"}'),
    );
    assert.equal(res.status, 201);
    const m = await res.json();
    assert.equal(res.headers.get("location"), `/messages/${m.id}`);
    assert.deepEqual(Object.keys(m).sort(), [
      "author",
      "clientId",
      "createdAt",
      "editedAt",
      "id",
      "reactions",
      "replyTo",
      "text",
      "verified",
    ]);
    assert.equal(m.verified, false);
    assert.equal(m.editedAt, null);
    assert.equal(m.replyTo, null);
    assert.deepEqual(m.reactions, []);
    assert.equal(m.author, "ada");
    const form = await app.request("/messages", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "author=bob&text=hello+there%0Asecond+line",
    });
    assert.equal(form.status, 201);
    assert.equal((await form.json()).text, "hello there\nsecond line");
    const one = await app.request(`/messages/${m.id}`);
    assert.deepEqual(await one.json(), m);
  });
});

Deno.test("bad input gets a 4xx JSON error and stores nothing", async () => {
  await withApp(async (app) => {
    const huge = JSON.stringify({ author: "ada", text: "x".repeat(17_000) });
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(1024).fill(97));
        c.close();
      },
    });
    const cases: [string, RequestInit, number, RegExp][] = [
      ["malformed JSON", json('{"author":'), 400, /not valid JSON/],
      ["JSON array", json("[]"), 400, /object/],
      ["JSON string", json('"hi"'), 400, /object/],
      ["missing text", json('{"author":"ada"}'), 400, /"text" is required/],
      ["number author", json('{"author":1,"text":"x"}'), 400, /string/],
      ["blank text", json('{"author":"ada","text":"   "}'), 400, /empty/],
      [
        "long author",
        json(`{"author":"${"a".repeat(33)}","text":"x"}`),
        400,
        /at most 32/,
      ],
      [
        "long text",
        json(JSON.stringify({ author: "a", text: "x".repeat(2001) })),
        400,
        /at most 2000/,
      ],
      [
        "control char",
        json('{"author":"ada","text":"\\u0007"}'),
        400,
        /control/,
      ],
      [
        "lone surrogate",
        json('{"author":"ada","text":"\\ud800"}'),
        400,
        /Unicode/,
      ],
      [
        "form missing author",
        {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: "text=hi",
        },
        400,
        /"author" is required/,
      ],
      [
        "invalid UTF-8",
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: new Uint8Array([123, 0xff, 0xfe, 125]),
        },
        400,
        /UTF-8/,
      ],
      ["body over 16 KiB", json(huge), 413, /larger than 16384/],
      [
        "chunked body over 16 KiB",
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: chunked,
        },
        413,
        /larger/,
      ],
      [
        "text/plain",
        {
          method: "POST",
          headers: { "Content-Type": "text/plain" },
          body: "hi",
        },
        415,
        /application\/json/,
      ],
      [
        "no content type",
        { method: "POST", body: new Uint8Array([1]) },
        415,
        /application\/json/,
      ],
    ];
    for (const [name, init, status, pattern] of cases) {
      await expectError(await app.request("/messages", init), status, pattern)
        .catch((e) => {
          throw new Error(`${name}: ${e.message}`);
        });
    }
    const all = await app.request("/messages");
    assert.deepEqual(await all.json(), { messages: [], hasMore: false });
  });
});

const form = (body: string) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body,
});

Deno.test("a form body with percent-encoded bytes that are not UTF-8 gets a 400 and stores nothing", async () => {
  await withApp(async (app) => {
    for (
      const body of [
        "author=a&text=%ff%fe",
        "author=%c0%80ada&text=hi", // overlong
        "author=ada&text=%ed%a0%80", // an encoded surrogate
        "author=ada&text=caf%e9", // Latin-1
        "author=ada&text=hi&te%ffxt=", // in a name the app does not read
      ]
    ) {
      await expectError(
        await app.request("/messages", form(body)),
        400,
        /The form body is not valid UTF-8 once percent-decoded/,
      ).catch((e) => {
        throw new Error(`${body}: ${e.message}`);
      });
    }
    await expectError(
      await app.request("/typing", form("author=ad%ffa")),
      400,
      /not valid UTF-8/,
    );
    const all = await app.request("/messages");
    assert.deepEqual(await all.json(), { messages: [], hasMore: false });
    // What URLSearchParams leaves as it is still passes: a lone "%", "+".
    const ok = await app.request(
      "/messages",
      form("author=ada&text=100%+sure"),
    );
    assert.equal(ok.status, 201);
    assert.equal((await ok.json()).text, "100% sure");
  });
});

Deno.test("hostile names get a 400 on /messages and /typing; fullwidth names are folded; bidi controls in text are kept", async () => {
  await withApp(async (app) => {
    const post = (author: string, text = "hi") =>
      app.request("/messages", json(JSON.stringify({ author, text })));
    await expectError(await post("ada\u200b"), 400, /invisible.*U\+200B/);
    await expectError(await post("\u3164"), 400, /invisible/);
    await expectError(await post("\u202eevil"), 400, /bidirectional/);
    await expectError(
      await post("x" + "\u0301\u0302\u0303\u0304\u0306"),
      400,
      /at most 4 combining marks/,
    );
    await expectError(
      await post("ada", "a" + "\u0301".repeat(1999)),
      400,
      /"text" must have at most 6 combining marks/,
    );
    await expectError(await post("ada", "\u200b"), 400, /visible/);
    const typing = (author: string) =>
      app.request("/typing", json(JSON.stringify({ author })));
    await expectError(await typing("\u2066ada\u2069"), 400, /bidirectional/);
    await expectError(await typing("ada\u2060"), 400, /invisible/);
    const all = await app.request("/messages");
    assert.deepEqual(await all.json(), { messages: [], hasMore: false });

    const folded = await post("\uff41\uff44\uff41", "x\u202ey\u202c");
    assert.equal(folded.status, 201);
    const m = await folded.json();
    assert.equal(m.author, "ada");
    assert.equal(m.text, "x\u202ey\u202c");
  });
});

Deno.test("bad ids and paging values get a 400; unknown ids and paths a 404; wrong methods a 405", async () => {
  await withApp(async (app) => {
    const get = (path: string, headers?: Record<string, string>) =>
      app.request(path, { headers });
    for (
      const path of [
        "/messages?limit=0",
        "/messages?limit=201",
        "/messages?limit=ten",
        "/messages?before=-1",
        "/messages?after=-1",
        "/messages?after=x",
        "/messages?before=1.5",
        `/messages?before=${"9".repeat(400)}`,
        "/messages/abc",
        "/messages/-3",
        "/stream?history=201",
        "/stream?history=-1",
        "/stream?since=-1",
        "/stream?since=abc",
        `/stream?since=${"1".repeat(5000)}`,
      ]
    ) {
      await expectError(await get(path), 400, /must be/).catch((e) => {
        throw new Error(`${path}: ${e.message}`);
      });
    }
    await expectError(
      await get("/stream", { "Last-Event-ID": "NaN" }),
      400,
      /Last-Event-ID/,
    );
    await expectError(await get("/messages/123456"), 404, /no message 123456/);
    await expectError(await get("/no/such/thing"), 404, /Nothing at/);
    for (
      const [method, path, allow] of [
        ["PUT", "/messages", "GET, HEAD, POST"],
        ["PUT", "/messages/1", "GET, HEAD, PATCH, DELETE"],
        ["POST", "/stream", "GET, HEAD"],
        ["PATCH", "/healthz", "GET, HEAD"],
      ]
    ) {
      const res = await app.request(path, { method });
      assert.equal(res.headers.get("allow"), allow);
      await expectError(res, 405, /accepts only/);
    }
  });
});

Deno.test("GET /messages pages backwards with hasMore", async () => {
  await withApp(async (app) => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.request(
        "/messages",
        json(`{"author":"a","text":"${i}"}`),
      );
      ids.push((await res.json()).id);
    }
    const page = await (await app.request(`/messages?before=${ids[4]}&limit=2`))
      .json();
    assert.deepEqual(
      page.messages.map((m: { id: number }) => m.id),
      ids.slice(2, 4),
    );
    assert.equal(page.hasMore, true);
    const last = await (await app.request(`/messages?before=${ids[2]}&limit=2`))
      .json();
    const forward =
      await (await app.request(`/messages?after=${ids[1]}&limit=2`))
        .json();
    assert.deepEqual(
      forward.messages.map((m: { id: number }) => m.id),
      ids.slice(2, 4),
    );
    assert.equal(forward.hasMore, true);
    const end = await (await app.request(`/messages?after=${ids[3]}`)).json();
    assert.deepEqual(end.messages.map((m: { id: number }) => m.id), [ids[4]]);
    assert.equal(end.hasMore, false);
    await expectError(
      await app.request(`/messages?after=1&before=3`),
      400,
      /not both/,
    );
    assert.deepEqual(
      last.messages.map((m: { id: number }) => m.id),
      ids.slice(0, 2),
    );
    assert.equal(last.hasMore, false);
  });
});

Deno.test("with the database down: POST and reads answer 503 with Retry-After, /healthz 503", async () => {
  // Port 1 on loopback: nothing listens, so every connection is refused.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const app = createApp(
    testAppDependencies(db, hub, { listener: { live: false } }),
  );
  try {
    const post = await app.request(
      "/messages",
      json('{"author":"a","text":"b"}'),
    );
    assert.equal(post.headers.get("retry-after"), "5");
    await expectError(post, 503, /unavailable/);
    await expectError(await app.request("/messages"), 503, /unavailable/);
    await expectError(await app.request("/messages/1"), 503, /unavailable/);
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 503);
    await ready.body?.cancel();
    const health = await app.request("/healthz");
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), {
      ok: false,
      database: false,
      listener: false,
    });
  } finally {
    hub.close();
    await db.close();
  }
});

Deno.test("/healthz and /readyz are 200 when the database answers and the listener is live", async () => {
  await withApp(async (app) => {
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      ok: true,
      database: true,
      listener: true,
    });
    const res = await app.request("/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      ok: true,
      database: true,
      listener: true,
    });
  });
});

Deno.test("a stream that the client leaves is unsubscribed from the hub (no leaked listeners or timers)", async () => {
  await withApp(async (app, hub) => {
    const res = await app.request("/stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    // Wait for a heartbeat, which proves the stream is live and subscribed.
    while (!text.includes(": ping\n\n")) {
      text += decoder.decode((await reader.read()).value);
    }
    assert.ok(text.startsWith("retry: 1000\n\n"));
    assert.equal(hub.size, 1);
    await reader.cancel();
    assert.equal(hub.size, 0);
    const head = await app.request("/stream", { method: "HEAD" });
    await head.body?.cancel();
    assert.equal(hub.size, 0);
  }, 10);
});

Deno.test("POST /messages with a repeated clientId returns the original (200) and stores nothing new", async () => {
  await withApp(async (app) => {
    const clientId = crypto.randomUUID();
    const first = await app.request(
      "/messages",
      json(JSON.stringify({ author: "ada", text: "once", clientId })),
    );
    assert.equal(first.status, 201);
    const original = await first.json();
    assert.equal(original.clientId, clientId);
    // The retry may even differ (say, re-trimmed): the original stands.
    const again = await app.request("/messages", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `author=ada&text=once+more&clientId=${clientId.toUpperCase()}`,
    });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), original);
    assert.equal(again.headers.get("location"), `/messages/${original.id}`);
    const concurrent = crypto.randomUUID();
    const racing = await Promise.all(
      [1, 2, 3, 4].map(() =>
        app.request(
          "/messages",
          json(
            JSON.stringify({
              author: "bob",
              text: "race",
              clientId: concurrent,
            }),
          ),
        )
      ),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [200, 200, 200, 201]);
    const bodies = await Promise.all(racing.map((r) => r.json()));
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1);
    const all = await (await app.request("/messages")).json();
    assert.equal(all.messages.length, 2);
  });
});

Deno.test("POST /typing answers 202, checks the name, and rate-limits per address", async () => {
  await withApp(async (app) => {
    const typing = (body: string) => app.request("/typing", json(body));
    await expectError(await typing('{"author":""}'), 400, /"author"/);
    await expectError(await typing("{"), 400, /JSON/);
    await expectError(
      await app.request("/typing", { method: "POST", body: "x" }),
      415,
      /application\/json/,
    );
    // Three bad requests above spent the burst of 3 for this address.
    const limited = await typing('{"author":"ada"}');
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    await expectError(limited, 429, /slow down/);
    await expectError(await app.request("/typing"), 405, /accepts only POST/);
  });
});

Deno.test("every response carries the security headers, streams and errors included", async () => {
  await withApp(async (app) => {
    const stream = await app.request("/stream");
    await stream.body?.cancel();
    for (
      const res of [
        await app.request("/"),
        await app.request("/messages"),
        await app.request("/nope"),
        stream,
      ]
    ) {
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/, "no inline script");
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      assert.match(res.headers.get("permissions-policy") ?? "", /camera=\(\)/);
      await res.body?.cancel();
    }
  });
});

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

Deno.test("built files (/assets/*, /sw.js, /manifest.webmanifest) answer other methods than GET and HEAD with 405 and Allow", async () => {
  // No request here reaches the database.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const file = (type: string) => ({
    body: new TextEncoder().encode("x"),
    headers: { "Content-Type": type },
  });
  const app = createApp(testAppDependencies(db, hub, {
    assets: {
      index: file("text/html; charset=utf-8"),
      files: new Map<string, Asset>([
        ["/assets/main-ABC123.js", file("text/javascript; charset=utf-8")],
        ["/sw.js", file("text/javascript; charset=utf-8")],
        [
          "/manifest.webmanifest",
          file("application/manifest+json; charset=utf-8"),
        ],
        // JSON, but a built file: it keeps its own caching.
        ["/assets/main-ABC123.js.map", {
          body: new TextEncoder().encode("{}"),
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "public, max-age=31536000, immutable",
          },
        }],
      ]),
    },
  }));
  try {
    const paths = [
      "/assets/main-ABC123.js",
      "/assets/no-such-file.js",
      ...ROOT_FILES,
    ];
    for (const path of paths) {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const res = await app.request(path, { method });
        try {
          assert.equal(res.headers.get("allow"), "GET, HEAD");
          await expectError(res, 405, /accepts only GET, HEAD/);
        } catch (error) {
          throw new Error(`${method} ${path}: ${(error as Error).message}`);
        }
      }
    }
    for (const path of ["/assets/main-ABC123.js", ...ROOT_FILES]) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(await res.text(), "x");
      const head = await app.request(path, { method: "HEAD" });
      assert.equal(head.status, 200, path);
      await head.body?.cancel();
    }
    const map = await app.request("/assets/main-ABC123.js.map");
    assert.equal(await map.text(), "{}");
    assert.equal(
      map.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    // An unknown file is still a 404 to GET.
    await expectError(
      await app.request("/assets/no-such-file.js"),
      404,
      /No such asset/,
    );
  } finally {
    hub.close();
    await db.close();
  }
});

Deno.test("JSON answers (messages, errors) are never cached; the stream and health checks keep their own Cache-Control", async () => {
  await withApp(
    async (app) => {
      const posted = await app.request(
        "/messages",
        json('{"author":"ada","text":"hi"}'),
      );
      const made = await posted.json();
      const check = async (
        what: string,
        res: Response,
        status: number,
        cacheControl = "no-store",
      ) => {
        if (!res.bodyUsed) await res.body?.cancel();
        assert.equal(res.status, status, what);
        assert.equal(res.headers.get("cache-control"), cacheControl, what);
      };
      await check("POST /messages", posted, 201);
      await check("GET /messages", await app.request("/messages"), 200);
      await check(
        "GET /messages?after=0",
        await app.request("/messages?after=0"),
        200,
      );
      await check(
        "GET /messages/:id",
        await app.request(`/messages/${made.id}`),
        200,
      );
      await check(
        "unknown id",
        await app.request("/messages/999999"),
        404,
      );
      await check("bad id", await app.request("/messages/x"), 400);
      await check("no route", await app.request("/no/such/thing"), 404);
      await check(
        "wrong method",
        await app.request("/messages", { method: "PUT" }),
        405,
      );
      await check(
        "bad body",
        await app.request("/messages", json("{")),
        400,
      );
      await check(
        "rate-limited",
        await app.request("/messages", json('{"author":"a","text":"b"}')),
        429,
      );
      await check(
        "wrong token",
        await app.request("/messages/1", {
          method: "DELETE",
          headers: { Authorization: "Bearer wrong" },
        }),
        403,
      );
      await check("health", await app.request("/healthz"), 200);
      await check(
        "stream",
        await app.request("/stream"),
        200,
        "no-cache, no-transform",
      );
    },
    60_000,
    [],
    // Two posts: one stored, one refused as bad; the third is limited.
    { post: createRateLimiter({ capacity: 2, perSecond: 0.001 }) },
    "a-moderator-token-of-some-length",
  );
});
