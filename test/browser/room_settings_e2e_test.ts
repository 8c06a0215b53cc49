// The pinned notice and the lockdown in a real browser: the notice shows
// under the header, collapses and stays collapsed after a reload until a new
// one comes; a lockdown closes the composer and says why, for everyone or
// for a name claimed after `since`. Needs Debian's Chromium at
// /usr/bin/chromium; run by `deno task test`. With PLAZA_SCREENSHOTS=<dir>
// it saves the notice and the closed composer, phone and desktop.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";
// The desktop one dark: the notice's colours are checked by axe in both schemes.
const LAYOUTS = [
  { name: "phone", width: 390, height: 844, dark: false },
  { name: "desktop", width: 1280, height: 800, dark: true },
];

async function moderate(
  url: string,
  path: string,
  method: string,
  body?: unknown,
) {
  const res = await fetch(`${url}/moderation/${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

async function shoot(page: Page, file: string) {
  const dir = Deno.env.get("PLAZA_SCREENSHOTS") ?? "/tmp";
  await Deno.mkdir(dir, { recursive: true });
  await page.screenshot({ path: `${dir}/${file}.png` });
}

/** axe's serious and critical violations on the page as it is. */
async function severeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations.filter((v) =>
      v.impact === "serious" || v.impact === "critical"
    ).map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`);
  });
}

Deno.test("browser: the pinned notice shows under the header, collapses, stays collapsed after a reload, and a new notice shows again", async () => {
  await withRoom(async (plaza, browser) => {
    for (const layout of LAYOUTS) {
      const context = await browser.newContext({
        viewport: { width: layout.width, height: layout.height },
        colorScheme: layout.dark ? "dark" : "light",
        // axe is injected as a script; the app's own CSP must not stop it.
        bypassCSP: true,
      });
      const { page, errors } = await openLivePage(context, plaza.url, "ada");
      await moderate(plaza.url, "notice", "PUT", {
        text:
          "**Welcome to Plaza.** Be kind, stay on topic.\nRules: https://example.com/rules",
      });
      const notice = page.getByTestId("notice");
      const text = page.getByTestId("notice-text");
      await text.getByText("Welcome to Plaza.").waitFor();
      assert.equal(
        await text.locator("strong").textContent(),
        "Welcome to Plaza.",
        "light markdown, as messages have",
      );
      assert.equal(
        await text.locator("a").getAttribute("href"),
        "https://example.com/rules",
      );
      const header = (await page.locator("header").boundingBox())!;
      const box = (await notice.boundingBox())!;
      assert.ok(
        box.y >= header.y + header.height - 1,
        `under the header: ${JSON.stringify({ header, box })}`,
      );
      await shoot(page, `notice-${layout.name}`);
      assert.deepEqual(await severeViolations(page), []);

      const toggle = page.getByTestId("notice-toggle");
      assert.equal(await toggle.getAttribute("aria-expanded"), "true");
      await toggle.click();
      await text.waitFor({ state: "detached" });
      assert.equal(await toggle.getAttribute("aria-expanded"), "false");
      await page.reload();
      await page.locator('[data-testid="status"][data-status="live"]')
        .waitFor();
      await notice.waitFor();
      assert.equal(await toggle.textContent(), "Show", "still collapsed");
      assert.equal(await text.count(), 0);

      // A new notice is not the one this device collapsed.
      await moderate(plaza.url, "notice", "PUT", { text: "Meetup moved." });
      await text.getByText("Meetup moved.").waitFor();
      await moderate(plaza.url, "notice", "DELETE");
      await notice.waitFor({ state: "detached" });
      assert.deepEqual(errors, []);
      await context.close();
    }
  }, { ADMIN_TOKEN });
});

Deno.test("browser: a lockdown closes the composer and says why, for everyone or for a name claimed after `since`", async () => {
  await withRoom(async (plaza, browser) => {
    for (const layout of LAYOUTS) {
      const context = await browser.newContext({
        viewport: { width: layout.width, height: layout.height },
        colorScheme: layout.dark ? "dark" : "light",
      });
      const name = `ada-${layout.name}`;
      const { page, errors } = await openLivePage(context, plaza.url, name);
      const input = page.getByTestId("composer-input");
      const closed = page.getByTestId("lockdown");
      // Posting claims the name: this device holds its token from now on.
      // Texts of their own: each layout's room holds the earlier ones.
      await input.fill(`before ${layout.name}`);
      await input.press("Enter");
      await page.getByTestId("message-text").getByText(`before ${layout.name}`)
        .waitFor();

      await moderate(plaza.url, "lockdown", "PUT", {
        scope: "all",
        reason: "Back in ten minutes.",
      });
      await closed.getByText(
        "The room is read-only for now. Back in ten minutes.",
      ).waitFor();
      await input.waitFor({ state: "hidden" });
      await shoot(page, `lockdown-${layout.name}`);

      // Against a raid that began before this name was claimed: closed.
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      await moderate(plaza.url, "lockdown", "PUT", {
        scope: "newer",
        since: hourAgo,
      });
      await closed.getByText("New names can’t post in the room for now.")
        .waitFor();
      assert.equal(await input.isVisible(), false);

      // A raid that began after it: this name may post.
      const later = new Date(Date.now() + 60_000).toISOString();
      await moderate(plaza.url, "lockdown", "PUT", {
        scope: "newer",
        since: later,
      });
      await closed.waitFor({ state: "detached" });
      await input.waitFor();
      await input.fill(`after ${layout.name}`);
      await input.press("Enter");
      await page.getByTestId("message-text").getByText(`after ${layout.name}`)
        .waitFor();
      assert.equal(await page.getByTestId("retry-send").count(), 0);

      await moderate(plaza.url, "lockdown", "DELETE");
      assert.deepEqual(errors, []);
      await context.close();
    }
  }, { ADMIN_TOKEN });
});
