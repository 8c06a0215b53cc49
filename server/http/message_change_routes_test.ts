// Edits, deletes by the author, reactions and replies: who may, what the
// answers carry, and that refusals change nothing.
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import {
  countMessages,
  expectError,
  withNameApp,
} from "../../test/harness/name_app.ts";

Deno.test("PATCH /messages/<id>: the author edits (editedAt set, same rules as a post); others, unverified messages and unknown ids are refused", async () => {
  await withNameApp(async ({ send, claim, post }) => {
    const ada = await claim("ada");
    const bob = await claim("bob");
    const mine = await post("ada", "helo", ada);
    const plain = await post("carol", "unverified");
    assert.equal(mine.editedAt, null);

    await expectError(
      await send("PATCH", `/messages/${mine.id}`, { text: "x" }),
      401,
      /token/,
    );
    await expectError(
      await send("PATCH", `/messages/${mine.id}`, { text: "x" }, bob),
      403,
      /not the token of the name "ada"/,
    );
    await expectError(
      await send("PATCH", `/messages/${plain.id}`, { text: "x" }, ada),
      403,
      /not posted with a name's token/,
    );
    await expectError(
      await send("PATCH", "/messages/999999", { text: "x" }, ada),
      404,
      /no message 999999/,
    );
    await expectError(
      await send("PATCH", "/messages/abc", { text: "x" }, ada),
      400,
      /id/,
    );
    for (
      const [body, pattern] of [
        [{ text: "   " }, /"text" must not be empty/],
        [{ text: "x".repeat(2001) }, /at most 2000/],
        [{ text: "tab\there" }, /control/],
        [{}, /"text" is required/],
      ] as const
    ) {
      await expectError(
        await send("PATCH", `/messages/${mine.id}`, body, ada),
        400,
        pattern,
      );
    }
    // Nothing changed so far.
    const before = await (await send("GET", `/messages/${mine.id}`)).json();
    assert.deepEqual(before, mine);

    const res = await send(
      "PATCH",
      `/messages/${mine.id}`,
      { text: "  hello\r\nagain " },
      ada,
    );
    assert.equal(res.status, 200);
    const edited: Message = await res.json();
    assert.equal(edited.text, "hello\nagain");
    assert.equal(edited.id, mine.id);
    assert.equal(edited.createdAt, mine.createdAt);
    assert.match(edited.editedAt ?? "", /^\d{4}-\d\d-\d\dT.*Z$/);
    assert.deepEqual(
      await (await send("GET", `/messages/${mine.id}`)).json(),
      edited,
    );
  });
});

Deno.test("PATCH /messages/<id> with the text it already has changes nothing: 200, editedAt as before, no change logged", async () => {
  await withNameApp(async ({ send, claim, post, db }) => {
    const ada = await claim("ada");
    const mine = await post("ada", "🎉", ada);
    const changes = async () =>
      (await db.query<{ n: number }>(
        "select count(*)::int as n from changes",
      ))[0].n;
    const before = await changes();
    const res = await send(
      "PATCH",
      `/messages/${mine.id}`,
      { text: "🎉" },
      ada,
    );
    assert.equal(res.status, 200);
    const same = await res.json() as Message;
    assert.equal(same.editedAt, null);
    assert.equal(same.text, "🎉");
    assert.equal(await changes(), before);
  });
});

Deno.test("DELETE /messages/<id> with the author's token: 204; another name's token 403; ADMIN_TOKEN still deletes anything", async () => {
  const admin = "a-moderator-token-of-some-length";
  await withNameApp(async ({ send, claim, post, db }) => {
    const ada = await claim("ada");
    const bob = await claim("bob");
    const mine = await post("ada", "mine", ada);
    const other = await post("carol", "unverified");
    await expectError(
      await send("DELETE", `/messages/${mine.id}`, undefined, bob),
      403,
      /Only the author/,
    );
    await expectError(
      await send("DELETE", `/messages/${other.id}`, undefined, ada),
      403,
      /Only the author/,
    );
    await expectError(
      await send("DELETE", `/messages/${mine.id}`, undefined, "no-such-token"),
      403,
      /not valid/,
    );
    await expectError(
      await send("DELETE", "/messages/999999", undefined, ada),
      404,
      /no message/,
    );
    assert.equal(await countMessages(db), 2);
    const gone = await send("DELETE", `/messages/${mine.id}`, undefined, ada);
    assert.equal(gone.status, 204);
    await expectError(await send("GET", `/messages/${mine.id}`), 404, /no/);
    assert.equal(
      (await send("DELETE", `/messages/${other.id}`, undefined, admin)).status,
      204,
    );
    assert.equal(await countMessages(db), 0);
  }, { adminToken: admin });
});

