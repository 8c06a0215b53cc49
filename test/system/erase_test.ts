// "Erase everything I posted" on two instances sharing one database: only
// the name's token erases, the erasure removes the name's messages and
// reactions through the change log and releases the name, and a client
// resuming from before it (on the other instance) is told of every delete
// and never shown an erased message.
import assert from "node:assert/strict";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import {
  allMessages,
  applyEvent,
  messagesIn,
  type RoomState,
} from "../harness/room_state.ts";
import type { Message } from "../../protocol/message.ts";

function erase(base: string, name: string, token?: string) {
  return fetch(`${base}/names/${encodeURIComponent(name)}/messages`, {
    method: "DELETE",
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}

Deno.test("DELETE /names/<name>/messages: 401 without a token, 403 with a wrong one, and with the right one every message and reaction goes, resumably, and the name is free", async () => {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url)),
    );
    try {
      const ada = await claimName(a.url, "ada");
      const bob = await claimName(a.url, "bob");
      const first = await postJson(a.url, "ada", "one", { token: ada });
      const kept = await postJson(a.url, "bob", "bob's", { token: bob });
      const second = await postJson(a.url, "ada", "two", { token: ada });
      // Ada's reaction on Bob's message, Bob's on Ada's.
      for (
        const [id, token] of [[kept.id, ada], [first.id, bob]] as const
      ) {
        const res = await fetch(`${a.url}/messages/${id}/reactions`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ emoji: "👍" }),
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      const third = await postJson(a.url, "ada", "three", { token: ada });
      const before = await allMessages(b.url);

      const none = await erase(b.url, "ada");
      assert.equal(none.status, 401);
      await none.body?.cancel();
      for (const wrong of [bob, "not-a-token"]) {
        const res = await erase(b.url, "ada", wrong);
        assert.equal(res.status, 403);
        assert.match((await res.json()).error, /not the token of the name/);
      }
      const nobody = await erase(b.url, "carol", ada);
      assert.equal(nobody.status, 404);
      await nobody.body?.cancel();
      assert.deepEqual(await allMessages(b.url), before);

      // This client saw everything up to Ada's second message, then left.
      const seen: RoomState = new Map(
        before.filter((m) => m.id <= second.id).map((m) => [m.id, m]),
      );
      const res = await erase(b.url, "ada", ada);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        name: "ada",
        removedMessages: 3,
        removedReactions: 1,
        released: true,
      });

      // What is left: Bob's message, without Ada's reaction.
      const after = await allMessages(a.url);
      assert.deepEqual(after.map((m) => m.id), [kept.id]);
      assert.deepEqual(after[0].reactions, []);

      const resumed = await openSse(`${a.url}/stream`, {
        lastEventId: second.id,
      });
      try {
        await resumed.until((e) =>
          e.filter((x) => x.event === "delete").length === 3
        );
      } finally {
        await resumed.close();
      }
      const shown = resumed.events
        .filter((e) => e.event === "message")
        .map((e) => (JSON.parse(e.data) as Message).id);
      assert.ok(!shown.includes(third.id), "an erased message is not shown");
      for (const e of resumed.events) applyEvent(seen, e);
      assert.deepEqual(messagesIn(seen), after);

      // The name is free again, on the other instance too; the old token
      // is no one's.
      const again = await fetch(`${b.url}/names`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "ada" }),
      });
      assert.equal(again.status, 201);
      await again.body?.cancel();
      const stale = await erase(a.url, "ada", ada);
      assert.equal(stale.status, 403);
      await stale.body?.cancel();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
