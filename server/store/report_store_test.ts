// The report store on the embedded database: one open report per message
// and address, a list that shows each message as it is now, dismissing, and
// reports going with their message.
import assert from "node:assert/strict";
import type { Database } from "../../db/database.ts";
import { createPgliteDatabase } from "../../db/pglite_database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createReportStore, type ReportStore } from "./report_store.ts";

async function withStore(
  fn: (reports: ReportStore, db: Database) => Promise<void>,
): Promise<void> {
  const db = await createPgliteDatabase(null);
  try {
    await migrate(db, await readMigrations());
    await fn(createReportStore(db), db);
  } finally {
    await db.close();
  }
}

async function addMessage(db: Database, author: string, text: string) {
  const [row] = await db.query<{ id: number | string }>(
    "insert into messages (author, text) values ($1, $2) returning id",
    [author, text],
  );
  return Number(row.id);
}

const from = (address: string, messageId: number, reason: string | null) => ({
  messageId,
  reason,
  reporterName: null,
  reporterAddress: address,
});

Deno.test("report store: one open report per message and address; the list counts per message", async () => {
  await withStore(async (reports, db) => {
    const spam = await addMessage(db, "spammer", "buy now");
    const other = await addMessage(db, "ann", "hello");
    const first = await reports.add(from("192.0.2.1", spam, "spam"));
    assert.equal(first?.created, true);
    assert.equal(first?.report.messageId, spam);
    assert.equal(first?.report.reason, "spam");
    // The same address again: the open report, not a second one.
    const again = await reports.add(from("192.0.2.1", spam, "more"));
    assert.deepEqual(again, { report: first!.report, created: false });
    await reports.add({
      ...from("192.0.2.2", spam, null),
      reporterName: "Bob",
    });
    await reports.add(from("192.0.2.1", other, null));
    assert.equal(await reports.add(from("192.0.2.1", 99_999, null)), null);

    const open = await reports.open();
    // Newest first; each with its message as it is now.
    assert.deepEqual(
      open.map((r) => [r.messageId, r.reporterAddress, r.reportsOfMessage]),
      [[other, "192.0.2.1", 1], [spam, "192.0.2.2", 2], [
        spam,
        "192.0.2.1",
        2,
      ]],
    );
    assert.deepEqual(open[2].message, { author: "spammer", text: "buy now" });
    assert.equal(open[1].reporterName, "Bob");
    const [{ n }] = await db.query<{ n: number | string }>(
      "select count(*) as n from reports where reporter_key = 'bob'",
    );
    assert.equal(Number(n), 1);
  });
});

Deno.test("report store: dismissing closes a report once; a deleted message takes its reports", async () => {
  await withStore(async (reports, db) => {
    const a = await addMessage(db, "x", "one");
    const b = await addMessage(db, "y", "two");
    const ra = (await reports.add(from("192.0.2.1", a, null)))!.report;
    await reports.add(from("192.0.2.1", b, null));
    assert.equal(await reports.dismiss(ra.id), true);
    assert.equal(await reports.dismiss(ra.id), false);
    assert.equal(await reports.dismiss(12345), false);
    assert.deepEqual((await reports.open()).map((r) => r.messageId), [b]);
    // Dismissed, so the same address may report it again.
    assert.equal(
      (await reports.add(from("192.0.2.1", a, null)))?.created,
      true,
    );

    await db.query("delete from messages where id = $1", [b]);
    assert.deepEqual((await reports.open()).map((r) => r.messageId), [a]);
    const [{ n }] = await db.query<{ n: number | string }>(
      "select count(*) as n from reports where message_id = $1",
      [b],
    );
    assert.equal(Number(n), 0);
  });
});
