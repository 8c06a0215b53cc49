import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { createMessageStore, MessageRejectedError } from "./message_store.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";

/** The highest stored message id, 0 for an empty room. */
async function maxId(db: Database): Promise<number> {
  const [row] = await db.query<{ m: number | string }>(
    "select coalesce(max(id), 0) as m from messages",
  );
  return Number(row.m);
}

async function withStore(
  fn: (
    store: ReturnType<typeof createMessageStore>,
    db: ReturnType<typeof createPostgresDatabase>,
    url: string,
  ) => Promise<void>,
) {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url, { max: 20 });
    try {
      await migrate(db, await readMigrations());
      await fn(createMessageStore(db), db, url);
    } finally {
      await db.close();
    }
  });
}

Deno.test("migrations apply once, and concurrently starting instances do not race", async () => {
  await withTestDatabase(async (url) => {
    const dbs = [1, 2, 3].map(() => createPostgresDatabase(url, { max: 1 }));
    try {
      const migrations = await readMigrations();
      assert.ok(migrations.length > 0);
      const applied = await Promise.all(
        dbs.map((db) => migrate(db, migrations)),
      );
      // Exactly one instance applied them; the others found them done.
      assert.deepEqual(
        applied.map((a) => a.length).sort(),
        [0, 0, migrations.length],
      );
      assert.deepEqual(await migrate(dbs[0], migrations), []);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

Deno.test("store: insert, get, after and before pages", async () => {
  await withStore(async (store, db) => {
    assert.equal(await maxId(db), 0);
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push((await store.insert({ author: "ada", text: `m${i}` })).message);
    }
    assert.deepEqual(await store.get(made[3].id), made[3]);
    assert.equal(await store.get(999_999), null);
    assert.deepEqual(await store.after(made[4].id, 10), made.slice(5));
    assert.deepEqual(await store.after(0, 2), made.slice(0, 2));
    assert.deepEqual(await store.before(null, 3), {
      messages: made.slice(4),
      hasMore: true,
    });
    assert.deepEqual(await store.before(made[4].id, 3), {
      messages: made.slice(1, 4),
      hasMore: true,
    });
    assert.deepEqual(await store.before(made[2].id, 3), {
      messages: made.slice(0, 2),
      hasMore: false,
    });
    assert.equal(await maxId(db), made[6].id);
  });
});

Deno.test("the table's CHECKs refuse what the API refuses, whoever writes", async () => {
  await withStore(async (store, db) => {
    const bad: [string, string][] = [
      ["", "x"],
      ["   ", "x"],
      ["a".repeat(33), "x"],
      ["a\nb", "x"],
      ["ada", ""],
      ["ada", " \n "],
      ["ada", "x".repeat(2001)],
      ["ada", "tab\there"],
      ["ada", "c1\u0085"],
      ["ada", "cafe\u0301"], // not NFC
    ];
    for (const [author, text] of bad) {
      await assert.rejects(
        () =>
          db.query("insert into messages (author, text) values ($1, $2)", [
            author,
            text,
          ]),
        /violates check constraint/,
        JSON.stringify([author, text]),
      );
      await assert.rejects(
        () => store.insert({ author, text }),
        MessageRejectedError,
      );
    }
    assert.equal(await maxId(db), 0);
    // The limits themselves are allowed.
    await store.insert({ author: "😀".repeat(32), text: "😀".repeat(2000) });
    await store.insert({ author: "ada", text: "two\nlines" });
  });
});

Deno.test("ids become visible in increasing order under concurrent writers", async () => {
  await withStore(async (store, db) => {
    // A reader that polls "id > last seen" — what every Last-Event-ID resume
    // does — must never skip an id. Without ordered commits, a smaller id
    // committing after a larger one would be skipped for good.
    const writers = 12;
    const perWriter = 60;
    let writing = true;
    const seen: number[] = [];
    const reader = (async () => {
      let last = 0;
      while (writing || last < (await maxId(db))) {
        const page = await store.after(last, 1000);
        for (const m of page) seen.push(m.id);
        if (page.length > 0) last = page[page.length - 1].id;
      }
    })();
    const written = (await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        // A store per writer, as with many instances: one store sends one
        // statement at a time (group commit), which would hide the race.
        const own = createMessageStore(db);
        const mine: number[] = [];
        for (let i = 0; i < perWriter; i++) {
          mine.push(
            (await own.insert({ author: `w${w}`, text: `${i}` })).message.id,
          );
        }
        return mine;
      }),
    )).flat().sort((a, b) => a - b);
    writing = false;
    await reader;
    assert.equal(written.length, writers * perWriter);
    assert.deepEqual(seen, written);
  });
});

Deno.test("messages sent together share one INSERT, and each caller gets its own row", async () => {
  await withStore(async (_, db) => {
    // Rows per INSERT statement the store sends.
    const inserts: number[] = [];
    const counting: Database = {
      kind: db.kind,
      query: <T>(text: string, params?: unknown[]) => {
        if (text.startsWith("insert into messages")) {
          inserts.push((params?.length ?? 0) / 6);
        }
        return db.query<T>(text, params);
      },
      exec: (text) => db.exec(text),
      transaction: (fn) => db.transaction(fn),
      listen: (channels, handlers) => db.listen(channels, handlers),
      close: () => db.close(),
    };
    const store = createMessageStore(counting);
    const clientId = (n: number) =>
      `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    await store.insert({
      author: "ada",
      text: "stored before",
      clientId: clientId(1),
    });
    // While the first INSERT is in flight the rest queue, and go together.
    const inputs = [
      { author: "ada", text: "first" },
      { author: "bob", text: "same" },
      { author: "bob", text: "same" },
      { author: "cy", text: "mine", clientId: clientId(2) },
      { author: "cy", text: "mine", clientId: clientId(2).toUpperCase() }, // a retry
      { author: "ada", text: "again", clientId: clientId(1) }, // stored before
      { author: "dee", text: "last" },
    ];
    const results = await Promise.allSettled(
      inputs.map((i) => store.insert(i)),
    );
    const ok = results.map((r) => r.status === "fulfilled" ? r.value : null);
    for (const [i, input] of inputs.entries()) {
      if (i === 5) continue;
      assert.equal(ok[i]?.message.author, input.author);
      assert.equal(ok[i]?.message.text, input.text);
    }
    assert.equal(ok[5]?.created, false);
    assert.equal(ok[5]?.message.text, "stored before", "the original answers");
    assert.equal(ok[3]?.created, true);
    assert.equal(ok[4]?.created, false);
    assert.equal(ok[4]?.message.id, ok[3]?.message.id);
    assert.notEqual(ok[1]?.message.id, ok[2]?.message.id);
    const stored = await store.after(0, 100);
    assert.deepEqual(
      stored.map((m) => m.text).sort(),
      ["first", "last", "mine", "same", "same", "stored before"],
      "each message stored once",
    );
    const ids = stored.map((m) => m.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    // The first went alone; the six behind it shared one statement of five
    // rows (the retried clientId is written once).
    assert.deepEqual(inserts, [1, 1, 5]);

    // A row the checks refuse fails its statement: the batch is then written
    // row by row, so only that message is refused.
    const second = await Promise.allSettled([
      store.insert({ author: "eve", text: "alone" }),
      store.insert({ author: "", text: "refused by the checks" }),
      store.insert({ author: "eve", text: "fine" }),
    ]);
    assert.deepEqual(second.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    assert.ok(
      second[1].status === "rejected" &&
        second[1].reason instanceof MessageRejectedError,
    );
    assert.deepEqual(
      (await store.after(ids.at(-1) ?? 0, 10)).map((m) => m.text),
      ["alone", "fine"],
    );
  });
});
