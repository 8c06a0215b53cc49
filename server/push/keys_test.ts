// One VAPID pair per deployment: from the configuration (checked), or made
// once and shared through the database however many instances race for it.
import assert from "node:assert/strict";
// @deno-types="@types/web-push"
import webpush from "web-push";
import { ConfigError, loadConfig } from "../config.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { isVapidPair, loadVapidKeys } from "./keys.ts";
import {
  startTestInstance,
  withTestDatabase,
} from "../../test/harness/fixtures.ts";

Deno.test("VAPID settings: both keys or neither, the right sizes, a contact subject", () => {
  const pair = webpush.generateVAPIDKeys();
  const push = loadConfig({
    VAPID_PUBLIC_KEY: pair.publicKey,
    VAPID_PRIVATE_KEY: pair.privateKey,
    VAPID_SUBJECT: "mailto:ops@chat.example",
  }).push;
  assert.deepEqual(push.vapidKeys, pair);
  assert.equal(push.subject, "mailto:ops@chat.example");
  const defaults = loadConfig({}).push;
  assert.equal(defaults.vapidKeys, null);
  assert.equal(defaults.intervalMs, 60_000);
  assert.equal(defaults.allowInsecureEndpoints, false);
  const refused: [Record<string, string>, RegExp][] = [
    [{ VAPID_PUBLIC_KEY: pair.publicKey }, /set both or neither/],
    [{ VAPID_PRIVATE_KEY: pair.privateKey }, /set both or neither/],
    [
      { VAPID_PUBLIC_KEY: pair.privateKey, VAPID_PRIVATE_KEY: pair.privateKey },
      /VAPID_PUBLIC_KEY must be an uncompressed P-256 public key/,
    ],
    [
      { VAPID_PUBLIC_KEY: pair.publicKey, VAPID_PRIVATE_KEY: "not+base64" },
      /VAPID_PRIVATE_KEY must be a P-256 private key/,
    ],
    [{ VAPID_SUBJECT: "ops@chat.example" }, /mailto: address or an https: URL/],
    [{ VAPID_SUBJECT: "http://chat.example" }, /mailto: address or an https:/],
    [{ PUSH_INTERVAL_MS: "soon" }, /PUSH_INTERVAL_MS must be a whole number/],
    [{ PUSH_ALLOW_INSECURE_ENDPOINTS: "maybe" }, /true or false/],
  ];
  for (const [env, pattern] of refused) {
    assert.throws(() => loadConfig(env), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, pattern);
      return true;
    }, JSON.stringify(env));
  }
});

Deno.test("isVapidPair tells the halves of one pair from two pairs", () => {
  const a = webpush.generateVAPIDKeys();
  const b = webpush.generateVAPIDKeys();
  assert.ok(isVapidPair(a));
  assert.ok(!isVapidPair({ publicKey: a.publicKey, privateKey: b.privateKey }));
  assert.ok(!isVapidPair({ publicKey: "x", privateKey: "y" }));
});

Deno.test("five connections making keys at once all end up with one stored pair", async () => {
  await withTestDatabase(async (url) => {
    const dbs = [1, 2, 3, 4, 5].map(() =>
      createPostgresDatabase(url, { max: 1 })
    );
    try {
      await migrate(dbs[0], await readMigrations());
      const keys = await Promise.all(dbs.map((db) => loadVapidKeys(db, null)));
      assert.equal(new Set(keys.map((k) => k.publicKey)).size, 1);
      assert.ok(isVapidPair(keys[0]));
      // And later starts read the same pair back.
      assert.deepEqual(await loadVapidKeys(dbs[0], null), keys[0]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

Deno.test("configured keys are served as they are; a mismatched pair stops the start with a ConfigError", async () => {
  await withTestDatabase(async (url) => {
    const pair = webpush.generateVAPIDKeys();
    const plaza = await startTestInstance(url, {
      VAPID_PUBLIC_KEY: pair.publicKey,
      VAPID_PRIVATE_KEY: pair.privateKey,
    });
    try {
      const res = await fetch(`${plaza.url}/push/key`);
      assert.deepEqual(await res.json(), { publicKey: pair.publicKey });
    } finally {
      await plaza.close();
    }
    const other = webpush.generateVAPIDKeys();
    await assert.rejects(
      startTestInstance(url, {
        VAPID_PUBLIC_KEY: pair.publicKey,
        VAPID_PRIVATE_KEY: other.privateKey,
      }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /not the private key of VAPID_PUBLIC_KEY/);
        return true;
      },
    );
  });
});
