// Clients that stop reading must not cost the server unbounded memory, nor
// hold up the readers that keep up.
import assert from "node:assert/strict";
import postgres from "postgres";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import {
  openStalledStream,
  rssBytes,
  startServerProcess,
} from "../../test/harness/server_process.ts";
import { messageEvents, openSse } from "../../test/harness/sse_client.ts";
import { withDeadline } from "../../test/harness/wait.ts";

const STALLED = 200;
const MESSAGES = 20_000;
const BUFFER = 256 * 1024;

/** Reads until the server closes the connection; rejects after `ms`. */
function readToEnd(conn: Deno.Conn, ms: number): Promise<number> {
  const read = async () => {
    const buf = new Uint8Array(256 * 1024);
    let total = 0;
    for (;;) {
      const n = await conn.read(buf).catch((error) => {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      });
      if (n === null) return total;
      total += n;
    }
  };
  return withDeadline(read(), ms, "the server to close a stalled stream");
}

Deno.test("200 stalled readers while 20,000 messages pass: they are dropped, memory stays bounded, live readers get everything", async () => {
  await withTestDatabase(async (url) => {
    const server = await startServerProcess({
      DATABASE_URL: url,
      STREAM_BUFFER_BYTES: String(BUFFER),
    });
    const sql = postgres(url, { onnotice: () => {} });
    const stalled: Deno.Conn[] = [];
    const live = await openSse(`${server.url}/stream?history=0`);
    try {
      for (let i = 0; i < STALLED; i++) {
        stalled.push(
          await openStalledStream(server.url, "/stream?history=0"),
        );
      }
      const before = await rssBytes(server.pid);
      // In batches, each one delivered to the live reader before the next:
      // about 12 MB per stream in all, far beyond buffers and socket queues.
      for (let sent = 0; sent < MESSAGES; sent += 1000) {
        await sql`insert into messages (author, text)
                  select 'load', repeat('x', 500) from generate_series(1, 1000)`;
        await live.untilMessages(sent + 1000);
      }
      const after = await rssBytes(server.pid);
      const ids = messageEvents(live).map((e) => Number(e.id));
      assert.equal(ids.length, MESSAGES);
      assert.ok(ids.every((id, i) => i === 0 || id === ids[i - 1] + 1));
      // Each stalled stream was cut off: reading it now reaches the end
      // long before the 12 MB it would otherwise carry.
      for (const conn of stalled) {
        const got = await readToEnd(conn, 10_000);
        assert.ok(
          got < 8 * 1024 * 1024,
          `a stalled stream carried ${got} bytes`,
        );
      }
      // 200 queues of at most 256 KiB: tens of MB. Unbounded they would
      // hold 2.4 GB.
      const grown = (after - before) / 1024 / 1024;
      assert.ok(grown < 200, `server memory grew by ${grown.toFixed(0)} MB`);
    } finally {
      for (const conn of stalled) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await live.close();
      await sql.end({ timeout: 1 });
      await server.kill();
    }
  });
});
