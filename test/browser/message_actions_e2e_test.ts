// Edit, delete (with its undo moment), react and reply in real browsers,
// against a real server and Postgres, and axe on the result. With
// PLAZA_SCREENSHOTS=<dir> it saves a screenshot of the conversation. Needs
// Debian's Chromium at /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import type { Message } from "../../protocol/message.ts";
import { openLivePage } from "../harness/browser.ts";
import { postJson } from "../harness/fixtures.ts";
import { withRoom } from "../harness/browser_room.ts";

async function stored(url: string): Promise<Message[]> {
  const res = await fetch(`${url}/messages?limit=200`);
  return (await res.json()).messages;
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

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

Deno.test("browser: edit with ↑ and from the menu, react and toggle, reply with a quote, delete with an undo moment", async () => {
  await withRoom(async (plaza, browser) => {
    // axe is injected as a script; the app's own CSP must not stop it.
    const adaContext = await browser.newContext({ bypassCSP: true });
    const bobContext = await browser.newContext();
    const { page: ada, errors } = await openLivePage(
      adaContext,
      plaza.url,
      "ada",
    );
    const { page: bob } = await openLivePage(bobContext, plaza.url, "bob");

    // ↑ in the empty composer edits the last own message.
    await say(ada, "helo all");
    await row(ada, "helo all").locator(".ok").waitFor();
    await ada.getByTestId("composer-input").press("ArrowUp");
    const editor = ada.getByTestId("edit-input");
    await editor.waitFor();
    assert.equal(
      await ada.evaluate(() =>
        document.activeElement?.getAttribute("data-testid")
      ),
      "edit-input",
    );
    await editor.fill("hello all");
    await editor.press("Enter");
    await row(bob, "hello all").locator(".edited").waitFor();
    await row(ada, "hello all").locator(".edited").waitFor();
    const [edited] = await stored(plaza.url);
    assert.ok(edited.editedAt);

    // The menu offers Edit and Delete on own claimed messages only.
    await row(bob, "hello all").getByTestId("message-menu").click();
    assert.equal(await bob.getByTestId("edit").count(), 0);
    assert.equal(await bob.getByTestId("delete").count(), 0);

    // Reactions: picked from the menu, pressed for who chose them, toggled off.
    await bob.getByTestId("react").click();
    await bob.getByRole("button", { name: "React with 🎉" }).click();
    const bobsReaction = row(bob, "hello all").getByTestId("reaction");
    await bobsReaction.waitFor();
    assert.equal(await bobsReaction.getAttribute("aria-pressed"), "true");
    assert.equal(await bobsReaction.innerText(), "🎉 1");
    const adasView = row(ada, "hello all").getByTestId("reaction");
    await adasView.waitFor();
    assert.equal(await adasView.getAttribute("aria-pressed"), "false");
    await bobsReaction.click();
    await adasView.waitFor({ state: "detached" });
    await row(bob, "hello all").getByTestId("message-menu").click();
    await bob.getByTestId("react").click();
    await bob.getByRole("button", { name: "React with 👍" }).click();
    await adasView.waitFor();

    // Reply: a quote above the composer (Escape drops it), then above the reply.
    await row(bob, "hello all").getByTestId("message-menu").click();
    await bob.getByTestId("reply").click();
    await bob.getByTestId("replying").waitFor();
    await bob.getByTestId("composer-input").press("Escape");
    await bob.getByTestId("replying").waitFor({ state: "detached" });
    await row(bob, "hello all").getByTestId("message-menu").click();
    await bob.getByTestId("reply").click();
    assert.match(
      await bob.getByTestId("replying").innerText(),
      /ada.*hello all/,
    );
    await say(bob, "hi ada");
    await bob.getByTestId("replying").waitFor({ state: "detached" });
    const quote = row(ada, "hi ada").getByTestId("reply-quote");
    await quote.waitFor();
    assert.equal(await quote.innerText(), "ada hello all");
    const reply = (await stored(plaza.url)).find((m) => m.text === "hi ada")!;
    assert.equal(reply.replyTo?.id, edited.id);

    const shots = Deno.env.get("PLAZA_SCREENSHOTS");
    if (shots) {
      await Deno.mkdir(shots, { recursive: true });
      await ada.screenshot({ path: `${shots}/message-actions.png` });
    }
    assert.deepEqual(await seriousAxe(ada), []);

    // Delete: an undo moment first; undone, nothing is sent.
    const deletes: string[] = [];
    ada.on("request", (r) => {
      if (r.method() === "DELETE") deletes.push(r.url());
    });
    await row(ada, "hello all").getByTestId("message-menu").click();
    await ada.getByTestId("delete").click();
    const undo = ada.getByTestId("undo-delete");
    await undo.waitFor();
    assert.equal(
      await row(ada, "hello all").locator(".msg-text").isVisible(),
      false,
    );
    await undo.click();
    await row(ada, "hello all").locator(".msg-text").waitFor({
      state: "visible",
    });
    // Deleted for real: gone everywhere, and the reply's quote says so.
    await row(ada, "hello all").getByTestId("message-menu").click();
    await ada.getByTestId("delete").click();
    await row(bob, "hello all").waitFor({ state: "detached" });
    await row(bob, "hi ada").getByText("Message deleted").waitFor();
    assert.deepEqual(deletes, [`${plaza.url}/messages/${edited.id}`]);
    assert.deepEqual(errors, []);
    await adaContext.close();
    await bobContext.close();
  });
});

Deno.test("browser: a quote scrolls to its original, fetching older history when needed", async () => {
  await withRoom(async (plaza, browser) => {
    const original = await postJson(plaza.url, "cy", "the original");
    for (let i = 0; i < 120; i++) {
      await postJson(plaza.url, "dee", `filler ${i}`);
    }
    const res = await fetch(`${plaza.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        author: "eve",
        text: "about that",
        replyTo: original.id,
      }),
    });
    assert.equal(res.status, 201);
    await res.body?.cancel();
    const context = await browser.newContext();
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    await row(page, "about that").getByTestId("reply-quote").click();
    await page.waitForFunction(
      (id) => document.activeElement?.getAttribute("data-id") === `${id}`,
      original.id,
    );
    assert.ok(await row(page, "the original").isVisible());
    assert.deepEqual(errors, []);
    await context.close();
  });
});
