// GET /export: moderators only, a checked range and format, transcripts that
// escape what people wrote, and a body read from the database page by page
// as the client takes it.
import assert from "node:assert/strict";
import type { Queryable } from "../../db/database.ts";
import { expectError, withNameApp } from "../../test/harness/name_app.ts";
import { exportStream } from "./export_routes.ts";
import { escapeMarkdown } from "./transcript.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

const HOSTILE =
  `<script>alert(1)</script> [x](javascript:evil) ![i](https://e.test/i.png)\n# heading\n\n    code & "quotes" 'single' <img src=x onerror=alert(2)>`;

Deno.test("GET /export needs the admin token and refuses a bad range or format with a 400", async () => {
  await withNameApp(async ({ app }) => {
    const get = (query: string, headers: Record<string, string> = admin) =>
      Promise.resolve(app.request(`/export${query}`, { headers }));
    await expectError(await get("", {}), 401, /admin token/);
    await expectError(
      await get("", { Authorization: "Bearer wrong" }),
      403,
      /not valid/,
    );
    for (
      const query of [
        "?from=yesterday",
        "?to=2026-02-30",
        "?from=2026-13-01",
        "?from=2026-12-06T24:00Z",
        "?from=2026-12-06T10:00:00+0100",
        "?from=12026-01-01",
        "?from=2026-12-06&to=2026-12-06",
        "?from=2026-12-07&to=2026-12-06",
        "?format=pdf",
        "?format=",
      ]
    ) {
      await expectError(
        await get(query),
        400,
        /must be (a date|before to|one of)/,
      );
    }
  }, { adminToken: ADMIN_TOKEN });
  await withNameApp(async ({ app }) => {
    const res = await app.request("/export", { headers: admin });
    await expectError(res, 404, /Moderation is off/);
  });
});

Deno.test("GET /export gives the range asked for, NDJSON by default with a header line", async () => {
  await withNameApp(async ({ app, db }) => {
    await db.query(
      `insert into messages (author, text, created_at) values
         ('ada', 'before', '2026-12-05T23:59:59.999Z'),
         ('ada', 'in', '2026-12-06T00:00:00Z'),
         ('ada', 'also in', '2026-12-06T12:00:00.5Z'),
         ('ada', 'after', '2026-12-07T00:00:00Z')`,
    );
    const res = await app.request(
      "/export?from=2026-12-06&to=2026-12-07",
      { headers: admin },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /^attachment; filename="plaza-.*\.ndjson"$/,
    );
    const [head, ...lines] = (await res.text()).trimEnd().split("\n");
    assert.deepEqual(
      { ...JSON.parse(head), exportedAt: null },
      {
        format: "plaza-export",
        version: 1,
        from: "2026-12-06T00:00:00.000Z",
        to: "2026-12-07T00:00:00.000Z",
        lastSeq: 4,
        exportedAt: null,
      },
    );
    const records = lines.map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => r.text), ["in", "also in"]);
    assert.deepEqual(Object.keys(records[0]), [
      "id",
      "author",
      "text",
      "createdAt",
      "clientId",
      "nameId",
      "editedAt",
      "replyTo",
      "reactions",
      "preview",
      "attachments",
      "bot",
    ]);
    assert.equal(records[1].createdAt, "2026-12-06T12:00:00.500000Z");
  }, { adminToken: ADMIN_TOKEN });
});

