// What every answer carries: allowed methods and caching.
import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { type Asset, ROOT_FILES } from "./client_assets.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";
import { expectError, json, withApp } from "../../test/harness/app_requests.ts";

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
