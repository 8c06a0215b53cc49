// Registering bots: the moderator's checks, the body's checks, the token
// answered once, and the `bot` flag on the messages posted with it.
import assert from "node:assert/strict";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../../test/harness/fixtures.ts";
import type { Plaza } from "../plaza.ts";
import postgres from "postgres";
import type { Message } from "../../protocol/message.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";

async function call(
  url: string,
  method: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

async function withPlaza(
  env: Record<string, string>,
  fn: (plaza: Plaza, databaseUrl: string) => Promise<void>,
) {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url, env);
    try {
      await fn(plaza, url);
    } finally {
      await plaza.close();
    }
  });
}

Deno.test("bot routes refuse without moderation, without or with a wrong admin token, and bad bodies", async () => {
  await withPlaza({}, async (plaza) => {
    const off = await call(`${plaza.url}/moderation/bots`, "GET");
    assert.equal(off.status, 404);
    assert.match(String(off.body?.error), /ADMIN_TOKEN/);
  });
  await withPlaza({ ADMIN_TOKEN }, async (plaza) => {
    const bots = `${plaza.url}/moderation/bots`;
    assert.equal((await call(bots, "GET", undefined, null)).status, 401);
    assert.equal(
      (await call(bots, "GET", undefined, "wrong-token")).status,
      403,
    );
    assert.equal(
      (await call(bots, "POST", { name: "Echo" }, "wrong-token")).status,
      403,
    );
    assert.equal(
      (await call(`${bots}/Echo`, "DELETE", undefined, null)).status,
      401,
    );
    const bad: [unknown, RegExp][] = [
      [[], /Body must be an object/],
      [{ name: "" }, /"name"/],
      [{ name: "Echo", colour: "red" }, /Unknown field "colour"/],
      [{ name: "Echo", webhook: "ftp://bot.example.com/" }, /"webhook"/],
      [{ name: "Echo", webhook: "https://u:p@bot.example.com/" }, /"webhook"/],
      [{ name: "Echo", webhook: 7 }, /"webhook"/],
      [
        { name: "Echo", webhook: "https://" + "a".repeat(2000) + ".com" },
        /"webhook"/,
      ],
      [{ name: "Echo", webhook: "http://127.0.0.1:9/" }, /allowLocal/],
      [{ name: "Echo", webhook: "http://[::1]/" }, /allowLocal/],
      [{ name: "Echo", webhook: "http://localhost/" }, /allowLocal/],
      [{ name: "Echo", webhook: "http://10.1.2.3/" }, /allowLocal/],
      [{ name: "Echo", allowLocal: "yes" }, /"allowLocal"/],
      [{ name: "Echo", allowLocal: true }, /needs a "webhook"/],
    ];
    for (const [body, error] of bad) {
      const res = await call(bots, "POST", body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(String(res.body?.error), error);
    }
    assert.equal(
      (await call(`${bots}/${"x".repeat(40)}`, "DELETE")).status,
      400,
    );
    assert.equal((await call(`${bots}/Nobody`, "DELETE")).status, 404);
    // Nothing was registered by any of them.
    assert.deepEqual((await call(bots, "GET")).body, { bots: [] });
  });
});

Deno.test("a registered bot gets its token once, posts messages marked bot, and is unregistered with its name", async () => {
  await withPlaza({ ADMIN_TOKEN }, async (plaza) => {
    const bots = `${plaza.url}/moderation/bots`;
    await claimName(plaza.url, "ada");
    const taken = await call(bots, "POST", { name: "ADA" });
    assert.equal(taken.status, 409);
    assert.match(String(taken.body?.error), /taken/);

    const made = await call(bots, "POST", {
      name: "Echo",
      webhook: "https://bot.example.com/hook",
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const token = String(made.body?.token);
    const secret = String(made.body?.secret);
    assert.equal(made.body?.name, "Echo");
    assert.equal(made.body?.webhook, "https://bot.example.com/hook");
    assert.equal(made.body?.allowLocal, false);
    assert.match(token, /^[\w-]{43}$/);
    assert.match(secret, /^[\w-]{43}$/);
    assert.equal((await call(bots, "POST", { name: "echo" })).status, 409);

    const local = await call(bots, "POST", {
      name: "Helper",
      webhook: "http://127.0.0.1:9/hook",
      allowLocal: true,
    });
    assert.equal(local.status, 201);

    // Listed without the token or the secret.
    const listed = await call(bots, "GET");
    assert.equal(listed.status, 200);
    const list = listed.body?.bots as Record<string, unknown>[];
    assert.deepEqual(list.map((b) => [b.name, b.webhook, b.allowLocal]), [
      ["Echo", "https://bot.example.com/hook", false],
      ["Helper", "http://127.0.0.1:9/hook", true],
    ]);
    assert.ok(!JSON.stringify(listed.body).includes(secret));
    assert.ok(!JSON.stringify(listed.body).includes(token));

    // The bot posts with its token, like any claimed name, and its messages
    // say so; a person's do not.
    const byBot = await postJson(plaza.url, "echo", "beep", { token });
    assert.equal(byBot.author, "Echo");
    assert.equal(byBot.verified, true);
    assert.equal(byBot.bot, true);
    const byPerson = await postJson(plaza.url, "bob", "hello");
    assert.equal(byPerson.bot, false);
    const noToken = await call(
      `${plaza.url}/messages`,
      "POST",
      { author: "Echo", text: "fake" },
      null,
    );
    assert.equal(noToken.status, 403);
    const page = await call(`${plaza.url}/messages`, "GET");
    const stored = (page.body?.messages as Message[]).map((m) => [
      m.author,
      m.bot,
    ]);
    assert.deepEqual(stored, [["Echo", true], ["bob", false]]);

    // Unregistering releases the name: the token no longer works, the name
    // is free, and what the bot wrote stays marked.
    assert.equal((await call(`${bots}/ECHO`, "DELETE")).status, 204);
    assert.equal((await call(`${bots}/Echo`, "DELETE")).status, 404);
    const after = await call(
      `${plaza.url}/messages`,
      "POST",
      { author: "Echo", text: "still me?" },
      token,
    );
    assert.equal(after.status, 201);
    assert.equal(after.body?.verified, false);
    assert.equal(after.body?.bot, false);
    const kept = await call(`${plaza.url}/messages/${byBot.id}`, "GET");
    assert.equal(kept.body?.bot, true);
    assert.deepEqual(
      ((await call(bots, "GET")).body?.bots as { name: string }[]).map((b) =>
        b.name
      ),
      ["Helper"],
    );
  });
});

Deno.test("an idle bot's name is not released to a claim, as a person's idle name is", async () => {
  await withPlaza({ ADMIN_TOKEN, NAME_IDLE_DAYS: "1" }, async (plaza, url) => {
    const made = await call(`${plaza.url}/moderation/bots`, "POST", {
      name: "Sleepy",
    });
    assert.equal(made.status, 201);
    await claimName(plaza.url, "Dozy");
    const sql = postgres(url, { onnotice: () => {} });
    try {
      await sql`update names set last_used_at = now() - interval '2 days'`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    const claim = async (name: string) => {
      const res = await fetch(`${plaza.url}/names`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name }),
      });
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await claim("Dozy"), 201);
    assert.equal(await claim("Sleepy"), 409);
    const bots = await call(`${plaza.url}/moderation/bots`, "GET");
    assert.equal((bots.body?.bots as unknown[]).length, 1);
  });
});
