// "Who's here" across instances: a stream opened under a name on one
// instance shows in the presence events of streams on another, once per
// name, and goes when its last stream closes.
import assert from "node:assert/strict";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { openSse, type SseClient } from "../harness/sse_client.ts";
import { withDeadline } from "../harness/wait.ts";

// A writes a new name at once and notifies; B's next presence tick (1 s at
// most) reads it and tells its streams. Plus slack for a loaded machine.
const SPREAD_MS = 1_500;
// A name that goes may wait for A's next names write (one per tick), then
// for B's tick.
const LEAVE_MS = 2_500;

function lastNames(client: SseClient): string[] | null {
  const p = client.events.findLast((e) => e.event === "presence");
  return p === undefined ? null : JSON.parse(p.data).names;
}

async function namesBecome(
  client: SseClient,
  want: string[],
  ms = SPREAD_MS,
): Promise<void> {
  await withDeadline(
    client.until(() =>
      JSON.stringify(lastNames(client)) === JSON.stringify(want)
    ),
    ms,
    `presence names ${JSON.stringify(want)} (last: ${
      JSON.stringify(lastNames(client))
    })`,
  );
}

Deno.test("two instances: a named stream on A is listed on B once, and leaves with its last stream", async () => {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all([
      startTestInstance(url),
      startTestInstance(url),
    ]);
    const open: SseClient[] = [];
    try {
      const watcher = await openSse(`${b.url}/stream?history=0`);
      open.push(watcher);
      await namesBecome(watcher, []);
      const ada1 = await openSse(`${a.url}/stream?history=0&name=Ada`);
      open.push(ada1);
      assert.equal(ada1.response.status, 200);
      // Its own first presence event already lists it.
      await ada1.until((e) => e.some((x) => x.event === "presence"));
      assert.deepEqual(lastNames(ada1), ["Ada"]);
      await namesBecome(watcher, ["Ada"]);
      // A second stream under the same name, on B this time: still once.
      const ada2 = await openSse(`${b.url}/stream?history=0&name=Ada`);
      open.push(ada2);
      const bob = await openSse(`${a.url}/stream?history=0&name=bob`);
      open.push(bob);
      await namesBecome(watcher, ["Ada", "bob"]);
      await withDeadline(
        watcher.until(() =>
          JSON.parse(
            watcher.events.findLast((e) => e.event === "presence")!.data,
          ).online === 4
        ),
        SPREAD_MS,
        "online 4",
      );
      await ada1.close();
      await ada2.close();
      await namesBecome(watcher, ["bob"], LEAVE_MS);
    } finally {
      await Promise.all(open.map((s) => s.close()));
      await Promise.all([a.close(), b.close()]);
    }
  });
});
