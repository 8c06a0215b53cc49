import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";

Deno.test("a draining instance answers /readyz and /healthz with 503 draining, whatever its parts say, and serves the rest", async () => {
  // Only the health checks would reach the database, and draining skips them.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  let draining = false;
  const deps = testAppDependencies(db, hub, { draining: () => draining });
  const app = createApp({
    ...deps,
    store: { ...deps.store, ping: () => Promise.resolve() },
  });
  try {
    for (const path of ["/readyz", "/healthz"]) {
      const ready = await app.request(path);
      assert.equal(ready.status, 200, path);
      assert.deepEqual(await ready.json(), {
        ok: true,
        database: true,
        listener: true,
      });
    }
    draining = true;
    for (const path of ["/readyz", "/healthz"]) {
      const res = await app.request(path);
      assert.equal(res.status, 503, path);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(await res.json(), { ok: false, draining: true });
    }
    const other = await app.request("/metrics");
    assert.equal(other.status, 200);
    await other.body?.cancel();
  } finally {
    hub.close();
    await db.close();
  }
});
