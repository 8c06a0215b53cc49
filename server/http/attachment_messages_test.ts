// Messages carrying pictures, on one app: what POST /messages answers and
// refuses, where the attachments appear (answer, history, one message,
// search), a clientId retry, a moderator's delete removing the bytes (but
// not those another message still uses), the sweep of unused uploads, and
// what a push notification says of a picture.
import assert from "node:assert/strict";
import { expectError, withNameApp } from "../../test/harness/name_app.ts";
import { jpegBytes, pngBytes, upload } from "../../test/harness/images.ts";
import { createAttachmentStore } from "../store/attachment_store.ts";
import { materialize } from "../push/materialize.ts";
import { fanOut } from "../push/fanout.ts";
import type { Database } from "../../db/database.ts";

const ADMIN = "a-moderator-token-of-some-length";

async function uploaded(
  res: Response | Promise<Response>,
): Promise<{ id: string; width: number; height: number; type: string }> {
  const r = await res;
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body;
}

async function blobCount(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "select count(*)::int as n from attachment_blobs",
  );
  return row.n;
}

Deno.test("A message carries its pictures everywhere a message appears; text may be empty", async () => {
  await withNameApp(async ({ app, send, post }) => {
    const a = await uploaded(upload(app, await pngBytes(30, 20), "image/png"));
    const b = await uploaded(
      upload(app, await jpegBytes(20, 30), "image/jpeg"),
    );
    const m = await post("Ada", "", undefined, {
      attachments: [{ id: a.id, alt: "  a red square " }, { id: b.id }],
    });
    const expected = [
      {
        id: a.id,
        width: 30,
        height: 20,
        type: "image/png",
        alt: "a red square",
      },
      { id: b.id, width: 20, height: 30, type: "image/jpeg", alt: "" },
    ];
    assert.equal(m.text, "");
    assert.deepEqual(m.attachments, expected);
    const withText = await post("Ada", "findable words", undefined, {
      attachments: [{
        id: (await uploaded(upload(app, await pngBytes(5, 5), "image/png")))
          .id,
      }],
    });
    const one = await (await send("GET", `/messages/${m.id}`)).json();
    assert.deepEqual(one.attachments, expected);
    const history = await (await send("GET", "/messages")).json();
    const listed = history.messages ?? history;
    assert.deepEqual(
      listed.find((x: { id: number }) => x.id === m.id).attachments,
      expected,
    );
    const found = await (await send("GET", "/messages?q=findable")).json();
    const hits = found.messages ?? found.results ?? found;
    assert.equal(hits[0].attachments.length, 1);
    assert.deepEqual(hits[0].attachments, withText.attachments);
    // A message without pictures has an empty list.
    assert.deepEqual((await post("Ada", "plain")).attachments, []);
  });
});

Deno.test("POST /messages refuses pictures not uploaded, used already, someone else's, too many; a clientId retry finds the original", async () => {
  await withNameApp(async ({ app, db, send, post }) => {
    const mine = await uploaded(upload(app, await pngBytes(8, 8), "image/png"));
    const bobs = await uploaded(
      upload(app, await pngBytes(9, 9), "image/png", "Bob"),
    );
    const clientId = crypto.randomUUID();
    const first = await post("Ada", "one", undefined, {
      clientId,
      attachments: [{ id: mine.id }],
    });
    const retry = await send("POST", "/messages", {
      author: "Ada",
      text: "one",
      clientId,
      attachments: [{ id: mine.id }],
    });
    assert.equal(retry.status, 200);
    assert.deepEqual(await retry.json(), first);
    const cases: [unknown, RegExp][] = [
      [[{ id: mine.id }], /already in a message/],
      [[{ id: bobs.id }], /not one you uploaded/],
      [[{ id: "AAAAAAAAAAAAAAAAAAAAAA" }], /not one you uploaded/],
      [[{ id: "nope" }], /id from POST \/attachments/],
      [Array.from({ length: 5 }, () => ({ id: bobs.id })), /at most 4/],
      [[{ id: bobs.id, alt: "x".repeat(1001) }], /at most 1000/],
      ["x", /list/],
    ];
    const [{ n: before }] = await db.query<{ n: number }>(
      "select count(*)::int as n from messages",
    );
    for (const [attachments, pattern] of cases) {
      await expectError(
        await send("POST", "/messages", {
          author: "Ada",
          text: "",
          attachments,
        }),
        400,
        pattern,
      );
    }
    await expectError(
      await send("POST", "/messages", { author: "Ada", text: "" }),
      400,
      /"text"/,
    );
    const [{ n: after }] = await db.query<{ n: number }>(
      "select count(*)::int as n from messages",
    );
    assert.equal(after, before);
    // Bob's picture is still his to send.
    await post("Bob", "", undefined, { attachments: [{ id: bobs.id }] });
  });
});

