// `deno task moderate bots …` against a running instance: a moderator
// registers a bot (its token works for posting), lists and removes it.
import assert from "node:assert/strict";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { runModerate } from "../harness/moderate_cli.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";

Deno.test("deno task moderate bots registers, lists and removes bots", async () => {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url, { ADMIN_TOKEN });
    try {
      const moderate = (...args: string[]) =>
        runModerate(plaza.url, ADMIN_TOKEN, ...args);
      const none = await moderate("bots");
      assert.equal(none.code, 0, none.text);
      assert.match(none.text, /no bots/);

      const added = await moderate(
        "bots",
        "add",
        "Echo",
        "http://127.0.0.1:8787/hook",
        "--allow-local",
      );
      assert.equal(added.code, 0, added.text);
      assert.match(
        added.text,
        /registered bot Echo \(webhook http:\/\/127\.0\.0\.1:8787\/hook\)/,
      );
      const token = added.text.match(/name token .*: (\S+)/)?.[1];
      assert.ok(token, added.text);
      assert.match(added.text, /webhook secret .*: [\w-]{43}/);
      const message = await postJson(plaza.url, "Echo", "beep", { token });
      assert.equal(message.bot, true);

      const listed = await moderate("bots");
      assert.match(
        listed.text,
        /^Echo\thttp:\/\/127\.0\.0\.1:8787\/hook\tallow-local\tsince /m,
      );

      const taken = await moderate("bots", "add", "echo");
      assert.equal(taken.code, 1);
      assert.match(taken.text, /409 The name "echo" is taken/);
      const local = await moderate("bots", "add", "Other", "http://10.0.0.1/");
      assert.equal(local.code, 1);
      assert.match(local.text, /allowLocal/);
      assert.equal((await moderate("bots", "add")).code, 2);

      const removed = await moderate("bots", "remove", "Echo", "Nobody");
      assert.equal(removed.code, 1);
      assert.match(removed.text, /removed bot Echo/);
      assert.match(removed.text, /bot Nobody: 404/);
      assert.match((await moderate("bots")).text, /no bots/);
    } finally {
      await plaza.close();
    }
  });
});
