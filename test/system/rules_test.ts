// Word and link rules hold for the room, not per instance: a rule added
// through one instance refuses posts on another within a second, a mute
// handed out on one silences the name on both, and a held message reaches
// its author's streams wherever they are, nobody else's, until a moderator
// approves it; then everyone gets it once, resumed streams included.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { openSse, type SseClient } from "../harness/sse_client.ts";
import type { Plaza } from "../../server/plaza.ts";
import type { Message } from "../../protocol/message.ts";
import { withDeadline, within } from "../harness/wait.ts";
import { runModerate } from "../harness/moderate_cli.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
/** How long a rule may take to reach another instance. */
const PROPAGATION_MS = 1_000;
/** How long the other waits may take on a loaded machine (they measure nothing). */
const WAIT_MS = 10_000;

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

const post = (base: string, author: string, text: string, token?: string) =>
  call(`${base}/messages`, "POST", { author, text }, token ?? null);

async function withTwo(
  fn: (a: Plaza, b: Plaza, databaseUrl: string) => Promise<void>,
) {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { ADMIN_TOKEN })),
    );
    try {
      await fn(a, b, url);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

/** Parsed `message` events of a stream. */
const messages = (s: SseClient): Message[] =>
  s.events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data));
const hasMessage = (s: SseClient, id: number) =>
  withDeadline(
    s.until(() => messages(s).some((m) => m.id === id)),
    WAIT_MS,
    `message ${id}`,
  );
const deleted = (s: SseClient) =>
  s.events.filter((e) => e.event === "delete").map((e) =>
    JSON.parse(e.data).id as number
  );
const hasDelete = (s: SseClient, id: number) =>
  withDeadline(
    s.until(() => deleted(s).includes(id)),
    WAIT_MS,
    `delete ${id}`,
  );

