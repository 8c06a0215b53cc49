// Moderators' bans hold on every instance sharing the database: a ban made
// through one instance refuses the name's or address's writes on the other
// within a second.
import assert from "node:assert/strict";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import type { Plaza } from "../../server/plaza.ts";
import { within } from "../harness/wait.ts";
import { runModerate } from "../harness/moderate_cli.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
// A browser's push keys and an endpoint on a default push service.
const P256DH =
  "BJFdv8MMVorCzkEPImokojPYMDpqr7bI0Mc5920Z15qdP2byt1PXah2pl5kthnoj5XoacTXg-UZfcv8DDazQ3ak";
const AUTH = "AAECAwQFBgcICQoLDA0ODw";
/** How long a ban may take to reach another instance. */
const PROPAGATION_MS = 1_000;
const withinPropagation = <T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
) => within(PROPAGATION_MS, read, holds);

function json(
  method: string,
  body: unknown,
  token: string | null = null,
): RequestInit {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return { method, headers, body: JSON.stringify(body) };
}

async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

function ban(base: string, body: unknown) {
  return call(`${base}/moderation/bans`, json("POST", body, ADMIN_TOKEN));
}

/** Every write a banned name makes, with the status each answers. */
async function nameWrites(base: string, name: string, token: string) {
  return {
    post: (await call(
      `${base}/messages`,
      json("POST", { author: name, text: "hi" }, token),
    )).status,
    typing:
      (await call(`${base}/typing`, json("POST", { author: name }))).status,
    claim: (await call(`${base}/names`, json("POST", { name }))).status,
    reaction: (await call(
      `${base}/messages/1/reactions`,
      json("POST", { emoji: "👍" }, token),
    )).status,
    push: (await call(
      `${base}/push/subscriptions`,
      json("POST", {
        subscription: {
          endpoint: `https://fcm.googleapis.com/fcm/send/${name}`,
          keys: { p256dh: P256DH, auth: AUTH },
        },
        name,
      }),
    )).status,
  };
}

