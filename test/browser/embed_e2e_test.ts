// The embeddable room in a real Chromium: /embed inside an <iframe> of a page
// served from another site (a second small server on localhost, Plaza on
// 127.0.0.1), shown when EMBED_ORIGINS lists that site and refused when it
// does not; read-only by default, read-write with ?mode=write; axe-clean.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startTestInstance } from "../harness/fixtures.ts";
import {
  chatter,
  PHONE,
  screenshot,
  severeViolations,
  withRoom,
} from "../harness/pwa_room.ts";

/** A page of another site framing Plaza's /embed (at /, read-only; at /write, ?mode=write). */
async function withHostSite(
  plazaUrl: () => string,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const write = new URL(req.url).pathname === "/write";
      const src = `${plazaUrl()}/embed${write ? "?mode=write" : ""}`;
      return new Response(
        `<!doctype html><html lang="en"><head><title>A blog</title></head>
<body><h1>Our meetup</h1><p>Talk to us:</p>
<iframe src="${src}" title="Plaza chat" width="360" height="480"
  onload="document.body.dataset.framed = 'loaded'"></iframe></body></html>`,
        { headers: { "Content-Type": "text/html; charset=utf-8" } },
      );
    },
  );
  try {
    // localhost, not 127.0.0.1: another site than Plaza's, as a blog's is.
    await fn(`http://localhost:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

const frameOf = (page: Page) => page.frameLocator("iframe");

Deno.test("browser: /embed in an iframe of a site EMBED_ORIGINS lists shows the room: read-only with no composer and no name asked, read-write with ?mode=write; axe finds nothing", async () => {
  await withRoom(async (room) => {
    await chatter(room.sql);
    await withHostSite(() => room.plaza.url, async (site) => {
      await room.plaza.close();
      room.plaza = await startTestInstance(room.dbUrl, {
        DIST_DIR: room.dist,
        EMBED_ORIGINS: site,
      });
      const context = await room.browser.newContext({
        viewport: { width: 600, height: 640 },
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(site);
        const frame = frameOf(page);
        await frame.getByText("7 works. Same place as last time.").waitFor();
        await frame.locator('[data-testid="status"][data-status="live"]')
          .waitFor();
        // Read-only: the messages, and nothing to write with.
        for (const id of ["name-input", "composer-input", "message-menu"]) {
          assert.equal(
            await frame.locator(`[data-testid="${id}"]:visible`).count(),
            0,
            id,
          );
        }
        assert.equal(await frame.locator("#tools:visible").count(), 0);
        await screenshot(page, "embed-read-only");

        // Read-write: the name prompt, then posting from inside the frame.
        await page.goto(`${site}/write`);
        const writable = frameOf(page);
        await writable.getByTestId("name-input").fill("Ines");
        await writable.getByTestId("name-submit").click();
        await writable.getByTestId("composer-input").fill(
          "Hello from the blog",
        );
        await writable.getByTestId("composer-input").press("Enter");
        // In the list (not only the outbox): the server took it.
        await writable.locator('[data-testid="message"]', {
          hasText: "Hello from the blog",
        }).waitFor();
        const [stored] = await room.sql<{ author: string }[]>`
          select author from messages where text = 'Hello from the blog'`;
        assert.equal(stored?.author, "Ines");
        await screenshot(page, "embed-read-write");
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }

      // axe on the page itself (its CSP would refuse axe's inline script).
      const audit = await room.browser.newContext({
        ...PHONE,
        bypassCSP: true,
      });
      try {
        for (const mode of ["", "?mode=write"]) {
          const page = await audit.newPage();
          await page.goto(`${room.plaza.url}/embed${mode}`);
          await page.getByText("Hello from the blog").waitFor();
          assert.deepEqual(await severeViolations(page), [], mode);
          await page.close();
        }
      } finally {
        await audit.close();
      }
    });
  });
});

Deno.test("browser: without EMBED_ORIGINS listing the site, the browser refuses to show /embed in its iframe", async () => {
  await withRoom(async (room) => {
    await chatter(room.sql);
    await withHostSite(() => room.plaza.url, async (site) => {
      for (const listed of [null, "https://elsewhere.example"]) {
        if (listed) {
          await room.plaza.close();
          room.plaza = await startTestInstance(room.dbUrl, {
            DIST_DIR: room.dist,
            EMBED_ORIGINS: listed,
          });
        }
        const context = await room.browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(site);
          // The frame loads, but Chromium's error page in place of Plaza.
          await page.locator('body[data-framed="loaded"]').waitFor();
          const frame = page.frames()[1];
          assert.equal(frame.url(), "chrome-error://chromewebdata/");
          assert.equal(await frame.locator("[data-testid]").count(), 0);
        } finally {
          await context.close();
        }
      }
    });
  });
});