Deno.test("a rule added on one instance refuses posts on the other within a second, and its removal too", async () => {
  await withTwo(async (a, b) => {
    const added = await call(`${a.url}/moderation/rules`, "POST", {
      word: "forbidden",
      action: "refuse",
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const refused = await within(
      PROPAGATION_MS,
      () => post(b.url, "ann", "a FORBIDDEN word"),
      (r) => r.status === 422,
    );
    assert.match(String(refused.body?.error), /not posted/);
    const removed = await call(
      `${a.url}/moderation/rules/${added.body?.id}`,
      "DELETE",
    );
    assert.equal(removed.status, 204);
    await within(
      PROPAGATION_MS,
      () => post(b.url, "ann", "a forbidden word"),
      (r) => r.status === 201,
    );
  });
});

Deno.test("a mute handed out on one instance silences the name on the other", async () => {
  await withTwo(async (a, b) => {
    const cli = await runModerate(
      a.url,
      ADMIN_TOKEN,
      "rules",
      "add",
      "word",
      "scam",
      "mute",
      "--minutes",
      "5",
    );
    assert.equal(cli.code, 0, cli.text);
    assert.match(cli.text, /mute 5 min\tword "scam"/);
    await within(
      PROPAGATION_MS,
      () => post(b.url, "mal", "a scam"),
      (r) => r.status === 403,
    );
    const muted = await within(
      PROPAGATION_MS,
      () => post(a.url, "Mal", "nice words"),
      (r) => r.status === 403,
    );
    assert.match(String(muted.body?.error), /"Mal" may not post until/);
    assert.equal((await post(a.url, "ann", "nice words")).status, 201);
  });
});

Deno.test("a held message reaches only its author's streams, on every instance, until approved; then everyone gets it once, resumes included", async () => {
  await withTwo(async (a, b) => {
    const cli = await runModerate(
      b.url,
      ADMIN_TOKEN,
      "rules",
      "add",
      "domain",
      "shady.example",
      "hold",
    );
    assert.equal(cli.code, 0, cli.text);
    const token = await claimName(a.url, "ann");
    const before = await postJson(a.url, "bob", "before");
    const authorOnB = await openSse(`${b.url}/stream?name=ann&history=10`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const readerOnA = await openSse(`${a.url}/stream?history=10`);
    const readerOnB = await openSse(`${b.url}/stream?name=bob&history=10`);
    const streams = [authorOnB, readerOnA, readerOnB];
    try {
      await Promise.all(streams.map((s) => hasMessage(s, before.id)));
      const held = await within(
        PROPAGATION_MS,
        () => post(a.url, "ann", "see https://shady.example/x", token),
        (r) => r.status === 202,
      );
      const heldId = held.body?.id as number;
      assert.equal(held.body?.held, true);
      await hasMessage(authorOnB, heldId);
      const shown = messages(authorOnB).find((m) => m.id === heldId)!;
      assert.equal(shown.held, true);
      const heldEvent = authorOnB.events.find((e) =>
        e.event === "message" && JSON.parse(e.data).id === heldId
      );
      assert.equal(heldEvent?.id, undefined, "no resume point moves past it");

      // The author's new stream shows it too (as it goes live).
      const authorAgain = await openSse(
        `${a.url}/stream?name=ann&since=${before.id}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      streams.push(authorAgain);
      await hasMessage(authorAgain, heldId);

      // A later message reaches everyone; the held one reached no reader.
      const marker = await postJson(b.url, "bob", "marker");
      await Promise.all(streams.map((s) => hasMessage(s, marker.id)));
      for (const s of [readerOnA, readerOnB]) {
        assert.ok(!messages(s).some((m) => m.id === heldId));
      }
      const history = await call(`${b.url}/messages`, "GET", undefined, null);
      assert.ok(
        !(history.body?.messages as Message[]).some((m) => m.id === heldId),
      );
      const search = await call(
        `${a.url}/messages?q=shady`,
        "GET",
        undefined,
        null,
      );
      assert.deepEqual(search.body?.messages, []);

      const listed = await runModerate(a.url, ADMIN_TOKEN, "held");
      assert.match(listed.text, new RegExp(`held ${heldId}: .*shady.example`));
      const approved = await runModerate(
        b.url,
        ADMIN_TOKEN,
        "held",
        "approve",
        String(heldId),
      );
      assert.equal(approved.code, 0, approved.text);
      const newId = Number(/now message (\d+)/.exec(approved.text)![1]);
      assert.ok(newId > marker.id);
      await Promise.all(streams.map((s) => hasMessage(s, newId)));
      const posted = messages(readerOnA).find((m) => m.id === newId)!;
      assert.equal(posted.text, "see https://shady.example/x");
      assert.equal(posted.author, "ann");
      assert.equal(posted.held, undefined);
      // The author's held copy goes.
      await hasDelete(authorOnB, heldId);

      // A client resuming from before the approval gets it exactly once.
      const resumed = await openSse(`${b.url}/stream`, {
        lastEventId: marker.id,
      });
      streams.push(resumed);
      const after = await postJson(a.url, "bob", "after");
      await hasMessage(resumed, after.id);
      assert.deepEqual(
        messages(resumed).map((m) => m.id),
        [newId, after.id],
      );
      assert.deepEqual(deleted(resumed), [heldId]);
      // And everyone has it once.
      for (const s of streams) {
        await hasMessage(s, after.id);
        assert.equal(messages(s).filter((m) => m.id === newId).length, 1);
      }
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
  });
});

Deno.test("a rejected held message leaves its author's streams and is never posted", async () => {
  await withTwo(async (a, b) => {
    await call(`${a.url}/moderation/rules`, "POST", {
      word: "maybe spam",
      action: "hold",
    });
    const token = await claimName(b.url, "ann");
    const author = await openSse(`${a.url}/stream?name=ann&history=0`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    try {
      const held = await within(
        PROPAGATION_MS,
        () => post(b.url, "ann", "Maybe   SPAM?", token),
        (r) => r.status === 202,
      );
      const heldId = held.body?.id as number;
      await hasMessage(author, heldId);
      const rejected = await runModerate(
        a.url,
        ADMIN_TOKEN,
        "held",
        "reject",
        String(heldId),
      );
      assert.equal(rejected.code, 0, rejected.text);
      await hasDelete(author, heldId);
      const history = await call(`${a.url}/messages`, "GET", undefined, null);
      assert.deepEqual(history.body?.messages, []);
      const again = await runModerate(a.url, ADMIN_TOKEN, "held");
      assert.match(again.text, /no held messages/);
    } finally {
      await author.close();
    }
  });
});

Deno.test("the newcomer delay holds across instances: an address first seen on one is new on the other", async () => {
  await withTestDatabase(async (url) => {
    const env = { NEWCOMER_DELAY_MINUTES: "5" };
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, env)),
    );
    try {
      assert.equal((await post(a.url, "ann", "hello")).status, 201);
      const refused = await post(b.url, "ann", "https://example.com");
      assert.equal(refused.status, 403);
      assert.match(String(refused.body?.error), /new here/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

Deno.test("held messages reach the author's streams before their rejection, also when too large for a NOTIFY payload", async () => {
  await withTwo(async (a, b, databaseUrl) => {
    await call(`${a.url}/moderation/rules`, "POST", {
      word: "wait",
      action: "hold",
    });
    const token = await claimName(b.url, "ann");
    const author = await openSse(`${a.url}/stream?name=ann&history=0`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // Held and rejected in one transaction: both notifications arrive
      // together, the row is gone before anyone could read it, and still
      // the author is shown the message first, then its end.
      const [claim] = await sql`select id from names where key = 'ann'`;
      const quick = await sql.begin(async (tx) => {
        const [row] = await tx`
          insert into held_messages (author, text, name_id)
          values ('ann', 'wait for it', ${claim.id}) returning id`;
        await tx`delete from held_messages where id = ${row.id}`;
        return Number(row.id);
      });
      await hasDelete(author, quick);
      const about = author.events.filter((e) =>
        (e.event === "message" || e.event === "delete") &&
        JSON.parse(e.data).id === quick
      ).map((e) => e.event);
      assert.deepEqual(about, ["message", "delete"]);
      // 4 bytes a character: past the 8000 bytes a payload may carry, so
      // it is read from the table.
      const large = (await within(
        PROPAGATION_MS,
        () => post(b.url, "ann", `wait ${"😀".repeat(1990)}`, token),
        (r) => r.status === 202,
      )).body?.id as number;
      await hasMessage(author, large);
      const shown = messages(author).find((m) => m.id === large)!;
      assert.equal(shown.held, true);
      assert.equal([...shown.text].length, 1995);
    } finally {
      await sql.end({ timeout: 1 });
      await author.close();
    }
  });
});
