// Who's here and @-mentions in real browsers: each reader's stream carries
// their name (a claimed one with a stream ticket), the "N online" button
// lists the names, and "@" in the composer suggests them. Needs Debian's
// Chromium at /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

/** Opens the online popover and returns the names it lists once `want` is among them. */
async function whoList(page: Page, want: string): Promise<string[]> {
  await page.getByTestId("online-count").click();
  const list = page.locator('#who [data-testid="who-list"]');
  await list.locator("li", { hasText: want }).waitFor();
  const names = await list.locator("li").allInnerTexts();
  await page.keyboard.press("Escape");
  return names;
}

async function axeViolations(page: Page): Promise<unknown[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      targets: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  });
}

Deno.test("browser: two readers see each other in the online popover; a claimed name streams with a ticket", async () => {
  await withRoom(async (plaza, browser) => {
    const first = await browser.newContext();
    const { page: ada, errors } = await openLivePage(first, plaza.url, "Ada");
    // The first send claims "Ada"; from the reload on, the stream needs a ticket.
    const input = ada.getByTestId("composer-input");
    await input.fill("hello");
    await input.press("Enter");
    await ada.locator('[data-testid="message"] .ok').waitFor();
    const tickets: string[] = [];
    ada.on("request", (r) => {
      if (r.url().includes("/stream-ticket")) tickets.push(r.method());
    });
    await ada.reload();
    await ada.locator('[data-testid="status"][data-status="live"]').waitFor();

    const second = await browser.newContext();
    const { page: bob } = await openLivePage(second, plaza.url, "bob");
    assert.deepEqual(await whoList(bob, "Ada"), ["Ada", "bob"]);
    assert.deepEqual(await whoList(ada, "bob"), ["Ada", "bob"]);
    assert.deepEqual(tickets, ["POST"]);

    // Bob leaves: Ada's list loses him.
    await second.close();
    await ada.getByTestId("online-count").click();
    await ada.locator("#who li", { hasText: "bob" }).waitFor({
      state: "detached",
    });
    await ada.screenshot({ path: "/tmp/who16-popover.png" });
    await ada.keyboard.press("Escape");
    assert.deepEqual(errors, []);
    await first.close();
  });
});

Deno.test("browser: @ in the composer suggests names; arrows and Enter insert one, Escape closes, Enter still sends", async () => {
  await withRoom(async (plaza, browser) => {
    const first = await browser.newContext();
    // Ada is here, for bob to mention.
    await openLivePage(first, plaza.url, "ada");
    // axe is injected as an inline script, which the page's CSP refuses.
    const second = await browser.newContext({ bypassCSP: true });
    const { page: bob, errors } = await openLivePage(
      second,
      plaza.url,
      "bob",
    );
    // Who's here reaches bob's page (through the presence event).
    await whoList(bob, "ada");
    const box = bob.getByTestId("composer-input");
    const list = bob.getByTestId("mention-list");
    await box.click();
    await box.pressSequentially("hi @a");
    await list.waitFor();
    assert.deepEqual(await list.getByRole("option").allInnerTexts(), ["ada"]);
    assert.equal(await box.getAttribute("aria-controls"), "mentions");
    assert.equal(await box.getAttribute("aria-autocomplete"), "list");
    assert.equal(await box.getAttribute("aria-activedescendant"), null);
    await box.press("ArrowDown");
    assert.equal(await box.getAttribute("aria-activedescendant"), "mentions-0");
    assert.equal(
      await list.getByRole("option").first().getAttribute("aria-selected"),
      "true",
    );
    await bob.screenshot({ path: "/tmp/who16-mentions.png" });
    assert.deepEqual(await axeViolations(bob), []);
    await box.press("Enter");
    await list.waitFor({ state: "hidden" });
    assert.equal(await box.inputValue(), "hi @ada ");
    assert.equal(await bob.getByTestId("message").count(), 0, "not sent");

    // Escape closes the list and keeps the text.
    await box.pressSequentially("and @");
    await list.waitFor();
    await box.press("Escape");
    await list.waitFor({ state: "hidden" });
    assert.equal(await box.inputValue(), "hi @ada and @");
    // Picking with the pointer.
    await box.pressSequentially("A");
    await list.getByRole("option", { name: "ada" }).click();
    assert.equal(await box.inputValue(), "hi @ada and @ada ");
    // With the list closed, Enter sends.
    await box.press("Enter");
    await bob.getByTestId("message-text").getByText("hi @ada and @ada")
      .waitFor();
    assert.deepEqual(errors, []);
    await first.close();
    await second.close();
  });
});
