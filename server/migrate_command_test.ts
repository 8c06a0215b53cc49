import assert from "node:assert/strict";
import postgres from "postgres";
import { runMigrateCommand } from "./migrate_command.ts";
import { postJson, withTestDatabase } from "../test/harness/fixtures.ts";
import { startServerProcess } from "../test/harness/server_process.ts";
import { messagesOf, openSse } from "../test/harness/sse_client.ts";

Deno.test("deno task migrate prepares the database on its own, and again is a no-op", async () => {
  await withTestDatabase(async (url) => {
    assert.equal(await runMigrateCommand({ DATABASE_URL: url }), 0);
    assert.equal(await runMigrateCommand({ DATABASE_URL: url }), 0);
    const sql = postgres(url, { onnotice: () => {} });
    try {
      const rows = await sql`select name from schema_migrations order by name`;
      assert.deepEqual(rows.map((r) => r.name), [
        "001_messages.sql",
        "002_client_id_presence.sql",
        "003_deletes.sql",
        "004_push.sql",
        "005_names_and_changes.sql",
      ]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
  assert.equal(
    await runMigrateCommand({ DATABASE_URL: "postgres://x@127.0.0.1:1/none" }),
    1,
  );
});

Deno.test("with DATABASE_URL the server needs only --allow-net --allow-env --allow-read", async () => {
  await withTestDatabase(async (url) => {
    const server = await startServerProcess({ DATABASE_URL: url }, [
      "--allow-net",
      "--allow-env",
      "--allow-read",
    ]);
    try {
      const stream = await openSse(`${server.url}/stream?history=0`);
      const sent = await postJson(server.url, "ada", "no write access needed");
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [sent]);
      await stream.close();
      server.child.kill("SIGTERM");
      assert.equal((await server.exited()).code, 0, await server.stderr);
    } finally {
      await server.kill();
    }
  });
});