Deno.test("A moderator's delete removes the picture (410) and its bytes, but not bytes another message still uses", async () => {
  await withNameApp(async ({ app, db, send, post }) => {
    const png = await pngBytes(12, 12);
    const a = await uploaded(upload(app, png, "image/png"));
    const b = await uploaded(upload(app, png, "image/png"));
    const c = await uploaded(upload(app, await pngBytes(13, 13), "image/png"));
    const first = await post("Ada", "", undefined, {
      attachments: [{ id: a.id }, { id: c.id }],
    });
    await post("Ada", "", undefined, { attachments: [{ id: b.id }] });
    assert.equal(await blobCount(db), 2);
    const del = await send("DELETE", `/messages/${first.id}`, undefined, ADMIN);
    assert.ok(del.status < 300, String(del.status));
    await del.body?.cancel();
    for (const id of [a.id, c.id]) {
      await expectError(
        await app.request(`/attachments/${id}`),
        410,
        /removed/,
      );
      await expectError(
        await app.request(`/attachments/${id}/thumb`),
        410,
        /removed/,
      );
    }
    // The same bytes as `a`, in the other message: still served.
    const kept = await app.request(`/attachments/${b.id}`);
    assert.equal(kept.status, 200);
    await kept.body?.cancel();
    assert.equal(await blobCount(db), 1);
  }, { adminToken: ADMIN });
});

Deno.test("Uploads no message took are removed by the sweep; used ones stay", async () => {
  await withNameApp(async ({ app, db, post }) => {
    const unused = await uploaded(
      upload(app, await pngBytes(6, 6), "image/png"),
    );
    const used = await uploaded(upload(app, await pngBytes(7, 7), "image/png"));
    await post("Ada", "", undefined, { attachments: [{ id: used.id }] });
    const store = createAttachmentStore(db);
    assert.equal(await store.sweepUnused(3_600_000), 0);
    assert.equal(await store.sweepUnused(0), 1);
    await expectError(
      await app.request(`/attachments/${unused.id}`),
      404,
      /no such/,
    );
    const still = await app.request(`/attachments/${used.id}`);
    assert.equal(still.status, 200);
    await still.body?.cancel();
    assert.equal(await blobCount(db), 1);
  });
});

Deno.test("A push notification of a picture says 'sent a photo' with its alt text, never its address", async () => {
  await withNameApp(async ({ app, db, post }) => {
    await db.query(
      `insert into push_subscriptions (endpoint, p256dh, auth, name)
       values ('https://push.example.net/x', 'k', 'a', 'Carol')`,
    );
    const pic = await uploaded(upload(app, await pngBytes(6, 6), "image/png"));
    await post("Ada", "", undefined, {
      attachments: [{ id: pic.id, alt: "my cat asleep" }],
    });
    await fanOut(db, 100);
    assert.equal((await materialize(db, 0, 100)).created, 1);
    const [row] = await db.query<{ payload: string }>(
      "select payload from push_deliveries",
    );
    const payload = JSON.parse(row.payload);
    assert.equal(payload.body, "Ada: sent a photo: my cat asleep");
    assert.ok(!row.payload.includes(pic.id));
    assert.ok(!row.payload.includes("/attachments"));
  });
});
