// SIGTERM first drains (not ready, still serving), then ends every stream with
// a short reconnect hint, gives up on clients that stopped reading, closes the
// database and exits 0 within 5 s.
import assert from "node:assert/strict";
import postgres from "postgres";
import { DEFAULT_DRAIN_MS } from "../../server/config.ts";
import { SHUTDOWN_RETRY_MS } from "../../server/plaza.ts";
import { postJson, withTestDatabase } from "../harness/fixtures.ts";
import {
  openStalledStream,
  startServerProcess,
} from "../harness/server_process.ts";
import { messagesOf, openSse } from "../harness/sse_client.ts";
import { withDeadline } from "../harness/wait.ts";

/** Deno Deploy sends SIGKILL this long after its SIGINT. */
const KILL_AFTER_MS = 5_000;

Deno.test("SIGTERM: streams end, a stalled client does not hold the exit, exit 0 within 5 s", async () => {
  await withTestDatabase(async (url) => {
    const sql = postgres(url, { onnotice: () => {} });
    const server = await startServerProcess({
      DATABASE_URL: url,
      STREAM_BUFFER_BYTES: String(64 * 1024 * 1024),
    });
    try {
      const stalled = await openStalledStream(server.url, "/stream?history=0");
      const reader = await openSse(`${server.url}/stream?history=0`);
      await reader.until((e) => e.some((x) => x.event === "hello"));
      // ~40 MB of live messages: once the reader has them all, the hub has
      // queued the same bytes for the stalled client, far more than its
      // socket buffers hold.
      await sql`insert into messages (author, text)
                select 'seed', repeat('é', 2000) from generate_series(1, 10000)`;
      await reader.untilMessages(10_000);

      const started = Date.now();
      server.child.kill("SIGTERM");
      await reader.ended;
      const status = await withDeadline(
        server.exited(),
        10_000,
        "the server to exit after SIGTERM",
      );
      const elapsed = Date.now() - started;
      stalled.close();
      await reader.close();
      const stderr = await server.stderr;
      assert.equal(status.code, 0, stderr);
      assert.ok(elapsed < KILL_AFTER_MS, `took ${elapsed} ms`);
      // The stalled client really did hold a response open.
      assert.match(stderr, /did not finish within/);
    } finally {
      await server.kill();
      await sql.end({ timeout: 1 });
    }
  });
});

Deno.test("SIGTERM drains: /readyz and /healthz 503 while POSTs still get 201, then the stream gets a short retry and ends; exit 0 within 5 s", async () => {
  await withTestDatabase(async (url) => {
    const sql = postgres(url, { onnotice: () => {} });
    // DRAIN_MS as deployed (unset: the default).
    const server = await startServerProcess({ DATABASE_URL: url });
    try {
      const stream = await openSse(`${server.url}/stream?history=0`);
      // Live: its first presence event comes after the (empty) backlog.
      await stream.until((e) => e.some((x) => x.event === "presence"));
      const before = await fetch(`${server.url}/readyz`);
      assert.equal(before.status, 200);
      await before.body?.cancel();

      const started = performance.now();
      server.child.kill("SIGTERM");
      // The signal is handled in the server's own time and nothing else
      // tells us it was: ask until the answer changes (bounded by the drain).
      let ready = await fetch(`${server.url}/readyz`);
      while (ready.status === 200) {
        await ready.body?.cancel();
        assert.ok(performance.now() - started < DEFAULT_DRAIN_MS, "no 503");
        await new Promise((resolve) => setTimeout(resolve, 10));
        ready = await fetch(`${server.url}/readyz`);
      }
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ok: false, draining: true });
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(await health.json(), { ok: false, draining: true });

      // Still serving: a post is stored (201) and reaches the open stream…
      const posted = await postJson(server.url, "ada", "during the drain");
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [posted]);
      // …and all that happened inside the drain, which is still on.
      const still = await fetch(`${server.url}/readyz`);
      assert.equal(still.status, 503);
      await still.body?.cancel();

      await stream.ended;
      const streamEnded = performance.now() - started;
      assert.ok(
        streamEnded >= DEFAULT_DRAIN_MS,
        `the stream ended ${Math.round(streamEnded)} ms after SIGTERM`,
      );
      // Its last words: come back soon (to an instance that is ready).
      assert.equal(stream.retry, SHUTDOWN_RETRY_MS);

      const status = await withDeadline(
        server.exited(),
        10_000,
        "the server to exit after SIGTERM",
      );
      const elapsed = performance.now() - started;
      assert.equal(status.code, 0, await server.stderr);
      assert.ok(elapsed < KILL_AFTER_MS, `took ${Math.round(elapsed)} ms`);
      await stream.close();
      // The 201 meant stored.
      const [row] =
        await sql`select text from messages where id = ${posted.id}`;
      assert.equal(row?.text, "during the drain");
    } finally {
      await server.kill();
      await sql.end({ timeout: 1 });
    }
  });
});
