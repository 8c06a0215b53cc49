// Permalinks in a real Chromium: /m/<id> opens the room at that message,
// fetched around it when it is long gone from the latest history; an id
// that names nothing gets a quiet line; "Copy link" puts the link on the
// clipboard; an installed app opens a permalink offline from its cache.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  highlighted,
  openLivePage,
  recordHighlights,
} from "../harness/browser.ts";
import { seedMessages } from "../harness/fixtures.ts";
import {
  controlled,
  PHONE,
  screenshot,
  withRoom,
} from "../harness/pwa_room.ts";

/** Whether message `id` is inside the log's visible part. */
function inView(page: Page, id: number): Promise<boolean> {
  return page.locator(`[data-testid="message"][data-id="${id}"]`).evaluate(
    (el) => {
      const box = el.getBoundingClientRect();
      const log = el.closest('[role="log"]')!.getBoundingClientRect();
      return box.top >= log.top && box.bottom <= log.bottom;
    },
  );
}

Deno.test("browser: /m/<id> of an old message, not in the latest history, opens the room around it, scrolled to it and highlighted", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 300);
    const [fifth] = await sql<{ id: number }[]>`
      select id::int from messages order by id offset 4 limit 1`;
    const context = await browser.newContext(PHONE);
    await recordHighlights(context);
    try {
      const { page, errors } = await openLivePage(
        context,
        `${plaza.url}/m/${fifth.id}`,
      );
      await highlighted(page, fifth.id);
      const target = page.locator(
        `[data-testid="message"][data-id="${fifth.id}"]`,
      );
      assert.equal(
        await target.getByTestId("message-text").textContent(),
        "message 5",
      );
      assert.ok(await inView(page, fifth.id), "scrolled into view");
      assert.equal(
        await target.evaluate((el) => el === document.activeElement),
        true,
      );
      // The room around it, not the latest history with a gap before it.
      const texts = await page.getByTestId("message-text").allTextContents();
      assert.equal(texts[0], "message 1");
      assert.ok(!texts.includes("message 300"));
      // The address stays the link: a reload shows the same message.
      assert.equal(
        await page.evaluate(() => location.pathname),
        `/m/${fifth.id}`,
      );
      await screenshot(page, "phone-permalink");
      await page.reload();
      await highlighted(page, fifth.id);
      assert.ok(await inView(page, fifth.id), "scrolled into view again");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: a permalink to an id that names no message (unknown, deleted, not a number) shows a quiet line in the room, which opens as usual", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 10);
    const [gone] = await sql<{ id: number }[]>`
      delete from messages where text = 'message 3' returning id::int`;
    const context = await browser.newContext(PHONE);
    try {
      for (const id of [`${gone.id}`, "999999999", "not-a-number"]) {
        const { page, errors } = await openLivePage(
          context,
          `${plaza.url}/m/${id}`,
        );
        const note = page.getByTestId("target-note");
        await note.waitFor();
        assert.equal(
          await note.textContent(),
          "That message is not here: it was deleted, or never was.",
        );
        assert.equal(await note.getAttribute("role"), "status");
        await page.getByText("message 10", { exact: true }).waitFor();
        // Nothing to come back to: the address is the room's own again.
        assert.equal(await page.evaluate(() => location.pathname), "/");
        assert.deepEqual(errors, [], id);
        await page.close();
      }
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: Copy link in the message menu puts the message's permalink on the clipboard and says so", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 3);
    const [second] = await sql<{ id: number }[]>`
      select id::int from messages where text = 'message 2'`;
    const context = await browser.newContext({
      ...PHONE,
      permissions: ["clipboard-read", "clipboard-write"],
    });
    await recordHighlights(context);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      const row = page.locator(
        `[data-testid="message"][data-id="${second.id}"]`,
      );
      await row.getByTestId("message-menu").click();
      await row.getByTestId("copy-link").click();
      const status = page.getByTestId("copy-status");
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="copy-status"]')?.textContent ===
            "Link copied.",
      );
      assert.equal(await status.getAttribute("role"), "status");
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, `${plaza.url}/m/${second.id}`);
      // The link copied opens that message.
      await page.goto(copied);
      await highlighted(page, second.id);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: offline, an installed Plaza opens a permalink from the worker's cached page", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 3);
    const context = await browser.newContext(PHONE);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      await controlled(page);
      await context.setOffline(true);
      const res = await page.goto(`${plaza.url}/m/2`);
      assert.ok(res?.fromServiceWorker(), "the page came from the worker");
      await page.locator('[data-testid="status"][data-status="offline"]')
        .waitFor();
      await context.setOffline(false);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
