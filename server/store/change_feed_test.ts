// The change log lives in the database's triggers: any writer's change is
// numbered, logged and NOTIFYed, and the numbers become visible in order.
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { CHANGES_CHANNEL } from "../../db/channels.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import { createChangeFeed, parseChangeNote } from "./change_feed.ts";
import { createMessageStore } from "./message_store.ts";

async function withDb(fn: (db: Database) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 20 });
    try {
      await migrate(db, await readMigrations());
      await fn(db);
    } finally {
      await db.close();
    }
  });
}

/** Collects the payloads NOTIFYed on the change channel. */
async function listenChanges(db: Database) {
  const payloads: string[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  const session = await db.listen([CHANGES_CHANNEL], {
    onNotify: (_channel, payload) => {
      payloads.push(payload);
      if (waiter && payloads.length >= waiter.n) waiter.resolve();
    },
    onClose: () => {},
  });
  return {
    payloads,
    until: (n: number) =>
      new Promise<void>((resolve) => {
        if (payloads.length >= n) resolve();
        else waiter = { n, resolve };
      }),
    close: () => session.close(),
  };
}

const one = async <T>(db: Database, text: string, params: unknown[] = []) =>
  (await db.query<T>(text, params))[0];

Deno.test("plain SQL writes are changes: insert, edit, reactions and delete are numbered, logged and NOTIFYed in order", async () => {
  await withDb(async (db) => {
    const heard = await listenChanges(db);
    try {
      const { id } = await one<{ id: number }>(
        db,
        "insert into messages (author, text) values ('ada', 'hi') returning id::int",
      );
      await db.query("update messages set text = 'hello' where id = $1", [id]);
      // Same text again: nothing changed, nothing logged.
      await db.query("update messages set text = 'hello' where id = $1", [id]);
      await db.query(
        `insert into reactions (message_id, name_id, name, emoji)
         values ($1, 7, 'bob', '👍'), ($1, 8, 'cy', '👍')`,
        [id],
      );
      await db.query("delete from reactions where name_id = 8");
      // The delete takes the remaining reaction with it: no change of its own.
      await db.query("delete from messages where id = $1", [id]);
      await heard.until(6);
      const notes = heard.payloads.map((p) => parseChangeNote(p));
      const kinds = notes.map((n) =>
        n !== null && "change" in n ? n.change.kind : null
      );
      assert.deepEqual(kinds, [
        "message",
        "edit",
        "reaction",
        "reaction",
        "reaction",
        "delete",
      ]);
      const seqs = notes.map((n) =>
        n !== null && "change" in n ? n.change.seq : 0
      );
      assert.equal(seqs[0], id, "a message's id is its number");
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      assert.equal(new Set(seqs).size, seqs.length);
      const edit = notes[1];
      assert.ok(
        edit !== null && "change" in edit && edit.change.kind === "edit",
      );
      assert.equal(edit.change.message.text, "hello");
      assert.match(edit.change.message.editedAt ?? "", /Z$/);
      const third = notes[4];
      assert.ok(
        third !== null && "change" in third && third.change.kind === "reaction",
      );
      assert.deepEqual(third.change.reactions, [
        { emoji: "👍", count: 1, names: ["bob"] },
      ]);
      // The log keeps the delete alone: the rest concerned a message that
      // is gone, and a replay would skip it.
      const feed = createChangeFeed(db);
      assert.deepEqual(await feed.after(0, 100), [
        { seq: seqs[5], kind: "delete", id },
      ]);
      assert.equal(await feed.lastSeq(), seqs[5]);
    } finally {
      await heard.close();
    }
  });
});

Deno.test("a change too large for a NOTIFY payload sends its number alone, and the feed reads it", async () => {
  await withDb(async (db) => {
    const heard = await listenChanges(db);
    try {
      const store = createMessageStore(db);
      const { message } = await store.insert({ author: "ada", text: "short" });
      // 2000 four-byte characters: the JSON passes 8000 bytes.
      const long = "😀".repeat(2000);
      await db.query("update messages set text = $2 where id = $1", [
        message.id,
        long,
      ]);
      await heard.until(2);
      assert.ok("change" in parseChangeNote(heard.payloads[0])!);
      const note = parseChangeNote(heard.payloads[1]);
      assert.ok(note !== null && !("change" in note));
      assert.equal(note.id, message.id);
      const change = await createChangeFeed(db).at(note.seq, note.id);
      assert.ok(change.kind === "edit");
      assert.equal(change.message.text, long);
    } finally {
      await heard.close();
    }
  });
});

Deno.test("a preview written by SQL is a change: NOTIFYed with the preview, read back by the feed, taken back as null", async () => {
  await withDb(async (db) => {
    const heard = await listenChanges(db);
    try {
      const store = createMessageStore(db);
      const { message } = await store.insert({
        author: "ada",
        text: "see https://site.test/a",
      });
      // Pending (being fetched) and failed are not changes; ok is.
      await db.query(
        "insert into message_previews (message_id, url) values ($1, $2)",
        [message.id, "https://site.test/a"],
      );
      await db.query(
        `update message_previews set status = 'ok', title = 'A'
         where message_id = $1`,
        [message.id],
      );
      await db.query("delete from message_previews where message_id = $1", [
        message.id,
      ]);
      await heard.until(3);
      const notes = heard.payloads.map((p) => parseChangeNote(p));
      const preview = {
        url: "https://site.test/a",
        title: "A",
        description: null,
        image: null,
        site: null,
      };
      const [shown, taken] = notes.slice(1).map((n) => {
        assert.ok(n !== null && "change" in n);
        return n.change;
      });
      assert.deepEqual(shown, {
        seq: shown.seq,
        kind: "preview",
        id: message.id,
        preview,
      });
      assert.deepEqual(taken, {
        seq: taken.seq,
        kind: "preview",
        id: message.id,
        preview: null,
      });
      // Replays carry the state now (taken back) for both.
      assert.deepEqual(
        await createChangeFeed(db).after(message.id, 10),
        [shown, taken].map((c) => ({ ...c, preview: null })),
      );
      // Garbage in a preview payload is only a number to read.
      assert.deepEqual(
        parseChangeNote(
          JSON.stringify({ seq: 9, kind: "preview", id: 1, preview: [1] }),
        ),
        { seq: 9, id: 1 },
      );
    } finally {
      await heard.close();
    }
  });
});

Deno.test("change numbers become visible in increasing order under concurrent posts, edits and reactions", async () => {
  await withDb(async (db) => {
    const feed = createChangeFeed(db);
    const base = createMessageStore(db);
    const seed: number[] = [];
    for (let i = 0; i < 5; i++) {
      seed.push(
        (await base.insert({ author: "w", text: `seed ${i}`, nameId: 1 }))
          .message.id,
      );
    }
    let writing = true;
    const seen: number[] = [];
    // What every Last-Event-ID resume does: read "after the last seen".
    const reader = (async () => {
      let last = 0;
      while (writing || last < (await feed.lastSeq())) {
        const page = await feed.after(last, 1000);
        for (const c of page) seen.push(c.seq);
        if (page.length > 0) last = page[page.length - 1].seq;
      }
    })();
    await Promise.all(Array.from({ length: 10 }, async (_, w) => {
      const own = createMessageStore(db);
      for (let i = 0; i < 30; i++) {
        const target = seed[(w + i) % seed.length];
        if (i % 3 === 0) await own.insert({ author: `w${w}`, text: `${i}` });
        else if (i % 3 === 1) await own.edit(target, 1, `w${w} ${i}`);
        else await own.toggleReaction(target, 100 + w, `w${w}`, "🎉");
      }
    }));
    writing = false;
    await reader;
    const all = (await db.query<{ seq: number }>(
      `select id::int as seq from messages
       union all select seq::int from changes order by 1`,
    )).map((r) => r.seq);
    assert.deepEqual(seen, all, "every change once, in order, none skipped");
  });
});

Deno.test("migration 005 turns the old tombstones into delete changes numbered after every message", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      const migrations = await readMigrations();
      const before = migrations.filter((m) => m.name < "005");
      await migrate(db, before);
      for (let i = 0; i < 4; i++) {
        await db.query(
          "insert into messages (author, text) values ('ada', $1)",
          [`m${i}`],
        );
      }
      const ids = (await db.query<{ id: number }>(
        "select id::int from messages order by id",
      )).map((r) => r.id);
      await db.query("delete from messages where id = $1", [ids[2]]);
      await db.query("delete from messages where id = $1", [ids[0]]);
      await migrate(db, migrations);
      const feed = createChangeFeed(db);
      const changes = await feed.after(ids[3], 100);
      assert.deepEqual(
        changes.map((c) => c.kind === "delete" ? c.id : null),
        [ids[2], ids[0]],
        "in the order they were deleted",
      );
      assert.ok(changes.every((c) => c.seq > ids[3]));
      // Numbering goes on after them.
      const { id } = await one<{ id: number }>(
        db,
        "insert into messages (author, text) values ('ada', 'new') returning id::int",
      );
      assert.ok(id > changes.at(-1)!.seq);
      const [table] = await db.query<{ t: string | null }>(
        "select to_regclass('deleted_messages')::text as t",
      );
      assert.equal(table.t, null);
    } finally {
      await db.close();
    }
  });
});
