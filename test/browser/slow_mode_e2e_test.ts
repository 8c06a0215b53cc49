// Slow mode in a real browser: the composer says it is on, counts down after
// the reader's own send and holds the next one back. Needs Debian's Chromium
// at /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";

async function slowMode(url: string, method: string, body?: unknown) {
  const res = await fetch(`${url}/moderation/slow-mode`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

Deno.test("browser: slow mode shows in the composer, counts down after a send and holds the next one back", async () => {
  await withRoom(async (plaza, browser) => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
    });
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    const line = page.getByTestId("slow-mode");
    const input = page.getByTestId("composer-input");
    const send = page.getByTestId("send-button");
    assert.equal(await line.count(), 0);

    await slowMode(plaza.url, "PUT", { seconds: 30 });
    await line.getByText("Slow mode: one message every 30 s").waitFor();
    await input.fill("first");
    await input.press("Enter");
    await page.getByTestId("message-text").getByText("first").waitFor();
    await line.getByText(/· wait \d+ s$/).waitFor();
    await input.fill("second");
    assert.equal(await send.isDisabled(), true);
    await input.press("Enter");
    assert.equal(await input.inputValue(), "second", "held back, not sent");
    await page.screenshot({ path: "/tmp/plaza_slow_mode.png" });

    // Off: the line goes and the reader may send at once.
    await slowMode(plaza.url, "DELETE");
    await line.waitFor({ state: "detached" });
    assert.equal(await send.isDisabled(), false);
    await input.press("Enter");
    await page.getByTestId("message-text").getByText("second").waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  }, { ADMIN_TOKEN });
});
