import assert from "node:assert/strict";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import {
  PUSH_CRON_NAME,
  PUSH_CRON_SCHEDULE,
  registerPushCron,
} from "./cron.ts";

Deno.test("the push cron is registered where Deno.cron exists (Deno Deploy, or --unstable-cron) and skipped where it does not", () => {
  const registered: unknown[][] = [];
  const fake = {
    cron(...args: unknown[]) {
      registered.push(args);
      return Promise.resolve();
    },
  };
  assert.equal(registerPushCron(fake), true);
  assert.equal(registered.length, 1);
  const [name, schedule, handler] = registered[0];
  assert.equal(name, PUSH_CRON_NAME);
  assert.equal(schedule, "* * * * *");
  assert.equal(PUSH_CRON_SCHEDULE, schedule);
  assert.equal(typeof handler, "function");
  assert.ok((name as string).length <= 256);
  assert.equal(registerPushCron({}), false);
  // The tests run without --unstable-cron.
  assert.equal(registerPushCron(Deno), false);
});

Deno.test("server/main.ts registers the push cron at module top level (where Deploy looks), and says so in its listening line", async () => {
  await withTestDatabase(async (url) => {
    for (
      const [flags, expected] of [[[], false], [
        ["--unstable-cron"],
        true,
      ]] as const
    ) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          ...flags,
          new URL("../main.ts", import.meta.url).pathname,
        ],
        env: {
          PORT: "0",
          HOST: "127.0.0.1",
          DIST_DIR: "./no-client-here",
          DATABASE_URL: url,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      let out = "";
      let listening: Record<string, unknown> | null = null;
      for await (
        const chunk of child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        out += chunk;
        const line = out.split("\n").find((l) => l.includes('"listening"'));
        if (line !== undefined && listening === null) {
          listening = JSON.parse(line);
          child.kill("SIGTERM");
        }
      }
      await child.status;
      assert.ok(listening, `no listening line:\n${out}\n${await stderr}`);
      await stderr;
      assert.equal(listening.pushCron, expected, JSON.stringify(flags));
      assert.equal(listening.deno, Deno.version.deno);
    }
  });
});