Deno.test("transcripts escape what people wrote: no markup in Markdown, no tags in HTML", async () => {
  await withNameApp(async ({ app, db }) => {
    await db.query(
      "insert into messages (author, text) values ($1, $2)",
      ["<b>eve</b>", HOSTILE],
    );
    const html = await (await app.request("/export?format=html", {
      headers: admin,
    })).text();
    assert.match(html, /^<!doctype html>/);
    assert.ok(!html.includes("<script"), html);
    assert.ok(!html.includes("<img"), html);
    assert.ok(!html.includes("<b>eve"), html);
    assert.ok(html.includes("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert.ok(html.includes("&#34;quotes&#34; &#39;single&#39;"));
    assert.ok(html.includes("<b>&#60;b&#62;eve&#60;/b&#62;</b>"));

    const res = await app.request("/export?format=markdown", {
      headers: admin,
    });
    assert.equal(
      res.headers.get("content-type"),
      "text/markdown; charset=utf-8",
    );
    const md = await res.text();
    assert.ok(md.startsWith("# Plaza transcript\n"));
    assert.ok(md.includes("**\\<b\\>eve\\</b\\>**"), md);
    assert.ok(md.includes("> \\<script\\>alert\\(1\\)\\</script\\>"), md);
    assert.ok(md.includes("\\[x\\]\\(javascript\\:evil\\)"), md);
    assert.ok(md.includes("\\!\\[i\\]\\(https\\:"), md);
    assert.ok(md.includes("\n> \\# heading\n>\n"), md);
    // Indentation kept without making a code block.
    assert.ok(md.includes("\n> \u00a0\u00a0\u00a0\u00a0code \\& "), md);
    // Nothing unescaped is left that Markdown reads as a tag or a link.
    const quoted = md.split("\n").filter((l) => l.startsWith("> "));
    for (const line of quoted) {
      assert.ok(!/(^|[^\\])[<\[\]()!]/.test(line.slice(2)), line);
    }
  }, { adminToken: ADMIN_TOKEN });
  assert.equal(escapeMarkdown("a_b*c"), "a\\_b\\*c");
});

Deno.test("exports carry what a message says of its pictures: NDJSON every field, transcripts the alt text, escaped", async () => {
  await withNameApp(async ({ app, db }) => {
    // Stored as the upload path leaves it; the bytes are not exported.
    await db.query(
      `insert into messages (author, text) values ('ada', 'look')`,
    );
    await db.query(
      `update messages set attachments =
         '[{"id": "AAAAAAAAAAAAAAAAAAAAAA", "width": 10, "height": 20,
            "type": "image/png", "alt": "<i>cat</i>"}]'::jsonb`,
    );
    const lines = (await (await app.request("/export", { headers: admin }))
      .text()).trim().split("\n");
    const record = JSON.parse(lines[1]);
    assert.deepEqual(record.attachments, [{
      id: "AAAAAAAAAAAAAAAAAAAAAA",
      width: 10,
      height: 20,
      type: "image/png",
      alt: "<i>cat</i>",
    }]);
    assert.equal(record.bot, false);
    const html = await (await app.request("/export?format=html", {
      headers: admin,
    })).text();
    assert.ok(
      html.includes("look<br>\n[picture: &#60;i&#62;cat&#60;/i&#62;]"),
      html,
    );
    const md = await (await app.request("/export?format=markdown", {
      headers: admin,
    })).text();
    assert.ok(md.includes("> look\n> \\[picture\\: \\<i\\>cat\\</i\\>\\]"), md);
  }, { adminToken: ADMIN_TOKEN });
});

Deno.test("the export body reads the next page only when the client takes the previous one", async () => {
  const pages: number[] = [];
  let id = 0;
  const db: Queryable = {
    query<T>(_text: string, params: unknown[] = []): Promise<T[]> {
      const limit = params[4] as number;
      pages.push(limit);
      return Promise.resolve(
        Array.from({ length: limit }, () => {
          id++;
          return {
            line: `{"id":${id}}`,
            at: "2026-12-06T00:00:00.000000Z",
            id,
          } as T;
        }),
      );
    },
    exec: () => Promise.resolve(),
  };
  const stream = exportStream(
    db,
    { from: null, to: null },
    "ndjson",
    "head\n",
    { lines: ['{"id":0}'], next: { at: "2026-12-06T00:00:00Z", id: 0 } },
  );
  const reader = stream.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "head\n");
  await reader.read();
  await reader.read();
  // Time for a stream that reads ahead to do so (a check that nothing
  // more happens can only wait).
  await new Promise((resolve) => setTimeout(resolve, 50));
  // Three chunks taken (the head, the first page, the second): three pages
  // read, the one in the queue now and the one behind it, no further.
  assert.equal(pages.length, 3, `${pages.length} pages read`);
  await reader.cancel();
});
