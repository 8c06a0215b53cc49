// A bot's messages in a real browser: the "bot" badge after its name (from
// history and live), styled once the extras chunk is in, none on a
// person's message; axe is checked with it shown. With
// PLAZA_SCREENSHOTS=<dir> it saves a screenshot.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { openLivePage } from "../harness/browser.ts";
import { postJson } from "../harness/fixtures.ts";
import { withRoom } from "../harness/browser_room.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";

/** The shown message whose text starts with `text`. */
function row(page: Page, text: string) {
  return page.locator('[data-testid="message"]').filter({
    has: page.getByTestId("message-text").getByText(text),
  });
}

async function seriousAxe(page: Page): Promise<unknown[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations.filter((v) =>
      v.impact === "serious" || v.impact === "critical"
    ).map((v) => [v.id, v.nodes.map((n) => n.target)]);
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  const shots = Deno.env.get("PLAZA_SCREENSHOTS");
  if (!shots) return;
  await Deno.mkdir(shots, { recursive: true });
  await page.screenshot({ path: `${shots}/${name}.png` });
}

Deno.test("browser: a bot's messages show a bot badge after its name, a person's do not", async () => {
  await withRoom(async (plaza, browser) => {
    const res = await fetch(`${plaza.url}/moderation/bots`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ name: "Echo" }),
    });
    assert.equal(res.status, 201);
    const { token } = await res.json();
    await postJson(plaza.url, "ann", "is anyone there?");
    await postJson(plaza.url, "Echo", "I am a bot, beep", { token });
    const context = await browser.newContext({ bypassCSP: true });
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    const badge = row(page, "I am a bot").locator(".bot");
    await badge.waitFor();
    assert.equal(await badge.textContent(), "bot");
    assert.equal(
      await row(page, "is anyone there?").locator(".bot").count(),
      0,
    );
    // Styled (a bordered pill) once the extras chunk adopted its sheet.
    await page.waitForFunction(() => {
      const el = document.querySelector(".bot");
      return el !== null && getComputedStyle(el).borderTopStyle === "solid";
    });
    // Live, too: the next message arrives through the stream.
    await postJson(plaza.url, "ann", "@echo hi");
    await postJson(plaza.url, "Echo", "beep again", { token });
    await row(page, "beep again").locator(".bot").waitFor();
    await screenshot(page, "bot-badge");
    assert.deepEqual(await seriousAxe(page), []);
    assert.deepEqual(errors, []);
    await context.close();
  }, { ADMIN_TOKEN });
});
