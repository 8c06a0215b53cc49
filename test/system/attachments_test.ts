// Pictures hold for the room, not per instance: the upload limits and the
// storage cap are spent across two instances, a moderator's delete (or a
// ban removing recent messages) through one makes the picture 410 on the
// other, and a stream resuming with Last-Event-ID replays image messages
// with their attachments.
import assert from "node:assert/strict";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { messagesOf, openSse } from "../harness/sse_client.ts";
import { pngBytes } from "../harness/images.ts";
import type { Plaza } from "../../server/plaza.ts";
import type { Message } from "../../protocol/message.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";

async function withTwo(
  env: Record<string, string>,
  fn: (a: Plaza, b: Plaza) => Promise<void>,
) {
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

async function upload(
  base: string,
  bytes: Uint8Array<ArrayBuffer>,
  name = "Ada",
): Promise<{ status: number; body: { id: string; error?: string } }> {
  const res = await fetch(
    `${base}/attachments?name=${encodeURIComponent(name)}`,
    { method: "POST", headers: { "Content-Type": "image/png" }, body: bytes },
  );
  return { status: res.status, body: await res.json() };
}

async function postPicture(
  base: string,
  id: string,
  author = "Ada",
): Promise<Message> {
  const res = await fetch(`${base}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author, text: "", attachments: [{ id, alt: "x" }] }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function statusOf(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("the upload rate and the storage cap are spent across two instances", async () => {
  await withTwo({ UPLOAD_RATE: "3/1m", UPLOAD_BURST: "3" }, async (a, b) => {
    const statuses = [];
    for (const [base, size] of [[a, 4], [b, 5], [a, 6], [b, 7]] as const) {
      statuses.push(
        (await upload(base.url, await pngBytes(size, size))).status,
      );
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });
  await withTwo({ IMAGE_STORAGE_CAP: "30000" }, async (a, b) => {
    assert.equal((await upload(a.url, await pngBytes(80, 80))).status, 201);
    const full = await upload(b.url, await pngBytes(81, 81));
    assert.equal(full.status, 507);
    assert.match(full.body.error ?? "", /storage is full/);
  });
});

Deno.test("a moderator's delete on one instance makes the picture 410 on the other; so does a ban removing recent messages", async () => {
  await withTwo({}, async (a, b) => {
    const first = await upload(a.url, await pngBytes(500, 300));
    const m = await postPicture(a.url, first.body.id);
    assert.equal(await statusOf(`${b.url}/attachments/${first.body.id}`), 200);
    assert.equal(
      await statusOf(`${a.url}/messages/${m.id}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
      204,
    );
    for (const path of ["", "/thumb"]) {
      assert.equal(
        await statusOf(`${b.url}/attachments/${first.body.id}${path}`),
        410,
      );
    }

    const second = await upload(b.url, await pngBytes(30, 30), "spammer");
    await postPicture(b.url, second.body.id, "spammer");
    const ban = await fetch(`${a.url}/moderation/bans`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ name: "spammer", removeRecentMessages: true }),
    });
    assert.equal(ban.status, 201);
    await ban.body?.cancel();
    assert.equal(await statusOf(`${b.url}/attachments/${second.body.id}`), 410);
  });
});

Deno.test("a stream on the other instance gets image messages, and a resume with Last-Event-ID replays them with their attachments", async () => {
  await withTwo({}, async (a, b) => {
    const live = await openSse(`${b.url}/stream?history=0`);
    let replay;
    try {
      const before = await (await fetch(`${a.url}/messages`)).json();
      const lastId = before.messages.at(-1)?.id ?? 0;
      const pics = [];
      for (const size of [10, 11]) {
        const up = await upload(a.url, await pngBytes(size, 9));
        pics.push(await postPicture(a.url, up.body.id));
      }
      await live.untilMessages(2);
      const streamed = messagesOf(live);
      assert.deepEqual(
        streamed.map((m) => m.attachments),
        pics.map((m) => m.attachments),
      );
      assert.deepEqual(streamed[0].attachments, [{
        id: pics[0].attachments![0].id,
        width: 10,
        height: 9,
        type: "image/png",
        alt: "x",
      }]);
      replay = await openSse(`${a.url}/stream`, { lastEventId: lastId });
      await replay.untilMessages(2);
      assert.deepEqual(
        messagesOf(replay).map((m) => m.attachments),
        pics.map((m) => m.attachments),
      );
    } finally {
      await live.close();
      await replay?.close();
    }
  });
});
