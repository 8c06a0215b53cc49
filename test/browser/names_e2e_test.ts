// Claimed names in real browsers: the first send claims the name, a taken
// name says so with the server's suggestion. Needs Debian's Chromium at
// /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";

async function stored(url: string): Promise<Message[]> {
  const res = await fetch(`${url}/messages`);
  return (await res.json()).messages;
}

Deno.test("browser: the first send claims the name and posts verified; a taken name says so and offers the suggestion", async () => {
  await withRoom(async (plaza, browser) => {
    const first = await browser.newContext();
    const { page: ada, errors } = await openLivePage(first, plaza.url, "ada");
    const input = ada.getByTestId("composer-input");
    await input.fill("mine now");
    await input.press("Enter");
    await ada.locator('[data-testid="message"] .ok').waitFor();
    const token = await ada.evaluate(() =>
      localStorage.getItem("plaza.token.ada")
    );
    assert.match(token ?? "", /^[\w-]{43}$/);
    const [mine] = await stored(plaza.url);
    assert.deepEqual([mine.author, mine.verified], ["ada", true]);

    // Another browser, the same name: nothing is posted, the reader is told.
    const second = await browser.newContext();
    const { page: other } = await openLivePage(second, plaza.url, "ADA");
    const box = other.getByTestId("composer-input");
    await box.fill("am I ada?");
    await box.press("Enter");
    const alert = other.getByTestId("name-taken");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Someone else holds the name “ADA”/);
    assert.equal(
      await other.locator('[data-testid="pending-message"]').getAttribute(
        "data-state",
      ),
      "failed",
    );
    assert.equal((await stored(plaza.url)).length, 1);

    // Taking the suggestion sends what was held back, under that name.
    await other.getByTestId("use-suggestion").click();
    await other.getByTestId("message-text").getByText("am I ada?").waitFor();
    await alert.waitFor({ state: "detached" });
    const [, moved] = await stored(plaza.url);
    assert.equal(moved.author, "ADA_2");
    assert.equal(moved.verified, true);
    assert.equal(
      await box.getAttribute("placeholder"),
      "Message as \u2068ADA_2\u2069",
    );
    assert.deepEqual(errors, []);
    await first.close();
    await second.close();
  });
});

Deno.test("browser: a name moves to a second browser with a one-time code; the first one then stops posting as it", async () => {
  await withRoom(async (plaza, browser) => {
    const first = await browser.newContext();
    const { page: old, errors } = await openLivePage(first, plaza.url, "ada");
    const input = old.getByTestId("composer-input");
    await input.fill("from the laptop");
    await input.press("Enter");
    await old.locator('[data-testid="message"] .ok').waitFor();
    await old.getByTestId("move-name").click();
    await old.getByTestId("show-code").click();
    const code = await old.getByTestId("transfer-code").innerText();
    assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    // The second browser has no name yet: the code gives it "ada".
    const second = await browser.newContext();
    const { page: phone } = await openLivePage(second, plaza.url, null);
    await phone.getByTestId("move-name").click();
    await phone.getByTestId("claim-code-input").fill(code.toLowerCase());
    await phone.getByTestId("claim-code").click();
    const box = phone.getByTestId("composer-input");
    await box.waitFor();
    assert.equal(
      await box.getAttribute("placeholder"),
      "Message as \u2068ada\u2069",
    );
    await box.fill("from the phone");
    await box.press("Enter");
    await phone.getByTestId("message-text").getByText("from the phone")
      .waitFor();
    const last = (await stored(plaza.url)).at(-1)!;
    assert.deepEqual([last.author, last.verified], ["ada", true]);

    // The first browser's token stopped working: its send fails, visibly.
    await input.fill("still me?");
    await input.press("Enter");
    const failed = old.locator(
      '[data-testid="pending-message"][data-state="failed"]',
    );
    await failed.waitFor();
    assert.match(await failed.innerText(), /no longer holds the name “ada”/);
    assert.equal((await stored(plaza.url)).length, 2);
    assert.deepEqual(errors, []);
    await first.close();
    await second.close();
  });
});
