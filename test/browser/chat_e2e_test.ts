// Two real browsers chat through a real server and Postgres. Run by
// `deno task test`; needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import { type Browser, type Page } from "playwright-core";
import { launchChromium, withBuiltClient } from "../harness/browser.ts";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";

async function join(browser: Browser, url: string, name: string) {
  // A context each: separate localStorage, as two people on two machines.
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
  });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  await page.getByTestId("name-input").fill(name);
  await page.getByTestId("name-submit").click();
  await page.locator('[data-testid="status"][data-status="live"]').waitFor();
  return { page, dialogs, close: () => context.close() };
}

async function say(page: Page, text: string) {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

function lastMessage(page: Page) {
  return page.getByTestId("message").last();
}

Deno.test({
  name: "browser: two people chat, and markup in a message stays text",
  async fn() {
    await withBuiltClient((dist) =>
      withTestDatabase(async (url) => {
        const plaza = await startTestInstance(url, { DIST_DIR: dist });
        const browser = await launchChromium();
        try {
          const ada = await join(browser, plaza.url, "ada");
          const bob = await join(browser, plaza.url, "bob");

          await say(ada.page, "hello bob\nhow are you?");
          await lastMessage(bob.page).getByText("hello bob").waitFor();
          assert.equal(
            await lastMessage(bob.page).getByTestId("message-author")
              .textContent(),
            "ada",
          );
          assert.equal(
            await lastMessage(bob.page).getByTestId("message-text")
              .textContent(),
            "hello bob\nhow are you?",
          );
          // The composer clears once the server stored the message.
          assert.equal(
            await ada.page.getByTestId("composer-input").inputValue(),
            "",
          );

          await say(bob.page, "fine, thanks");
          await lastMessage(ada.page).getByText("fine, thanks").waitFor();

          const attack = "<img src=x onerror=alert(1)>";
          await say(ada.page, attack);
          for (const who of [ada, bob]) {
            const text = lastMessage(who.page).getByTestId("message-text");
            await text.getByText(attack, { exact: true }).waitFor();
            assert.equal(await text.textContent(), attack);
            assert.equal(await who.page.locator('[role="log"] img').count(), 0);
          }
          // Each message once, in order, on both sides.
          for (const who of [ada, bob]) {
            assert.deepEqual(
              await who.page.getByTestId("message-text").allTextContents(),
              ["hello bob\nhow are you?", "fine, thanks", attack],
            );
            assert.deepEqual(who.dialogs, []);
          }
          await Promise.all([ada.close(), bob.close()]);
        } finally {
          await browser.close();
          await plaza.close();
        }
      })
    );
  },
});

Deno.test("browser: two people on two instances both see 2 online, and each other typing", async () => {
  await withBuiltClient((dist) =>
    withTestDatabase(async (url) => {
      const one = await startTestInstance(url, { DIST_DIR: dist });
      const two = await startTestInstance(url, { DIST_DIR: dist });
      const browser = await launchChromium();
      try {
        const ada = await join(browser, one.url, "ada");
        const bob = await join(browser, two.url, "bob");
        for (const who of [ada, bob]) {
          await who.page.getByTestId("online-count").getByText("2 online")
            .waitFor();
        }
        await bob.page.getByTestId("composer-input").pressSequentially("hel");
        await ada.page.getByTestId("typing-indicator").getByText(
          "bob is typing",
        )
          .waitFor();
        assert.equal(
          await bob.page.getByTestId("typing-indicator").textContent(),
          "",
          "nobody sees their own typing",
        );
        await bob.close();
        await ada.page.getByTestId("online-count").getByText("1 online")
          .waitFor();
        await ada.close();
      } finally {
        await browser.close();
        await Promise.all([one.close(), two.close()]);
      }
    })
  );
});

Deno.test("browser: a message a moderator deletes disappears from open pages", async () => {
  const token = "moderator-token-for-the-test";
  await withBuiltClient((dist) =>
    withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, {
        DIST_DIR: dist,
        ADMIN_TOKEN: token,
      });
      const browser = await launchChromium();
      try {
        const ada = await join(browser, plaza.url, "ada");
        await say(ada.page, "keep this");
        await say(ada.page, "spam spam spam");
        const spam = ada.page.getByTestId("message-text").getByText(
          "spam spam spam",
        );
        await spam.waitFor();
        const id = await ada.page.getByTestId("message").filter({ has: spam })
          .getAttribute("data-id");
        const res = await fetch(`${plaza.url}/messages/${id}`, {
          method: "DELETE",
          headers: { Authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 204);
        await spam.waitFor({ state: "detached" });
        assert.deepEqual(
          await ada.page.getByTestId("message-text").allTextContents(),
          ["keep this"],
        );
        await ada.close();
      } finally {
        await browser.close();
        await plaza.close();
      }
    })
  );
});
