// The embedded database (PGlite) runs the same retention, export and import
// SQL as Postgres: a retention run, an export read in pages, and that export
// imported into a second empty PGlite with identical rows.
import assert from "node:assert/strict";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPgliteDatabase } from "../../db/pglite_database.ts";
import { createMessageStore } from "./message_store.ts";
import { runRetention } from "./retention.ts";
import { exportHeader, exportPage } from "./room_export.ts";
import { importExport, ImportRefusedError } from "./room_import.ts";

async function* each(lines: string[]) {
  yield* lines;
}

Deno.test("on PGlite: retention removes old rows, and an export read in pages imports into an empty room with identical rows", async () => {
  const source = await createPgliteDatabase(null);
  const target = await createPgliteDatabase(null);
  try {
    for (const db of [source, target]) {
      await migrate(db, await readMigrations());
    }
    await source.query(
      `insert into messages (author, text, created_at, name_id)
       select 'ada', 'msg ' || g, now() - make_interval(days => g), g % 3
       from generate_series(1, 9) g`,
    );
    await source.query(
      `insert into reactions (message_id, name_id, name, emoji)
       select id, 7, 'bob', '👍' from messages where text = 'msg 1'`,
    );
    const removed = await runRetention({
      db: source,
      store: createMessageStore(source),
      instanceId: "one",
      days: 5,
      batch: 2,
    });
    assert.equal(removed, 5);

    const range = { from: null, to: null };
    const lines = [JSON.stringify(await exportHeader(source, range))];
    let page = await exportPage(source, range, null, 2);
    for (;;) {
      lines.push(...page.lines);
      if (page.next === null) break;
      page = await exportPage(source, range, page.next, 2);
    }
    assert.equal(lines.length, 1 + 4);
    const done = await importExport(target, each(lines), 3);
    assert.deepEqual(done, { messages: 4, reactions: 1, previews: 0 });
    for (
      const q of [
        "select * from messages order by id",
        "select * from reactions order by message_id",
      ]
    ) {
      assert.deepEqual(await target.query(q), await source.query(q));
    }
    await assert.rejects(importExport(target, each(lines)), ImportRefusedError);
  } finally {
    await source.close();
    await target.close();
  }
});
