// MAX_STREAMS's default comes from the memory the instance may use: past
// what fits, a new stream gets 503 with Retry-After rather than the instance
// running out of memory (on Deno Deploy, being killed at 768 MB).
import assert from "node:assert/strict";
import { streamsForMemory } from "../../server/config.ts";
import { startServerProcess } from "../harness/server_process.ts";
import { withTestDatabase } from "../harness/fixtures.ts";
import { openSse, type SseClient } from "../harness/sse_client.ts";

Deno.test("with MEMORY_LIMIT_MB and no MAX_STREAMS, the instance takes the streams that memory holds and answers 503 with Retry-After beyond", async () => {
  // Just above the instance's base: a handful of streams fit.
  const limitMb = 129;
  const fits = streamsForMemory(limitMb * 1024 * 1024, false);
  assert.ok(fits > 1 && fits < 50, `${fits}`);
  await withTestDatabase(async (url) => {
    const server = await startServerProcess({
      DATABASE_URL: url,
      MEMORY_LIMIT_MB: String(limitMb),
    });
    const streams: SseClient[] = [];
    try {
      for (let i = 0; i < fits; i++) {
        const stream = await openSse(`${server.url}/stream?history=0`);
        assert.equal(stream.response.status, 200);
        await stream.until((e) => e.some((x) => x.event === "hello"));
        streams.push(stream);
      }
      const over = await fetch(`${server.url}/stream?history=0`);
      assert.equal(over.status, 503);
      assert.equal(over.headers.get("Retry-After"), "10");
      await over.body?.cancel();
    } finally {
      await Promise.all(streams.map((s) => s.close()));
      await server.kill();
    }
  });
});
