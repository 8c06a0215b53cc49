import assert from "node:assert/strict";
import { createApp, MAX_REQUEST_ID_LENGTH } from "./app.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("X-Request-Id keeps a proxy's id of letters, digits, _ - = up to 128 characters, and replaces any other", async () => {
  // No request here reaches the database.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const app = createApp(testAppDependencies(db, hub));
  const idFor = async (given: string, path = "/nowhere", method = "GET") => {
    const res = await app.request(path, {
      method,
      headers: { "X-Request-Id": given },
    });
    await res.body?.cancel();
    return res.headers.get("x-request-id") ?? "";
  };
  try {
    const longest = "a".repeat(MAX_REQUEST_ID_LENGTH);
    for (
      const kept of [
        "edge-42",
        "Root=1-67a1b2c3-9f3c",
        "snake_case_id",
        crypto.randomUUID(),
        longest,
      ]
    ) {
      assert.equal(await idFor(kept), kept);
    }
    for (
      const replaced of [
        `${longest}a`,
        "a.b",
        "host:8080",
        "a b",
        "é",
        "a/b",
      ]
    ) {
      assert.match(await idFor(replaced), UUID, replaced);
    }
    // On a 405 too, which the method check makes after the routes ran.
    assert.equal(await idFor("edge-7", "/messages", "PUT"), "edge-7");
  } finally {
    hub.close();
    await db.close();
  }
});
