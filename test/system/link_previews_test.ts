// Link previews end to end: a message's first link is previewed after the
// post (never before its 201), the preview reaches live streams, GET
// /messages and resumed streams as a `preview` change, and links the guard
// refuses (private addresses, redirects to them) get none, without a request.
import assert from "node:assert/strict";
import postgres from "postgres";
import { loadConfig } from "../../server/config.ts";
import { type Plaza, startPlaza } from "../../server/plaza.ts";
import type { PreviewGuard } from "../../server/previews/ssrf_guard.ts";
import type { LinkPreview, Message } from "../../protocol/message.ts";
import { postJson, withTestDatabase } from "../harness/fixtures.ts";
import {
  allMessages,
  applyEvent,
  messagesIn,
  type RoomState,
} from "../harness/room_state.ts";
import { openSse } from "../harness/sse_client.ts";
import {
  type PreviewSite,
  SITE_NAME,
  siteGuard,
  startPreviewSite,
} from "../harness/preview_site.ts";
import { until, withDeadline } from "../harness/wait.ts";

const WAIT_MS = 10_000;

const EXPECTED: Omit<LinkPreview, "url"> = {
  title: "Ada & the Engine",
  description: "Notes on the <Analytical> Engine — 1843",
  image: "https://img.example/engine.png",
  site: "Test Site",
};

function start(databaseUrl: string, guard?: PreviewGuard): Promise<Plaza> {
  return startPlaza(
    loadConfig({
      DATABASE_URL: databaseUrl,
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./this-test-serves-no-client",
      POST_RATE: "off",
      STREAMS_PER_ADDRESS: "1000",
      LINK_PREVIEWS: "on",
    }),
    { previewGuard: guard },
  );
}

/** A room with the test site, a second site no fetch may reach, and psql. */
async function withRoom(
  fn: (room: {
    plaza: Plaza;
    site: PreviewSite;
    trap: PreviewSite;
    sql: postgres.Sql;
    link: (path: string) => string;
  }) => Promise<void>,
  options: { realGuard?: boolean } = {},
): Promise<void> {
  await withTestDatabase(async (url) => {
    const trap = startPreviewSite();
    const site = startPreviewSite({
      redirectTo: () => `http://127.0.0.1:${trap.port}/og`,
    });
    const plaza = await start(
      url,
      options.realGuard ? undefined : siteGuard(site.port),
    );
    const sql = postgres(url, { onnotice: () => {} });
    try {
      await fn({
        plaza,
        site,
        trap,
        sql,
        link: (path) => `http://${SITE_NAME}:${site.port}${path}`,
      });
    } finally {
      await plaza.close();
      await sql.end({ timeout: 1 });
      await site.close();
      await trap.close();
    }
  });
}

/** Waits until the worker is done with message `id`; its preview row's status. */
async function settled(sql: postgres.Sql, id: number): Promise<string> {
  let status = "pending";
  await until(async () => {
    const [row] = await sql<{ status: string }[]>`
      select status from message_previews where message_id = ${id}`;
    status = row?.status ?? "pending";
    return status !== "pending";
  }, { what: `the preview of message ${id} to settle` });
  return status;
}

Deno.test("a link's preview arrives after the 201, on the live stream, in GET /messages and on resume", async () => {
  await withRoom(async ({ plaza, site, link }) => {
    const live = await openSse(`${plaza.url}/stream?since=0`);
    try {
      // The site holds its answer until released below: a post that
      // waited for the preview would never get its 201.
      const posted = await withDeadline(
        postJson(plaza.url, "ada", `read ${link("/gated")}, then reply`),
        WAIT_MS,
        "the 201",
      );
      // The 201 came while the site still held its answer: the post did
      // not wait for the fetch (nor, if it were slower, for the request).
      assert.equal(posted.preview, null);
      await withDeadline(site.requested("/gated"), WAIT_MS, "the fetch");
      site.release();
      await withDeadline(
        live.until((events) => events.some((e) => e.event === "preview")),
        WAIT_MS,
        "the preview event",
      );
      const event = live.events.find((e) => e.event === "preview")!;
      const data = JSON.parse(event.data);
      const preview = { url: link("/gated"), ...EXPECTED };
      assert.deepEqual(data, { id: posted.id, preview });
      assert.ok(Number(event.id) > posted.id);

      const [stored] = await allMessages(plaza.url);
      assert.deepEqual(stored.preview, preview);
      // The stream's state is GET /messages' state.
      const state: RoomState = new Map();
      for (const e of live.events) applyEvent(state, e);
      assert.deepEqual(messagesIn(state), [stored]);

      // A stream resuming after the message gets the preview as a change.
      const resumed = await openSse(`${plaza.url}/stream`, {
        lastEventId: posted.id,
      });
      try {
        await withDeadline(
          resumed.until((es) => es.some((e) => e.event === "preview")),
          WAIT_MS,
          "the preview on resume",
        );
        const again = resumed.events.find((e) => e.event === "preview")!;
        assert.equal(again.id, event.id);
        assert.deepEqual(JSON.parse(again.data), data);
      } finally {
        await resumed.close();
      }
      // The same link again comes from the cache: no second request.
      const second = await postJson(plaza.url, "bob", `also ${link("/gated")}`);
      await withDeadline(
        live.until((events) =>
          events.some((e) =>
            e.event === "preview" && JSON.parse(e.data).id === second.id
          )
        ),
        WAIT_MS,
        "the cached preview",
      );
      assert.deepEqual(site.requests, ["/gated"]);
    } finally {
      await live.close();
    }
  });
});

Deno.test("with the production guard, a link to this machine gets no preview and no request", async () => {
  await withRoom(async ({ plaza, site, sql }) => {
    for (
      const link of [
        `${site.url}/og`,
        `http://[::1]:${site.port}/og`,
        `http://2130706433:${site.port}/og`,
        "http://10.0.0.1/og",
      ]
    ) {
      const posted = await postJson(plaza.url, "ada", `see ${link}`);
      assert.equal(await settled(sql, posted.id), "failed", link);
    }
    assert.deepEqual(site.requests, []);
    for (const m of await allMessages(plaza.url)) assert.equal(m.preview, null);
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from changes where kind = 'preview'`;
    assert.equal(n, 0);
  }, { realGuard: true });
});

Deno.test("a redirect to a private address, an oversize page and a non-HTML answer are refused or capped", async () => {
  await withRoom(async ({ plaza, site, trap, sql, link }) => {
    const redirect = await postJson(plaza.url, "ada", link("/redirect"));
    assert.equal(await settled(sql, redirect.id), "failed");
    assert.deepEqual(trap.requests, []);

    const json = await postJson(plaza.url, "ada", link("/json"));
    assert.equal(await settled(sql, json.id), "failed");

    // Read up to the cap, not the 50 MB the site offers; what was read counts.
    const huge = await postJson(plaza.url, "ada", link("/huge"));
    assert.equal(await settled(sql, huge.id), "ok");
    await withDeadline(site.hugeCancelled, WAIT_MS, "the huge page's end");
    const byId = new Map(
      (await allMessages(plaza.url)).map((m): [number, Message] => [m.id, m]),
    );
    assert.equal(byId.get(huge.id)!.preview?.title, "Huge");
    assert.equal(byId.get(redirect.id)!.preview, null);
    assert.equal(byId.get(json.id)!.preview, null);
  });
});
