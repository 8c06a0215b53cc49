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
        "006_moderation.sql",
        "007_post_path.sql",
        "008_slow_mode.sql",
        "009_reports.sql",
        "010_push_fanout.sql",
        "011_search.sql",
        "012_presence_names.sql",
        "013_link_previews.sql",
        "014_push_settings.sql",
        "015_new_message_json.sql",
        "016_attachments.sql",
        "017_notice_lockdown.sql",
        "018_rules.sql",
        "019_retention_export.sql",
        "020_bots.sql",
        "021_insert_trigger_conditions.sql",
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

// What Deno Deploy sets in each step (denoland/docs builds.md "Build
// environment", env_vars_and_contexts.md "Predefined environment variables"):
// DENO_TIMELINE only from the pre-deploy step on. DENO_DEPLOYMENT_ID is left
// out on purpose: the only variable the check used to look at.
const DEPLOY_IDS = {
  DENO_DEPLOY: "true",
  DENO_DEPLOY_ORG_ID: "00000000-0000-4000-8000-000000000001",
  DENO_DEPLOY_ORG_SLUG: "org",
  DENO_DEPLOY_APP_ID: "00000000-0000-4000-8000-000000000002",
  DENO_DEPLOY_APP_SLUG: "plaza",
  DENO_DEPLOY_BUILD_ID: "build1",
};

Deno.test("on Deno Deploy without DATABASE_URL, deno task migrate (the pre-deploy step) refuses and makes no embedded database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_deploy_" });
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    for (
      const timeline of ["production", "git-branch/main", "preview/abc"]
    ) {
      errors.length = 0;
      const code = await runMigrateCommand({
        ...DEPLOY_IDS,
        DENO_TIMELINE: timeline,
        DATA_DIR: `${dir}/data`,
      });
      assert.equal(code, 1, timeline);
      assert.match(
        errors.join("\n"),
        /^Cannot migrate: on Deno Deploy Plaza needs DATABASE_URL/,
      );
    }
  } finally {
    console.error = original;
  }
  // Nothing was opened: the embedded database's directory was never made.
  assert.equal(await exists(`${dir}/data`), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("on Deno Deploy without DATABASE_URL, the server refuses to start: at run time, and in the preview warm-up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_deploy_" });
  try {
    for (const timeline of ["production", "preview/abc"]) {
      const out = await exitOrListen({
        ...DEPLOY_IDS,
        DENO_TIMELINE: timeline,
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: `${dir}/data`,
      });
      assert.equal(out.code, 1, out.stderr);
      assert.match(
        out.stderr,
        /Cannot start server: on Deno Deploy Plaza needs DATABASE_URL/,
      );
    }
    assert.equal(await exists(`${dir}/data`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const MAIN = new URL("./main.ts", import.meta.url).pathname;

/** Runs server/main.ts until it exits, or until it listens (then kills it: code null). */
async function exitOrListen(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let out = "";
  let listened = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    out += chunk;
    if (!listened && out.includes("listening on")) {
      listened = true;
      child.kill("SIGKILL");
    }
  }
  const status = await child.status;
  return { code: listened ? null : status.code, stderr: await stderr };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
