// "Erase everything I posted" in a real browser: behind a confirmation in the
// name panel, it removes the name's messages from every open page and from
// the server, releases the name and forgets its token. Needs Debian's
// Chromium at /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

async function stored(url: string): Promise<Message[]> {
  const res = await fetch(`${url}/messages`);
  return (await res.json()).messages;
}

Deno.test("browser: Erase everything I posted asks first, then takes the name's messages off every page and frees the name", async () => {
  await withRoom(async (plaza, browser) => {
    const first = await browser.newContext();
    const { page: ada, errors } = await openLivePage(first, plaza.url, "ada");
    const input = ada.getByTestId("composer-input");
    for (const text of ["one of mine", "two of mine"]) {
      await input.fill(text);
      await input.press("Enter");
      // Delivered (not only pending) before the next.
      await ada.locator('[data-testid="message"]', { hasText: text })
        .waitFor();
    }
    const second = await browser.newContext();
    const { page: bob } = await openLivePage(second, plaza.url, "bob");
    await bob.getByTestId("composer-input").fill("bob stays");
    await bob.getByTestId("composer-input").press("Enter");
    const bobSees = bob.getByTestId("message-text");
    await bobSees.getByText("bob stays").waitFor();
    assert.equal(await bobSees.count(), 3);

    await ada.getByTestId("move-name").click();
    await ada.getByTestId("erase-mine").click();
    await ada.getByTestId("erase-confirm").waitFor();
    await ada.screenshot({ path: "/tmp/keep_erase_confirm.png" });
    // Cancel erases nothing.
    await ada.getByTestId("erase-cancel").click();
    assert.equal((await stored(plaza.url)).length, 3);

    await ada.getByTestId("erase-mine").click();
    await ada.getByTestId("erase-confirm").click();
    const status = ada.getByTestId("erased");
    await status.waitFor();
    assert.equal(
      await status.innerText(),
      "Erased 2 messages; “ada” is free again.",
    );
    // Gone from the other page (its stream's delete events) and this one.
    await bob.waitForFunction(() =>
      document.querySelectorAll('[data-testid="message-text"]').length === 1
    );
    assert.equal(await bobSees.innerText(), "bob stays");
    await ada.getByText("one of mine").waitFor({ state: "detached" });
    assert.deepEqual(
      (await stored(plaza.url)).map((m) => m.text),
      ["bob stays"],
    );
    assert.equal(
      await ada.evaluate(() => localStorage.getItem("plaza.token.ada")),
      "",
    );
    await ada.screenshot({ path: "/tmp/keep_erase_done.png" });
    assert.deepEqual(errors, []);
    await first.close();
    await second.close();
  });
});
