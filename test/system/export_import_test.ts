// Backup and restore: `deno task export` saves a running Plaza's messages as
// NDJSON, and `deno task import` puts them into an empty one with the same
// ids and every stored column, reactions and previews included; the
// restored room numbers new messages and claims after the imported ones,
// and a room that is not empty is refused.
import assert from "node:assert/strict";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import type { Database } from "../../db/database.ts";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { runExport } from "../../tools/export.ts";
import { runImport } from "../../tools/import.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";

/** Every stored row of the room, in a stable order. */
async function rows(db: Database) {
  return {
    messages: await db.query("select * from messages order by id"),
    reactions: await db.query(
      "select * from reactions order by message_id, name_id, emoji",
    ),
    previews: await db.query(
      "select * from message_previews order by message_id",
    ),
  };
}

async function react(base: string, id: number, token: string, emoji: string) {
  const res = await fetch(`${base}/messages/${id}/reactions`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ emoji }),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
}

Deno.test("an NDJSON export imported into an empty Plaza gives identical rows and ids, and new posts continue after them", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/backup.ndjson`;
  try {
    await withTestDatabase(async (sourceUrl) => {
      const source = createPostgresDatabase(sourceUrl);
      const plaza = await startTestInstance(sourceUrl, { ADMIN_TOKEN });
      try {
        const ada = await claimName(plaza.url, "ada");
        const bob = await claimName(plaza.url, "bob");
        const gone = await postJson(plaza.url, "ada", "to be deleted", {
          token: ada,
        });
        const first = await postJson(plaza.url, "ada", "hello\nworld", {
          token: ada,
          clientId: crypto.randomUUID(),
        });
        // A reply to a message deleted since: its reply_to points nowhere.
        const orphan = await source.query<{ id: number }>(
          `insert into messages (author, text, reply_to, name_id)
           values ('bob', 'answer', $1, null) returning id`,
          [gone.id],
        );
        await source.query("delete from messages where id = $1", [gone.id]);
        const reply = await postJson(plaza.url, "carol", "unverified");
        await react(plaza.url, first.id, bob, "👍");
        await react(plaza.url, first.id, ada, "🎉");
        await source.query(
          "update messages set text = 'hello, edited' where id = $1",
          [reply.id],
        );
        // What a message says of its pictures, and a bot's mark, go along
        // (the pictures' bytes do not: docs/operating.md).
        await source.query(
          `update messages set bot = true, attachments =
             '[{"id": "AAAAAAAAAAAAAAAAAAAAAA", "width": 10, "height": 20,
                "type": "image/png", "alt": "a cat"}]'::jsonb
           where id = $1`,
          [orphan[0].id],
        );
        await source.query(
          `insert into message_previews
             (message_id, url, status, title, site_name)
           values ($1, 'https://example.com/', 'ok', 'Example', 'example')`,
          [first.id],
        );
        assert.ok(orphan[0].id > gone.id);

        assert.equal(
          await runExport(["--out", file], {
            PLAZA_URL: plaza.url,
            ADMIN_TOKEN,
          }),
          0,
        );
        const expected = await rows(source);
        assert.equal(expected.messages.length, 3);
        const [lastSeq] = await source.query<{ s: number }>(
          "select max(seq)::int as s from changes",
        );

        await withTestDatabase(async (targetUrl) => {
          const env = { DATABASE_URL: targetUrl };
          assert.equal(await runImport([file], env), 0);
          const target = createPostgresDatabase(targetUrl);
          try {
            assert.deepEqual(await rows(target), expected);
            // A second import finds the room full.
            assert.equal(await runImport([file], env), 1);
            assert.deepEqual(await rows(target), expected);
          } finally {
            await target.close();
          }
          const restored = await startTestInstance(targetUrl, { ADMIN_TOKEN });
          try {
            const next = await postJson(restored.url, "dan", "after");
            assert.ok(next.id > lastSeq.s, `${next.id} > ${lastSeq.s}`);
            // A new claim cannot get an id an imported message was posted
            // under (it could then edit or delete that message).
            const dan = await claimName(restored.url, "dan");
            const own = await postJson(restored.url, "dan", "mine", {
              token: dan,
            });
            const [claim] = await source.query<{ max: number }>(
              "select max(id)::int as max from names",
            );
            const check = createPostgresDatabase(targetUrl);
            try {
              const [row] = await check.query<{ name_id: number }>(
                "select name_id::int from messages where id = $1",
                [own.id],
              );
              assert.ok(row.name_id > claim.max);
            } finally {
              await check.close();
            }
          } finally {
            await restored.close();
          }
        });
      } finally {
        await plaza.close();
        await source.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task import refuses a file that is not an export, and a bad line, leaving the room empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withTestDatabase(async (url) => {
      const header =
        '{"format":"plaza-export","version":1,"from":null,"to":null,"lastSeq":3,"exportedAt":"2026-12-06T00:00:00.000Z"}';
      const good =
        '{"id":1,"author":"ada","text":"hi","createdAt":"2026-12-06T00:00:00.000001Z","clientId":null,"nameId":null,"editedAt":null,"replyTo":null,"reactions":[],"preview":null}';
      const cases = {
        "not-export": '{"id":1}\n',
        "bad-line": `${header}\n${good}\n{"id":2,"author":"ada"}\n`,
        // The database's own checks: an empty text is refused.
        "refused": `${header}\n${good}\n${
          good.replace('"id":1', '"id":2').replace('"hi"', '""')
        }\n`,
      };
      for (const [name, text] of Object.entries(cases)) {
        await Deno.writeTextFile(`${dir}/${name}`, text);
        assert.equal(
          await runImport([`${dir}/${name}`], { DATABASE_URL: url }),
          1,
          name,
        );
      }
      const db = createPostgresDatabase(url);
      try {
        const [n] = await db.query<{ n: number }>(
          "select count(*)::int as n from messages",
        );
        assert.equal(n.n, 0);
      } finally {
        await db.close();
      }
      await Deno.writeTextFile(`${dir}/ok`, `${header}\n${good}\n`);
      assert.equal(await runImport([`${dir}/ok`], { DATABASE_URL: url }), 0);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
