// A message a moderator's rule holds, in real browsers: its author sees it
// marked "waiting for approval" (after a reload too), another reader does
// not see it at all; once approved, both see it, once and unmarked. Needs
// Debian's Chromium at /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";

async function admin(
  url: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, text);
  return text === "" ? null : JSON.parse(text);
}

Deno.test("browser: a held message shows to its author as waiting for approval, to nobody else, then to everyone once approved", async () => {
  await withRoom(async (plaza, browser) => {
    await admin(plaza.url, "POST", "/moderation/rules", {
      word: "crypto",
      action: "hold",
    });
    const adaContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
    });
    const bobContext = await browser.newContext();
    const ada = await openLivePage(adaContext, plaza.url, "ada");
    const bob = await openLivePage(bobContext, plaza.url, "bob");
    const texts = (page: typeof ada.page) => page.getByTestId("message-text");

    const input = ada.page.getByTestId("composer-input");
    await input.fill("crypto tips for all");
    await input.press("Enter");
    const held = texts(ada.page).filter({ hasText: "crypto tips for all" });
    await held.getByText("(waiting for approval)").waitFor();
    await ada.page.screenshot({ path: "/tmp/plaza_held.png" });

    // Shown again after a reload: the author's stream brings it.
    await ada.page.reload();
    await ada.page.locator('[data-testid="status"][data-status="live"]')
      .waitFor();
    await held.getByText("(waiting for approval)").waitFor();

    // A message after it reaches bob; the held one did not.
    await input.fill("and a plain one");
    await input.press("Enter");
    await texts(bob.page).getByText("and a plain one").waitFor();
    assert.equal(await texts(bob.page).getByText("crypto tips").count(), 0);

    const [listed] = (await admin(plaza.url, "GET", "/moderation/held")).held;
    await admin(
      plaza.url,
      "POST",
      `/moderation/held/${listed.message.id}/approve`,
    );
    await texts(bob.page).getByText("crypto tips for all").waitFor();
    await ada.page.getByText("(waiting for approval)").waitFor({
      state: "detached",
    });
    assert.equal(await held.count(), 1);
    assert.equal(
      await texts(bob.page).filter({ hasText: "crypto tips" }).count(),
      1,
    );
    assert.deepEqual([...ada.errors, ...bob.errors], []);
    await adaContext.close();
    await bobContext.close();
  }, { ADMIN_TOKEN });
});
