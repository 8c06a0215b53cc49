import assert from "node:assert/strict";
import { createMessageStore, MessageRejectedError } from "./message_store.ts";
import { migrate, readMigrations } from "./migrate.ts";
import { createPostgresDatabase } from "./postgres_database.ts";
import { withTestDatabase } from "./testing/fixtures.ts";

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
  await withStore(async (store) => {
    assert.equal(await store.maxId(), 0);
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
    assert.equal(await store.maxId(), made[6].id);
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
    assert.equal(await store.maxId(), 0);
    // The limits themselves are allowed.
    await store.insert({ author: "😀".repeat(32), text: "😀".repeat(2000) });
    await store.insert({ author: "ada", text: "two\nlines" });
  });
});

Deno.test("ids become visible in increasing order under concurrent writers", async () => {
  await withStore(async (store) => {
    // A reader that polls "id > last seen" — what every Last-Event-ID resume
    // does — must never skip an id. Without ordered commits, a smaller id
    // committing after a larger one would be skipped for good.
    const writers = 12;
    const perWriter = 60;
    let writing = true;
    const seen: number[] = [];
    const reader = (async () => {
      let last = 0;
      while (writing || last < (await store.maxId())) {
        const page = await store.after(last, 1000);
        for (const m of page) seen.push(m.id);
        if (page.length > 0) last = page[page.length - 1].id;
      }
    })();
    const written = (await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const mine: number[] = [];
        for (let i = 0; i < perWriter; i++) {
          mine.push(
            (await store.insert({ author: `w${w}`, text: `${i}` })).message.id,
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
