// The embedded default: `deno task start` with no DATABASE_URL.
import assert from "node:assert/strict";
import { postJson, startTestInstance } from "../test/harness/fixtures.ts";
import { messagesOf, openSse } from "../test/harness/sse_client.ts";

Deno.test("embedded PGlite: POST then receive on /stream, and the data survives a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "plaza_pglite_" });
  try {
    let plaza = await startTestInstance(null, { DATA_DIR: dataDir });
    let first;
    try {
      const stream = await openSse(`${plaza.url}/stream`);
      first = await postJson(plaza.url, "ada", "hello from PGlite");
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [first]);
      await stream.close();
    } finally {
      await plaza.close();
    }
    plaza = await startTestInstance(null, { DATA_DIR: dataDir });
    try {
      const stream = await openSse(`${plaza.url}/stream`);
      const second = await postJson(plaza.url, "bob", "still here");
      await stream.untilMessages(2);
      assert.deepEqual(messagesOf(stream), [first, second]);
      await stream.close();
    } finally {
      await plaza.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
