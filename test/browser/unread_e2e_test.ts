// "New since you left" in a real browser: a device that read the room, left
// and came back opens at the first message it has not read, under a
// divider that says how many came since, scrolled into view; axe finds
// nothing serious in it. Needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { BrowserContext, Page } from "playwright-core";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";
import { postJson } from "../harness/fixtures.ts";

const DIVIDER = '[data-testid="unread-divider"]';

/** The id this device last read, once it is `id`. */
async function lastReadIs(page: Page, id: number): Promise<void> {
  await page.waitForFunction(
    (want) => localStorage.getItem("plaza.lastRead") === String(want),
    id,
  );
}

async function reopen(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('[data-testid="status"][data-status="live"]').waitFor();
  return page;
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`);
  });
}

Deno.test("back after others wrote: the room opens at the first unread message under an 'N new messages' divider", async () => {
  await withRoom(async (plaza, browser) => {
    const post = async (n: number, prefix: string) => {
      const ids: number[] = [];
      for (let i = 1; i <= n; i++) {
        ids.push((await postJson(plaza.url, "bob", `${prefix} ${i}`)).id);
      }
      return ids;
    };
    const read = await post(10, "read");
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      // axe is injected as a script; the app's own CSP must not stop it.
      bypassCSP: true,
    });
    // The Badging API, recorded: each call's count (0: cleared).
    await context.addInitScript(() => {
      const calls: number[] = [];
      Object.assign(globalThis, { badgeCalls: calls });
      Object.defineProperty(Navigator.prototype, "setAppBadge", {
        value: (n = 0) => Promise.resolve(void calls.push(n)),
      });
      Object.defineProperty(Navigator.prototype, "clearAppBadge", {
        value: () => Promise.resolve(void calls.push(0)),
      });
    });
    try {
      const { page: first, errors } = await openLivePage(context, plaza.url);
      await first.getByText("read 10").waitFor();
      // Seen at the end of a visible tab: read on this device.
      await lastReadIs(first, read.at(-1)!);
      await first.close();

      // More than the stream's history (50): the page after the last read
      // one is fetched, and the view opens there, not at the end.
      const unread = await post(70, "new");
      const page = await reopen(context, plaza.url);
      const divider = page.locator(DIVIDER);
      await divider.waitFor();
      assert.equal(
        await divider.getByRole("separator").getAttribute("aria-label"),
        "70 new messages",
      );
      // Right above the first unread message.
      const next = await divider.evaluate((li) =>
        (li.nextElementSibling as HTMLElement | null)?.dataset.id
      );
      assert.equal(Number(next), unread[0]);
      // In view, and the log did not go on to its end.
      await page.waitForFunction((sel) => {
        const el = document.querySelector(sel)!.getBoundingClientRect();
        const log = document.querySelector('[role="log"]')!;
        const box = log.getBoundingClientRect();
        return el.top >= box.top && el.bottom <= box.bottom &&
          log.scrollHeight - log.scrollTop - log.clientHeight > 100;
      }, DIVIDER);
      assert.deepEqual(await seriousViolations(page), []);
      // PLAZA_SCREENSHOTS=dir keeps a picture to look at.
      const shots = Deno.env.get("PLAZA_SCREENSHOTS");
      if (shots) await page.screenshot({ path: `${shots}/unread.png` });
      // Not read yet: what was read stays where it was.
      assert.equal(
        await page.evaluate(() => localStorage.getItem("plaza.lastRead")),
        String(read.at(-1)),
      );

      // Down to the end: read, and the divider has done its work.
      await page.locator('[role="log"]').evaluate((log) =>
        log.scrollTop = log.scrollHeight
      );
      await lastReadIs(page, unread.at(-1)!);
      await divider.waitFor({ state: "detached" });
      await page.close();

      // A few, all in view at once: the divider shows and stays.
      const few = await post(3, "few");
      const again = await reopen(context, plaza.url);
      await again.locator(DIVIDER).waitFor();
      assert.equal(
        await again.locator(`${DIVIDER} [role=separator]`).textContent(),
        "3 new messages",
      );
      const after = await again.locator(DIVIDER).evaluate((li) =>
        (li.nextElementSibling as HTMLElement | null)?.dataset.id
      );
      assert.equal(Number(after), few[0]);
      await lastReadIs(again, few.at(-1)!);
      assert.equal(await again.locator(DIVIDER).count(), 1);

      // Hidden, as switching away makes it: the badge counts the unread
      // messages that mention the reader, and clears once they are seen.
      const badge = () =>
        again.evaluate(() =>
          (globalThis as unknown as { badgeCalls: number[] }).badgeCalls.at(-1)
        );
      await again.evaluate(() => {
        Object.defineProperty(document, "hidden", {
          value: true,
          configurable: true,
        });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      await postJson(plaza.url, "bob", "@ada are you there?");
      await postJson(plaza.url, "bob", "anyone?");
      await postJson(plaza.url, "carol", "@ADA ping");
      await again.getByText("@ADA ping").waitFor({ state: "attached" });
      await again.waitForFunction(() =>
        (globalThis as unknown as { badgeCalls: number[] }).badgeCalls.at(
          -1,
        ) ===
          2
      );
      await again.evaluate(() => {
        Object.defineProperty(document, "hidden", {
          value: false,
          configurable: true,
        });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      await again.waitForFunction(() =>
        (globalThis as unknown as { badgeCalls: number[] }).badgeCalls.at(
          -1,
        ) ===
          0
      );
      assert.equal(await badge(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