Deno.test("POST /messages/<id>/reactions toggles a name's reaction from the fixed set; messages carry them", async () => {
  await withNameApp(async ({ send, claim, post }) => {
    const ada = await claim("Ada");
    const bob = await claim("bob");
    const m = await post("carol", "party at 8");
    const react = (emoji: unknown, token?: string, id = m.id) =>
      send("POST", `/messages/${id}/reactions`, { emoji }, token);

    await expectError(await react("👍"), 401, /token/);
    await expectError(await react("👍", "forged"), 403, /not valid/);
    for (const bad of ["👎", "", 1, null, "👍👍", "x"]) {
      await expectError(await react(bad, ada), 400, /"emoji" must be one of/);
    }
    await expectError(await react("👍", ada, 999999), 404, /no message/);
    await expectError(
      await send("GET", `/messages/${m.id}/reactions`),
      405,
      /only POST/,
    );

    const first = await react("🎉", ada);
    assert.equal(first.status, 200);
    const one = await first.json();
    assert.equal(one.reacted, true);
    assert.deepEqual(one.message.reactions, [
      { emoji: "🎉", count: 1, names: ["Ada"] },
    ]);
    await (await react("👍", bob)).body?.cancel();
    // The bare heart is the heart of the set.
    await (await react("\u2764", ada)).body?.cancel();
    await (await react("🎉", bob)).body?.cancel();
    const got: Message = await (await send("GET", `/messages/${m.id}`)).json();
    assert.deepEqual(got.reactions, [
      { emoji: "👍", count: 1, names: ["bob"] },
      { emoji: "❤️", count: 1, names: ["Ada"] },
      { emoji: "🎉", count: 2, names: ["Ada", "bob"] },
    ]);
    // Again takes it back.
    const back = await (await react("🎉", ada)).json();
    assert.equal(back.reacted, false);
    assert.deepEqual(back.message.reactions, [
      { emoji: "👍", count: 1, names: ["bob"] },
      { emoji: "❤️", count: 1, names: ["Ada"] },
      { emoji: "🎉", count: 1, names: ["bob"] },
    ]);
  });
});

Deno.test("replyTo: the reply quotes its message (author, first 100 characters) as that message is now; unknown or deleted ids are a 400", async () => {
  const admin = "a-moderator-token-of-some-length";
  await withNameApp(async ({ app, send, claim, post, db }) => {
    const ada = await claim("ada");
    const long = "é".repeat(150);
    const parent = await post("ada", long, ada);
    const reply = await post("bob", "agreed", undefined, {
      replyTo: parent.id,
    });
    assert.deepEqual(reply.replyTo, {
      id: parent.id,
      author: "ada",
      text: "é".repeat(100) + "…",
    });
    assert.equal(parent.replyTo, null);
    // A form sends the id as digits.
    const form = await app.request("/messages", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `author=dan&text=me+too&replyTo=${parent.id}`,
    });
    assert.equal(form.status, 201);
    assert.equal((await form.json()).replyTo.id, parent.id);

    for (const replyTo of [999999, "abc", -1, 1.5, [1]]) {
      const res = await send("POST", "/messages", {
        author: "bob",
        text: "to nothing",
        replyTo,
      });
      await expectError(res, 400, /replyTo|no message 999999 to reply to/);
    }
    const stored = await countMessages(db);

    // The quote follows an edit of the message replied to...
    await (await send(
      "PATCH",
      `/messages/${parent.id}`,
      { text: "short" },
      ada,
    ))
      .body?.cancel();
    const afterEdit = await (await send("GET", `/messages/${reply.id}`)).json();
    assert.deepEqual(afterEdit.replyTo, {
      id: parent.id,
      author: "ada",
      text: "short",
    });
    // ...and is emptied when it is deleted; replying to it is then a 400.
    assert.equal(
      (await send("DELETE", `/messages/${parent.id}`, undefined, admin)).status,
      204,
    );
    const afterDelete = await (await send("GET", `/messages/${reply.id}`))
      .json();
    assert.deepEqual(afterDelete.replyTo, {
      id: parent.id,
      author: null,
      text: null,
    });
    await expectError(
      await send("POST", "/messages", {
        author: "bob",
        text: "too late",
        replyTo: parent.id,
      }),
      400,
      new RegExp(`no message ${parent.id} to reply to`),
    );
    assert.equal(await countMessages(db), stored - 1);
  }, { adminToken: admin });
});
