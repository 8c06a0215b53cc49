// N instances behind any load balancer share one room through Postgres: no
// sticky sessions, every client sees every message, in the same order.
import assert from "node:assert/strict";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { messagesOf, openSse } from "../harness/sse_client.ts";

Deno.test("three instances: every client sees every message, in one order", async () => {
  await withTestDatabase(async (url) => {
    const instances = await Promise.all(
      [1, 2, 3].map(() => startTestInstance(url)),
    );
    try {
      // Two readers per instance.
      const readers = await Promise.all(
        instances.flatMap((i) => [i, i]).map((i) =>
          openSse(`${i.url}/stream?history=0`)
        ),
      );
      // Three writers, each round-robin over the instances, at once.
      const posted = (await Promise.all([0, 1, 2].map(async (w) => {
        const mine = [];
        for (let k = 0; k < 40; k++) {
          const target = instances[(w + k) % instances.length];
          mine.push(await postJson(target.url, `writer${w}`, `m${k}`));
        }
        return mine;
      }))).flat().sort((a, b) => a.id - b.id);
      for (const reader of readers) {
        await reader.untilMessages(posted.length);
        assert.deepEqual(messagesOf(reader), posted);
      }
      await Promise.all(readers.map((r) => r.close()));
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});
