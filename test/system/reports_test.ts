// Reports hold for the room, not per instance: two instances on one
// database share REPORT_RATE's budget per address, refuse a banned client
// on either (storing nothing), and show moderators the same open list.
import assert from "node:assert/strict";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import type { Plaza } from "../../server/plaza.ts";
import { within } from "../harness/wait.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
/** How long a ban may take to reach another instance. */
const PROPAGATION_MS = 1_000;
/** A message id no test here reaches: a report of it answers 404 unless refused first. */
const NO_MESSAGE = 999_999;

const withinPropagation = <T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
) => within(PROPAGATION_MS, read, holds);

async function call(
  url: string,
  method: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

const report = (base: string, body: Record<string, unknown>) =>
  call(`${base}/reports`, "POST", body);

async function openReports(base: string) {
  const res = await call(
    `${base}/moderation/reports`,
    "GET",
    undefined,
    ADMIN_TOKEN,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body!.reports as { id: number; messageId: number }[];
}

async function withTwo(
  env: Record<string, string>,
  fn: (a: Plaza, b: Plaza) => Promise<void>,
): Promise<void> {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { ADMIN_TOKEN, ...env })),
    );
    try {
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("REPORT_RATE holds across two instances: the third report from one address gets 429 on the other", async () => {
  await withTwo({ REPORT_RATE: "1/60m", REPORT_BURST: "2" }, async (a, b) => {
    const ids = await Promise.all(
      ["one", "two", "three"].map(async (t) =>
        (await postJson(a.url, "x", t)).id
      ),
    );
    assert.equal((await report(a.url, { messageId: ids[0] })).status, 201);
    assert.equal((await report(b.url, { messageId: ids[1] })).status, 201);
    const res = await fetch(`${a.url}/reports`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messageId: ids[2] }),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("Retry-After")) >= 1);
    assert.match((await res.json()).error, /many reports/);
    const refused = await report(b.url, { messageId: ids[2] });
    assert.equal(refused.status, 429);
    assert.deepEqual(
      (await openReports(b.url)).map((r) => r.messageId),
      [ids[1], ids[0]],
    );
  });
});

Deno.test("a banned name or address reports nothing on either instance; moderators' dismissals and deletes show on both", async () => {
  await withTwo({}, async (a, b) => {
    const spam = await postJson(a.url, "spammer", "buy now");
    const other = await postJson(a.url, "ann", "hello");
    const first = await report(a.url, { messageId: other.id, name: "ann" });
    assert.equal(first.status, 201);

    const nameBan = await call(
      `${a.url}/moderation/bans`,
      "POST",
      { name: "Grudge" },
      ADMIN_TOKEN,
    );
    assert.equal(nameBan.status, 201);
    // Waited for with a report of no message (404 until b knows the ban,
    // 403 after), so that no attempt before it stores a report.
    await withinPropagation(
      () => report(b.url, { messageId: NO_MESSAGE, name: "grudge" }),
      (r) => r.status === 403,
    );
    const byName = await report(b.url, { messageId: spam.id, name: "grudge" });
    assert.equal(byName.status, 403);
    assert.match(String(byName.body?.error), /This name is banned/);
    assert.deepEqual(
      (await openReports(a.url)).map((r) => r.id),
      [first.body?.id],
    );

    // Dismissed on one instance, gone from the other's list.
    const dismissed = await call(
      `${b.url}/moderation/reports/${first.body?.id}`,
      "DELETE",
      undefined,
      ADMIN_TOKEN,
    );
    assert.equal(dismissed.status, 204);
    assert.deepEqual(await openReports(a.url), []);

    const made = await report(b.url, { messageId: spam.id, reason: "spam" });
    assert.equal(made.status, 201);
    // The moderator acts on another instance: the message and its report go.
    const deleted = await call(
      `${a.url}/messages/${spam.id}`,
      "DELETE",
      undefined,
      ADMIN_TOKEN,
    );
    assert.equal(deleted.status, 204);
    assert.deepEqual(await openReports(b.url), []);

    const addressBan = await call(
      `${a.url}/moderation/bans`,
      "POST",
      { address: "127.0.0.1" },
      ADMIN_TOKEN,
    );
    assert.equal(addressBan.status, 201);
    await withinPropagation(
      () => report(b.url, { messageId: NO_MESSAGE }),
      (r) => r.status === 403,
    );
    const byAddress = await report(b.url, {
      messageId: other.id,
      reason: "again",
    });
    assert.equal(byAddress.status, 403);
    assert.match(String(byAddress.body?.error), /Your address is banned/);
    assert.equal(
      (await report(a.url, { messageId: other.id })).status,
      403,
    );
    // Nothing any refused report sent is stored.
    assert.deepEqual(await openReports(a.url), []);
  });
});
