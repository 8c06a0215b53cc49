// How many Postgres connections one instance holds: DATABASE_POOL_MAX for
// queries (through loadConfig and openDatabase, as startPlaza opens them) and
// one for LISTEN. Managed plans allow few, and every instance of
// a scaled-out app (on Deno Deploy, every region and every busy moment) takes
// its own.
import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../server/config.ts";
import { openDatabase } from "../../db/open_database.ts";
import { withTestDatabase } from "../harness/fixtures.ts";

/** Client connections the server holds to database `name`, besides `admin`'s own. */
async function connectionsTo(admin: postgres.Sql, name: string) {
  const [row] = await admin<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = ${name} and backend_type = 'client backend'
      and pid <> pg_backend_pid()`;
  return row.n;
}

Deno.test("the query pool grows to DATABASE_POOL_MAX and no further (5 by default; it was 10)", async () => {
  await withTestDatabase(async (url) => {
    const name = new URL(url).pathname.slice(1);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      for (
        const [env, expected] of [[{}, 5], [
          { DATABASE_POOL_MAX: "2" },
          2,
        ]] as const
      ) {
        const db = await openDatabase(
          loadConfig({ DATABASE_URL: url, ...env }),
        );
        try {
          // More overlapping queries than any pool size: every slot opens,
          // and postgres.js keeps them open afterwards.
          await Promise.all(
            Array.from({ length: 12 }, () => db.query("select pg_sleep(0.05)")),
          );
          assert.equal(await connectionsTo(admin, name), expected);
        } finally {
          await db.close();
        }
      }
    } finally {
      await admin.end({ timeout: 1 });
    }
  });
});
