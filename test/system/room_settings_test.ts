// The pinned notice and the lockdown hold for the room, not per instance: set
// through one instance (with `deno task moderate`) they reach the other's
// streams within a second, a resuming stream is told them as it opens, and
// the other instance enforces the lockdown.
import assert from "node:assert/strict";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import type { Plaza } from "../../server/plaza.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import { runModerate } from "../harness/moderate_cli.ts";
import { untilRoom } from "../harness/room_events.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
/** How long a change may take to reach another instance's streams. */
const PROPAGATION_MS = 1_000;

async function send(
  url: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const post = (url: string, author: string, token?: string) =>
  send(url, "/messages", { author, text: "hello" }, token);

async function withTwo(fn: (a: Plaza, b: Plaza) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { ADMIN_TOKEN })),
    );
    try {
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("a notice set on one instance reaches the other's streams within a second and every resuming stream; GET /room agrees", async () => {
  await withTwo(async (a, b) => {
    const onB = await openSse(`${b.url}/stream?history=0`);
    try {
      assert.equal((await untilRoom(onB, () => true)).notice, null);
      const started = Date.now();
      const set = await runModerate(
        a.url,
        ADMIN_TOKEN,
        "notice",
        "set",
        "**Welcome.** Read the [rules](https://example.com/rules).",
      );
      assert.equal(set.code, 0, set.text);
      assert.match(set.text, /^notice \(version \d+, set .*\):\n\*\*Welcome/);
      const told = await untilRoom(onB, (r) => r.notice !== null);
      assert.ok(
        Date.now() - started < PROPAGATION_MS + 2_000,
        "the command's own start-up is most of this",
      );
      assert.equal(
        told.notice?.text,
        "**Welcome.** Read the [rules](https://example.com/rules).",
      );
      // Measured without the CLI: a change through A, seen on B.
      const at = Date.now();
      const changed = await fetch(`${a.url}/moderation/notice`, {
        method: "PUT",
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ text: "Changed" }),
      });
      const answer: RoomEvent = await changed.json();
      const seen = await untilRoom(
        onB,
        (r) => r.notice?.text === "Changed",
        PROPAGATION_MS,
      );
      assert.ok(Date.now() - at < PROPAGATION_MS);
      assert.deepEqual(seen.notice, answer.notice);
      assert.ok(answer.notice!.version > told.notice!.version);

      // A client resuming with Last-Event-ID is told the notice at connect.
      await post(a.url, "ann");
      const resumed = await openSse(`${b.url}/stream`, { lastEventId: 1 });
      try {
        assert.deepEqual(
          (await untilRoom(resumed, () => true)).notice,
          answer.notice,
        );
      } finally {
        await resumed.close();
      }
      const room: RoomEvent = await (await fetch(`${b.url}/room`)).json();
      assert.deepEqual(room.notice, answer.notice);

      const cleared = await runModerate(b.url, ADMIN_TOKEN, "notice", "clear");
      assert.equal(cleared.code, 0, cleared.text);
      assert.equal(cleared.text.trim(), "no notice");
      await untilRoom(onB, (r) => r.notice === null);
    } finally {
      await onB.close();
    }
  });
});

Deno.test("a lockdown set on one instance is told to and enforced by the other within a second, for all or for newer names, and lifted", async () => {
  await withTwo(async (a, b) => {
    const claim = async (name: string) =>
      (await send(a.url, "/names", { name })).body.token as string;
    const oldToken = await claim("Old");
    const onA = await openSse(`${a.url}/stream?history=0`);
    const onB = await openSse(`${b.url}/stream?history=0`);
    try {
      await untilRoom(onB, () => true);
      const all = await runModerate(
        a.url,
        ADMIN_TOKEN,
        "lockdown",
        "all",
        "--reason",
        "Back in ten minutes",
      );
      assert.equal(all.code, 0, all.text);
      assert.match(all.text, /read-only for everyone \(reason: Back in ten/);
      await untilRoom(onB, (r) => r.lockdown?.scope === "all");
      const refused = await post(b.url, "Old", oldToken);
      assert.equal(refused.status, 403);
      assert.match(`${refused.body.error}`, /read-only.*Back in ten minutes/);
      assert.equal(
        (await send(b.url, "/typing", { author: "Old" })).status,
        403,
      );

      // A raid: names claimed from now on stay read-only; Old may post.
      const since = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const newToken = await claim("New");
      const at = Date.now();
      const newer = await fetch(`${b.url}/moderation/lockdown`, {
        method: "PUT",
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ scope: "newer", since, reason: "Raid" }),
      });
      assert.equal(newer.status, 200);
      await newer.body?.cancel();
      await untilRoom(
        onA,
        (r) => r.lockdown?.scope === "newer",
        PROPAGATION_MS,
      );
      assert.ok(Date.now() - at < PROPAGATION_MS);
      assert.equal((await post(a.url, "Old", oldToken)).status, 201);
      const raider = await post(a.url, "New", newToken);
      assert.equal(raider.status, 403);
      assert.match(`${raider.body.error}`, /names claimed after.*Raid/);
      assert.equal((await post(a.url, "Nobody")).status, 403);

      const off = await runModerate(b.url, ADMIN_TOKEN, "lockdown", "off");
      assert.equal(off.code, 0, off.text);
      await untilRoom(onA, (r) => r.lockdown === null);
      assert.equal((await post(a.url, "New", newToken)).status, 201);
    } finally {
      await onA.close();
      await onB.close();
    }
  });
});
