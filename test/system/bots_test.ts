// `deno task moderate bots …` against a running instance: a moderator
// registers a bot (its token works for posting), lists and removes it.
import assert from "node:assert/strict";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { runModerate } from "../harness/moderate_cli.ts";
import { within } from "../harness/wait.ts";

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

Deno.test("a bot registered on one instance posts marked bot through another, and unregistering there holds on the first", async () => {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { ADMIN_TOKEN })),
    );
    try {
      // b has looked the name up (free) and cached that.
      const before = await postJson(b.url, "Beeper", "not a bot yet");
      assert.equal(before.bot, false);
      const added = await runModerate(
        a.url,
        ADMIN_TOKEN,
        "bots",
        "add",
        "Beeper",
      );
      const token = added.text.match(/name token .*: (\S+)/)?.[1];
      assert.ok(token, added.text);
      const viaB = await within(
        1_000,
        () => postJson(b.url, "beeper", "beep", { token }).catch(() => null),
        (m) => m !== null,
      );
      assert.equal(viaB?.bot, true);
      assert.equal(viaB?.author, "Beeper");
      const listed = await runModerate(b.url, ADMIN_TOKEN, "bots");
      assert.match(listed.text, /^Beeper\t\(no webhook\)/m);
      assert.equal(
        (await runModerate(b.url, ADMIN_TOKEN, "bots", "remove", "Beeper"))
          .code,
        0,
      );
      // The name is free again on a too: an unverified post, no badge.
      const after = await within(
        1_000,
        () => postJson(a.url, "Beeper", "free again").catch(() => null),
        (m) => m !== null,
      );
      assert.equal(after?.verified, false);
      assert.equal(after?.bot, false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
