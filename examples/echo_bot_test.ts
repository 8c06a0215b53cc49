// The example bot against a real Plaza: registered with allowLocal, it is
// mentioned, checks the signature and its echo is posted as its reply; a
// request without Plaza's signature is refused.
import assert from "node:assert/strict";
import { echoBot, verified } from "./echo_bot.ts";
import {
  startTestInstance,
  withTestDatabase,
} from "../test/harness/fixtures.ts";
import { until } from "../test/harness/wait.ts";
import type { Message } from "../protocol/message.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";

Deno.test("the echo bot verifies Plaza's signature and its answer is posted as its reply", async () => {
  let secret = "";
  const statuses: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const res = await echoBot(secret)(request);
      statuses.push(res.status);
      return res;
    },
  ) as Deno.HttpServer<Deno.NetAddr>;
  try {
    await withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { ADMIN_TOKEN });
      try {
        const res = await fetch(`${plaza.url}/moderation/bots`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({
            name: "Echo",
            webhook: `http://127.0.0.1:${server.addr.port}/`,
            allowLocal: true,
          }),
        });
        assert.equal(res.status, 201);
        secret = (await res.json()).secret;
        const posted = await fetch(`${plaza.url}/messages`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ author: "ann", text: "@echo hello there" }),
        });
        const mention: Message = await posted.json();
        const reply = async () => {
          const page = await fetch(`${plaza.url}/messages`);
          const { messages } = await page.json() as { messages: Message[] };
          return messages.find((m) => m.bot);
        };
        await until(async () => (await reply()) !== undefined);
        const answer = await reply();
        assert.equal(answer?.author, "Echo");
        assert.equal(answer?.text, "hello there");
        assert.equal(answer?.replyTo?.id, mention.id);
        assert.deepEqual(statuses, [200]);
      } finally {
        await plaza.close();
      }
    });
    // Unsigned, wrongly signed, or signed too long ago: refused.
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${server.addr.port}/`, {
        method: "POST",
        headers,
        body: "{}",
      });
    const unsigned: Record<string, string>[] = [
      {},
      { "Plaza-Timestamp": "1", "Plaza-Signature": "sha256=00" },
    ];
    for (const headers of unsigned) {
      const res = await post(headers);
      await res.body?.cancel();
      assert.equal(res.status, 401);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("verified refuses an old timestamp even with a right signature", async () => {
  const { signWebhook } = await import("../server/bots/webhook.ts");
  const headers = (t: number) =>
    new Headers({
      "Plaza-Timestamp": String(t),
      "Plaza-Signature": signWebhook("s", t, "{}"),
    });
  assert.equal(await verified("s", headers(1_000_000), "{}", 1_000_010), true);
  assert.equal(await verified("s", headers(1_000_000), "{}", 1_000_400), false);
  assert.equal(await verified("t", headers(1_000_000), "{}", 1_000_010), false);
  assert.equal(
    await verified("s", headers(1_000_000), "{ }", 1_000_010),
    false,
  );
});
