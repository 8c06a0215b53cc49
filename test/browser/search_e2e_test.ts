// Search in a real browser: the header's button loads the panel, results
// come newest first with the words found marked, "Load more" pages on, and
// opening an old result shows the room around it, scrolled to and
// highlighted. axe checks the open panel. Needs Debian's Chromium at
// /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import axe from "axe-core";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";
import { postJson } from "../harness/fixtures.ts";

const LAPS = 25;
const FILLERS = 100;

Deno.test("browser: search finds stemmed words newest first, pages with Load more, and opens an old result in place, highlighted; Escape gives focus back", async () => {
  await withRoom(async (plaza, browser) => {
    // The oldest match, far above the page the room opens with.
    const target = await postJson(
      plaza.url,
      "bruno",
      "The lighthouse keeper runs late <b>again</b>",
    );
    for (let i = 1; i <= FILLERS; i++) {
      await postJson(plaza.url, "chen", `filler ${i}`);
      if (i % 4 === 0) {
        await postJson(plaza.url, "dara", `running lap ${i / 4}`);
      }
    }
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      // axe is injected as a script; the app's own CSP must not stop it.
      bypassCSP: true,
    });
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    await page.getByText(`filler ${FILLERS}`).waitFor();
    const old = page.locator(`[data-testid="message"][data-id="${target.id}"]`);
    assert.equal(await old.count(), 0, "the old message is not loaded yet");

    const opener = page.getByTestId("search-open");
    await opener.click();
    const input = page.getByRole("searchbox", { name: "Search messages" });
    await input.fill("Running");
    await input.press("Enter");
    const results = page.getByTestId("search-result");
    await page.getByTestId("search-note").getByText("20+ found.").waitFor();
    // The panel's rules come with its chunk (client/search/search.css, a
    // constructed sheet), not with the main stylesheet; the page's CSP lets
    // them apply.
    assert.equal(
      await page.locator("dialog.search").evaluate((d) =>
        getComputedStyle(d).borderTopLeftRadius
      ),
      "12px",
    );
    assert.equal(await results.count(), 20);
    // Newest first, the stemmed word marked.
    assert.match(await results.first().innerText(), /running lap 25/);
    assert.equal(await results.first().locator("mark").innerText(), "running");

    await page.getByTestId("search-more").click();
    await page.getByTestId("search-note").getByText(`${LAPS + 1} found.`)
      .waitFor();
    assert.equal(await page.getByTestId("search-more").count(), 0);
    const last = results.last();
    assert.equal(await last.getAttribute("data-id"), String(target.id));
    // Markup in a message stays text; "runs" is marked.
    assert.match(await last.innerText(), /runs late <b>again<\/b>/);
    assert.deepEqual(await last.locator("mark").allInnerTexts(), ["runs"]);

    await page.addScriptTag({ content: axe.source });
    const violations = await page.evaluate(async () => {
      const injected = (globalThis as unknown as { axe: typeof axe }).axe;
      const result = await injected.run(document, {
        runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        targets: v.nodes.map((n) => JSON.stringify(n.target)),
      }));
    });
    assert.deepEqual(
      violations.filter((v) =>
        v.impact === "serious" || v.impact === "critical"
      ),
      [],
    );
    const shots = Deno.env.get("PLAZA_SCREENSHOTS");
    if (shots) await page.screenshot({ path: `${shots}/search-panel.png` });

    // The keyboard opens it: the room around it loads, scrolled into view.
    await last.focus();
    await last.press("Enter");
    await page.getByTestId("search-panel").waitFor({ state: "hidden" });
    await old.waitFor();
    assert.match(await old.getAttribute("class") ?? "", /\bflash\b/);
    const inView = await old.evaluate((li) => {
      const log = li.closest('[role="log"]')!.getBoundingClientRect();
      const box = li.getBoundingClientRect();
      return box.top >= log.top && box.bottom <= log.bottom;
    });
    assert.ok(inView, "the opened message is in view");
    assert.equal(
      await page.evaluate(() =>
        document.activeElement?.getAttribute("data-id")
      ),
      String(target.id),
    );
    if (shots) await page.screenshot({ path: `${shots}/search-opened.png` });

    // Open again, Escape: closed, and focus is back on the button.
    await opener.click();
    await input.waitFor();
    await input.press("Escape");
    await page.getByTestId("search-panel").waitFor({ state: "hidden" });
    assert.equal(
      await page.evaluate(() =>
        document.activeElement?.getAttribute("data-testid")
      ),
      "search-open",
    );
    assert.deepEqual(errors, []);
    await context.close();
  });
});