async function withTwo(fn: (a: Plaza, b: Plaza) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      // Polling sends typing notices faster than the default allows.
      [1, 2].map(() =>
        startTestInstance(url, { ADMIN_TOKEN, TYPING_RATE: "100/1s" })
      ),
    );
    try {
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("a name banned on one instance is refused everywhere within a second, and unbanned", async () => {
  await withTwo(async (a, b) => {
    const token = await claimName(a.url, "rex");
    await postJson(a.url, "rex", "first", { token });
    const made = await ban(a.url, { name: "Rex", reason: "spam" });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body?.name, "Rex");
    assert.equal(made.body?.expiresAt, null);
    const refused = await withinPropagation(
      () => nameWrites(b.url, "rex", token),
      (w) => Object.values(w).every((status) => status === 403),
    );
    assert.deepEqual(refused, {
      post: 403,
      typing: 403,
      claim: 403,
      reaction: 403,
      push: 403,
    });
    const answer = await call(
      `${b.url}/messages`,
      json("POST", { author: "REX", text: "hi" }, token),
    );
    assert.match(String(answer.body?.error), /banned.*Reason: spam/);
    // Others are not affected.
    await postJson(b.url, "ann", "still here");

    const listed = await call(`${b.url}/moderation/bans`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.body?.bans as { id: number }[]).map((x) => x.id),
      [made.body?.id],
    );
    const lifted = await call(`${b.url}/moderation/bans/${made.body?.id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(lifted.status, 204);
    await withinPropagation(
      () => nameWrites(a.url, "rex", token),
      (w) => w.post === 201 && w.typing === 202 && w.reaction === 200,
    );
  });
});

Deno.test("an address range ban refuses that address's writes on every instance; reads pass", async () => {
  await withTwo(async (a, b) => {
    const made = await ban(a.url, {
      address: "127.0.0.0/8",
      durationSeconds: 3600,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(typeof made.body?.expiresAt, "string");
    const post = await withinPropagation(
      () =>
        call(`${b.url}/messages`, json("POST", { author: "ann", text: "x" })),
      (r) => r.status === 403,
    );
    assert.match(String(post.body?.error), /Your address is banned/);
    assert.equal(
      (await call(`${b.url}/typing`, json("POST", { author: "ann" }))).status,
      403,
    );
    assert.equal(
      (await call(`${b.url}/names`, json("POST", { name: "newbie" }))).status,
      403,
    );
    assert.equal((await call(`${b.url}/messages`)).status, 200);
    // The moderator, on the same address, can still lift it.
    const lifted = await call(`${b.url}/moderation/bans/${made.body?.id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(lifted.status, 204);
    await withinPropagation(
      () =>
        call(`${a.url}/messages`, json("POST", { author: "ann", text: "y" })),
      (r) => r.status === 201,
    );
  });
});

Deno.test("removeRecentMessages deletes the name's recent messages through the change log", async () => {
  await withTwo(async (a, b) => {
    const spam = [
      await postJson(a.url, "spammer", "buy"),
      await postJson(b.url, "Spammer", "now"),
    ];
    const kept = await postJson(a.url, "ann", "hello");
    const reader = await openSse(`${b.url}/stream?history=0`);
    try {
      const made = await ban(a.url, {
        name: "spammer",
        removeRecentMessages: true,
      });
      assert.equal(made.status, 201);
      assert.equal(made.body?.removedMessages, 2);
      await reader.until((events) =>
        events.filter((e) => e.event === "delete").length === 2
      );
      const { messages: all }: { messages: { id: number }[] } =
        await (await fetch(`${b.url}/messages`)).json();
      assert.deepEqual(all.map((m) => m.id), [kept.id]);
      assert.ok(spam.every((m) => !all.some((x) => x.id === m.id)));
    } finally {
      await reader.close();
    }
  });
});

Deno.test("moderation routes: 401 without a token, 403 with a wrong one, 400 for bad bodies, 404 for no ban", async () => {
  await withTwo(async (a) => {
    const base = `${a.url}/moderation/bans`;
    assert.equal((await call(base, json("POST", { name: "x" }))).status, 401);
    assert.equal(
      (await call(base, json("POST", { name: "x" }, "wrong-token-0123456789")))
        .status,
      403,
    );
    assert.equal((await call(base)).status, 401);
    for (
      const body of [
        {},
        { name: "x", address: "127.0.0.1" },
        { name: "" },
        { name: 7 },
        { address: "not an ip" },
        { address: "10.0.0.0/33" },
        { name: "x", durationSeconds: 0 },
        { name: "x", durationSeconds: 1.5 },
        { name: "x", durationSeconds: "soon" },
        { name: "x", reason: "x".repeat(501) },
        { name: "x", reason: 5 },
        { name: "x", removeRecentMessages: "yes" },
        { address: "10.0.0.1", removeRecentMessages: true },
        { name: "x", extra: 1 },
        [],
        "text",
        null,
      ]
    ) {
      const answer = await ban(a.url, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(typeof answer.body?.error, "string");
    }
    const notJson = await call(base, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: "{",
    });
    assert.equal(notJson.status, 400);
    for (const id of ["0x1", "abc", "99999999999999999999"]) {
      const answer = await call(`${base}/${id}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(answer.status, 400, id);
    }
    const none = await call(`${base}/12345`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(none.status, 404);
    const listed = await call(base, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.deepEqual(listed.body, { bans: [] }, "bad input changed nothing");
  });
});

Deno.test("deno task moderate: ban, bans and unban", async () => {
  await withTwo(async (a) => {
    const moderate = (...args: string[]) =>
      runModerate(a.url, ADMIN_TOKEN, ...args);
    const made = await moderate(
      "ban",
      "name",
      "troll",
      "--duration",
      "600",
      "--reason",
      "flooding",
    );
    assert.equal(made.code, 0, made.text);
    const id = made.text.match(/^ban (\d+):/)?.[1];
    assert.ok(id, made.text);
    const listed = await moderate("bans");
    assert.match(
      listed.text,
      new RegExp(`^${id}\ttroll\tuntil .*\tflooding`, "m"),
    );
    assert.equal((await moderate("ban", "address", "nonsense")).code, 1);
    assert.equal((await moderate("ban", "elsewhere")).code, 2);
    const lifted = await moderate("unban", id);
    assert.equal(lifted.code, 0, lifted.text);
    assert.match((await moderate("bans")).text, /no bans in force/);
  });
});

Deno.test("bans on the embedded database (PGlite): the migration, the trigger and the check", async () => {
  const dataDir = await Deno.makeTempDir();
  const plaza = await startTestInstance(null, {
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
  });
  try {
    const made = await ban(plaza.url, { name: "pest", durationSeconds: 600 });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const post = await call(
      `${plaza.url}/messages`,
      json("POST", { author: "Pest", text: "hi" }),
    );
    assert.equal(post.status, 403);
    assert.match(String(post.body?.error), /This name is banned .* until 20/);
  } finally {
    await plaza.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
