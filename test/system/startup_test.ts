// A start that fails late (port taken, unreadable client build) closes what it
// had opened: no database session, LISTEN or presence row, and no timer (the
// op sanitizer) is left behind, and the error says what to fix.
import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../server/config.ts";
import { startPlaza, StartupError } from "../../server/plaza.ts";
import { withTestDatabase } from "../harness/fixtures.ts";

/** How long the database may take to drop the sessions of a closed client. */
const SESSIONS_GONE_MS = 5_000;

function config(url: string, env: Record<string, string>) {
  return loadConfig({
    DATABASE_URL: url,
    HOST: "127.0.0.1",
    PORT: "0",
    DIST_DIR: "./this-test-serves-no-client",
    ...env,
  });
}

/** Waits until nobody but `sql` is connected to its database; throws after SESSIONS_GONE_MS. */
async function untilAlone(sql: postgres.Sql): Promise<void> {
  const deadline = Date.now() + SESSIONS_GONE_MS;
  for (;;) {
    const [{ others }] = await sql<{ others: number }[]>`
      select count(*)::int as others from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`;
    if (others === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${others} sessions still open after a failed start`);
    }
    // The server ends a backend a moment after its client hung up; there
    // is no event to wait on.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectStartFailure(
  url: string,
  env: Record<string, string>,
  message: RegExp,
): Promise<void> {
  const sql = postgres(url, { onnotice: () => {} });
  try {
    await assert.rejects(startPlaza(config(url, env)), (error) => {
      assert.ok(error instanceof StartupError, String(error));
      assert.match(error.message, message);
      return true;
    });
    await untilAlone(sql);
    // The presence row is this instance's last word: deleted on close.
    assert.deepEqual([...await sql`select * from presence`], []);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test("a start failing at listening (port taken) closes the database, LISTEN and presence it opened", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await withTestDatabase((url) =>
      expectStartFailure(
        url,
        { PORT: String(taken.addr.port) },
        new RegExp(
          `^could not listen on 127\\.0\\.0\\.1:${taken.addr.port} \\(.*\\)\\. Set PORT`,
        ),
      )
    );
  } finally {
    taken.close();
  }
});

Deno.test("a start failing at reading the client build says so and closes what it opened", async () => {
  const dist = await Deno.makeTempDir({ prefix: "plaza_bad_dist_" });
  try {
    // An index but an assets "directory" that is a file: not a missing
    // build (that is a warning), an unreadable one.
    await Deno.writeTextFile(`${dist}/index.html`, "<!doctype html>");
    await Deno.writeTextFile(`${dist}/assets`, "not a directory");
    await withTestDatabase((url) =>
      expectStartFailure(
        url,
        { DIST_DIR: dist },
        /^could not read the built client in .*plaza_bad_dist_/,
      )
    );
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
