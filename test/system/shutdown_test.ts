// SIGTERM ends every stream, gives up on clients that stopped reading, closes
// the database and exits 0 within 5 s.
import assert from "node:assert/strict";
import postgres from "postgres";
import { withTestDatabase } from "../harness/fixtures.ts";
import {
  openStalledStream,
  startServerProcess,
} from "../harness/server_process.ts";
import { openSse } from "../harness/sse_client.ts";
import { withDeadline } from "../harness/wait.ts";

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
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      // The stalled client really did hold a response open.
      assert.match(stderr, /did not finish within/);
    } finally {
      await server.kill();
      await sql.end({ timeout: 1 });
    }
  });
});
