// Every bad input gets its status and a JSON error, and changes nothing.
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";
import {
  expectError,
  form,
  json,
  withApp,
} from "../../test/harness/app_requests.ts";

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
      "attachments",
      "author",
      "bot",
      "clientId",
      "createdAt",
      "editedAt",
      "id",
      "preview",
      "reactions",
      "replyTo",
      "text",
      "verified",
    ]);
    assert.equal(m.verified, false);
    assert.equal(m.bot, false);
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
