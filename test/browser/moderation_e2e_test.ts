// A reader's own moderation in a real browser against a real server and
// Postgres: muting a name (hidden at once, Undo, still muted after a
// reload, unmuted from the list) and reporting a message (the moderators'
// list has it). Keyboard focus and axe are checked on the way. With
// PLAZA_SCREENSHOTS=<dir> it saves screenshots of both.
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

/** The shown messages' texts, in order. */
function texts(page: Page): Promise<string[]> {
  return page.getByTestId("message-text").allInnerTexts();
}

const focused = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("data-testid"));

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

Deno.test("browser: mute a name (Undo, survives a reload, unmute from the list) and report a message to the moderators", async () => {
  await withRoom(async (plaza, browser) => {
    await postJson(plaza.url, "Troll", "first rant");
    await postJson(plaza.url, "ann", "hello all");
    await postJson(plaza.url, "troll", "buy cheap stuff");
    // axe is injected as a script; the app's own CSP must not stop it.
    const context = await browser.newContext({ bypassCSP: true });
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    await row(page, "buy cheap stuff").waitFor();

    // Mute from the menu: both spellings' messages go, ann's stay.
    await row(page, "buy cheap stuff").getByTestId("message-menu").click();
    await page.getByTestId("mute").click();
    await row(page, "first rant").waitFor({ state: "detached" });
    assert.deepEqual(await texts(page), ["hello all"]);
    assert.match(
      await page.getByTestId("mute-status").innerText(),
      /Muted troll\./,
    );
    await page.waitForFunction(() =>
      document.activeElement?.getAttribute("data-testid") === "undo-mute"
    );
    await screenshot(page, "mute-status");
    // Undo by keyboard: they are back, focus on that message's menu.
    await page.keyboard.press("Enter");
    await row(page, "first rant").waitFor();
    assert.deepEqual(await texts(page), [
      "first rant",
      "hello all",
      "buy cheap stuff",
    ]);
    await page.waitForFunction(() =>
      document.activeElement?.getAttribute("data-testid") === "message-menu"
    );

    // Muted again, and still after a reload; new messages stay hidden too.
    await row(page, "first rant").getByTestId("message-menu").click();
    await page.getByTestId("mute").click();
    await row(page, "first rant").waitFor({ state: "detached" });
    await page.reload();
    await row(page, "hello all").waitFor();
    await postJson(plaza.url, "TROLL", "still here");
    await postJson(plaza.url, "ann", "after that");
    await row(page, "after that").waitFor();
    assert.deepEqual(await texts(page), ["hello all", "after that"]);

    // The list: one muted name, unmuted from there.
    const list = page.getByTestId("muted-list");
    assert.equal(await list.innerText(), "Muted: 1");
    await list.click();
    const unmute = page.getByRole("button", { name: "Unmute troll" });
    await unmute.waitFor();
    await screenshot(page, "muted-list");
    assert.deepEqual(await seriousAxe(page), []);
    await unmute.click();
    await row(page, "still here").waitFor();
    await list.waitFor({ state: "detached" });

    // Report: the form takes focus, Enter sends, focus comes back.
    await row(page, "buy cheap stuff").getByTestId("message-menu").click();
    await page.getByTestId("report").click();
    const reason = page.getByLabel("Why are you reporting this? (optional)");
    await reason.waitFor();
    assert.equal(await focused(page), "report-reason");
    await screenshot(page, "report-form");
    assert.deepEqual(await seriousAxe(page), []);
    await reason.fill("selling things");
    await reason.press("Enter");
    await page.getByTestId("report-status").getByText(
      "Reported. Thanks — a moderator will look.",
    ).waitFor();
    await page.getByTestId("report-form").waitFor({ state: "detached" });
    assert.equal(await focused(page), "message-menu");

    const res = await fetch(`${plaza.url}/moderation/reports`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const { reports } = await res.json();
    assert.equal(reports.length, 1);
    assert.equal(reports[0].reason, "selling things");
    assert.equal(reports[0].reporterName, "ada");
    assert.deepEqual(reports[0].message, {
      author: "troll",
      text: "buy cheap stuff",
    });

    // Escape closes the form without sending; a second report of the same
    // message from here is the same open report.
    await row(page, "buy cheap stuff").getByTestId("message-menu").click();
    await page.getByTestId("report").click();
    await reason.waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("report-form").waitFor({ state: "detached" });
    assert.deepEqual(errors, []);
    await context.close();
  }, { ADMIN_TOKEN });
});
