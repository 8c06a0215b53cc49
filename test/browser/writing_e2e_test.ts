// The writing, connection and presence half of the chat in real browsers,
// against real servers and Postgres. Needs Debian's Chromium at
// /usr/bin/chromium; run by `deno task test`.
import assert from "node:assert/strict";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { buildClient } from "../../tools/build_client.ts";
import { launchChromium } from "../harness/browser.ts";
import type { Message } from "../../protocol/message.ts";
import type { Plaza } from "../../server/plaza.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";

// Reconnects back off up to 30 s; a server restart may cost a few attempts.
const SLOW = { timeout: 45_000 };

interface World {
  browser: Browser;
  /** The running instance; restart() replaces it on the same port. */
  plaza: Plaza;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs fn with a fresh database, a built client, a server and a browser. */
async function withWorld(fn: (world: World) => Promise<void>): Promise<void> {
  const dist = await Deno.makeTempDir({ prefix: "plaza_writing_dist_" });
  await buildClient({ outDir: dist });
  try {
    await withTestDatabase(async (url) => {
      let plaza: Plaza | null = await startTestInstance(url, {
        DIST_DIR: dist,
      });
      const port = String(plaza.port);
      const browser = await launchChromium();
      const world: World = {
        browser,
        get plaza() {
          if (plaza === null) throw new Error("the server is stopped");
          return plaza;
        },
        async stop() {
          await plaza?.close();
          plaza = null;
        },
        async restart() {
          await world.stop();
          plaza = await startTestInstance(url, { DIST_DIR: dist, PORT: port });
        },
      };
      try {
        await fn(world);
      } finally {
        await browser.close();
        await plaza?.close();
      }
    });
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
}

async function newContext(world: World): Promise<BrowserContext> {
  return await world.browser.newContext({
    viewport: { width: 390, height: 844 },
  });
}

/** Opens the page in a context; names the reader unless the context already did. */
async function open(
  context: BrowserContext,
  url: string,
  name?: string,
): Promise<Page> {
  const page = await context.newPage();
  page.on("dialog", (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  await page.goto(url);
  if (name !== undefined) {
    await page.getByTestId("name-input").fill(name);
    await page.getByTestId("name-submit").click();
  }
  await live(page);
  return page;
}

async function live(page: Page, options = {}): Promise<void> {
  await page.locator('[data-testid="status"][data-status="live"]').waitFor(
    options,
  );
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

function texts(page: Page): Promise<string[]> {
  return page.getByTestId("message-text").allTextContents();
}

/** Waits until the page shows a message with exactly this text. */
async function shows(page: Page, text: string, options = {}): Promise<void> {
  await page.getByTestId("message-text").getByText(text, { exact: true })
    .waitFor(options);
}

async function storedTexts(url: string): Promise<string[]> {
  const res = await fetch(`${url}/messages?limit=200`);
  const body: { messages: Message[] } = await res.json();
  return body.messages.map((m) => m.text);
}

Deno.test({
  name:
    "browser: the composer grows to a limit, counts down near it, Enter sends, Shift+Enter breaks the line; the name can change",
  async fn() {
    await withWorld(async (world) => {
      const context = await newContext(world);
      const page = await open(context, world.plaza.url, "ada");
      const input = page.getByTestId("composer-input");
      const height = () =>
        input.evaluate((el) => el.getBoundingClientRect().height);

      const oneLine = await height();
      await input.fill("one");
      await input.press("Shift+Enter");
      await input.pressSequentially("two");
      assert.equal(await input.inputValue(), "one\ntwo");
      const twoLines = await height();
      assert.ok(twoLines > oneLine, `${twoLines} > ${oneLine}`);
      await input.fill(Array.from({ length: 20 }, (_, i) => i).join("\n"));
      const capped = await height();
      assert.ok(capped < oneLine * 6, `capped at ${capped}`);
      assert.ok(
        await input.evaluate((el) => el.scrollHeight > el.clientHeight),
        "a long draft scrolls inside the box",
      );

      // The counter appears only near the 2000-character limit.
      await input.fill("x".repeat(1799));
      assert.equal(await page.getByTestId("char-counter").count(), 0);
      await input.fill("x".repeat(1850));
      assert.equal(
        await page.getByTestId("char-counter").textContent(),
        "150 left",
      );
      await input.fill("😀".repeat(2001)); // code points, as the server counts
      assert.equal(
        await page.getByTestId("char-counter").textContent(),
        "1 too many",
      );
      assert.equal(await page.getByTestId("send-button").isDisabled(), true);
      await input.press("Enter");
      assert.equal(await page.getByTestId("pending-message").count(), 0);

      await input.fill("first line");
      await input.press("Shift+Enter");
      await input.pressSequentially("second line");
      await input.press("Enter");
      await shows(page, "first line\nsecond line");
      assert.equal(await input.inputValue(), "");
      assert.equal(await height(), oneLine);

      await page.getByTestId("change-name").click();
      await page.getByTestId("name-input").fill("ada lovelace");
      await page.getByTestId("name-submit").click();
      await say(page, "new name");
      await shows(page, "new name");
      assert.equal(
        await page.getByTestId("message-author").last().textContent(),
        "ada lovelace",
      );
      await context.close();
    });
  },
});

Deno.test({
  name:
    "browser: sends while the server is down wait in the outbox, survive a closed tab, and arrive exactly once",
  async fn() {
    await withWorld(async (world) => {
      const url = world.plaza.url;
      const context = await newContext(world);
      let page = await open(context, url, "ada");
      await say(page, "before");
      await shows(page, "before");

      // A POST whose answer is lost: the stream's event still confirms it.
      // The client retries the send (same clientId) while this runs; the
      // handlers still running must finish before the route goes.
      await page.route("**/messages", async (route) => {
        await route.fetch();
        await route.abort("connectionreset");
      });
      await say(page, "answer lost");
      await shows(page, "answer lost");
      await page.getByTestId("pending-message").waitFor({ state: "detached" });
      await page.unrouteAll({ behavior: "wait" });

      await world.stop();
      await page.getByText(/^Reconnecting in \d+ s…$/).waitFor();
      await say(page, "while down");
      let pending = page.getByTestId("pending-message");
      await page.locator('[data-state="failed"]').getByText("while down")
        .waitFor();
      assert.match(
        await pending.textContent() ?? "",
        /Not sent\. Could not reach the server\./,
      );
      await page.getByTestId("retry-send").waitFor();
      await page.getByTestId("discard-send").waitFor();

      // The tab closes with the message unsent; it is still there next time.
      await page.close();
      await world.restart();
      page = await context.newPage();
      await page.goto(url);
      pending = page.getByTestId("pending-message");
      await shows(page, "while down", SLOW);
      await pending.waitFor({ state: "detached" });
      assert.deepEqual(await texts(page), [
        "before",
        "answer lost",
        "while down",
      ]);

      // A second outage: retry by hand fails again, discard drops one, and
      // the rest goes out by itself when the stream is live again.
      await world.stop();
      await say(page, "second outage");
      await say(page, "never mind");
      const failed = page.locator('[data-state="failed"]');
      await failed.nth(1).waitFor();
      await failed.filter({ hasText: "never mind" })
        .getByTestId("discard-send").click();
      await failed.filter({ hasText: "second outage" })
        .getByTestId("retry-send").click();
      await failed.filter({ hasText: "second outage" }).waitFor();
      assert.equal(await pending.count(), 1);
      await world.restart();
      await shows(page, "second outage", SLOW);
      await pending.waitFor({ state: "detached" });

      // Refused by the server (a control character): its sentence, no retry.
      await say(page, "bell \u0007 rings");
      await failed.waitFor();
      assert.match(await failed.textContent() ?? "", /control/i);

      const expected = ["before", "answer lost", "while down", "second outage"];
      assert.deepEqual(await texts(page), expected);
      assert.deepEqual(await storedTexts(world.plaza.url), expected);
      await context.close();
    });
  },
});

Deno.test({
  name:
    "browser: seven tabs share one stream, all stay live and can post; a new leader resumes without loss or repeats",
  async fn() {
    await withWorld(async (world) => {
      const url = world.plaza.url;
      const bob = await open(await newContext(world), url, "bob");
      const context = await newContext(world);
      const tabs = [await open(context, url, "ada")];
      for (let i = 1; i < 7; i++) tabs.push(await open(context, url));

      // Seven tabs, one stream: the room counts two (ada's browser and bob).
      for (const page of [bob, ...tabs]) {
        await page.getByTestId("online-count").getByText("2 online").waitFor();
      }
      await say(bob, "hello tabs");
      // Stored (it reached another browser) before the next one is sent: a
      // first send claims the name first, so two quick sends may otherwise
      // be stored in either order.
      await shows(tabs[6], "hello tabs");
      await say(tabs[6], "from the seventh tab");
      for (const page of [bob, ...tabs]) {
        await shows(page, "from the seventh tab");
        assert.deepEqual(await texts(page), [
          "hello tabs",
          "from the seventh tab",
        ]);
      }

      // The first tab leads; close it and post while nobody holds the stream.
      await tabs[0].close();
      for (let i = 0; i < 5; i++) {
        // Not as bob: his browser claimed that name with its first send.
        await postJson(world.plaza.url, "carol", `during takeover ${i}`);
      }
      await say(bob, "after takeover");
      const expected = [
        "hello tabs",
        "from the seventh tab",
        ...Array.from({ length: 5 }, (_, i) => `during takeover ${i}`),
        "after takeover",
      ];
      for (const page of tabs.slice(1)) {
        await shows(page, "after takeover", SLOW);
        await live(page);
        assert.deepEqual(await texts(page), expected);
      }
      await tabs[3].getByTestId("online-count").getByText("2 online")
        .waitFor();
      await context.close();
      await bob.getByTestId("online-count").getByText("1 online").waitFor();
    });
  },
});

Deno.test({
  name:
    "browser: who is typing shows for a few seconds, never yourself; offline shows in the badge",
  async fn() {
    await withWorld(async (world) => {
      const url = world.plaza.url;
      const adaContext = await newContext(world);
      const ada = await open(adaContext, url, "ada");
      const bob = await open(await newContext(world), url, "bob");
      const typing = ada.getByTestId("typing-indicator");

      await bob.getByTestId("composer-input").pressSequentially("hel");
      await typing.getByText("bob is typing…").waitFor();
      assert.equal(
        await bob.getByTestId("typing-indicator").textContent(),
        "",
      );
      assert.equal(await typing.getAttribute("aria-live"), "polite");
      // It fades by itself once bob stops typing…
      await typing.getByText("bob is typing…").waitFor({ state: "detached" });
      // …and at once when his message arrives.
      await bob.getByTestId("composer-input").pressSequentially("lo");
      await typing.getByText("bob is typing…").waitFor();
      await bob.getByTestId("composer-input").press("Enter");
      await shows(ada, "hello");
      assert.equal(await typing.textContent(), "");

      const status = ada.getByTestId("status");
      await adaContext.setOffline(true);
      await ada.locator('[data-status="offline"]').waitFor();
      assert.equal(await status.textContent(), "Offline");
      await adaContext.setOffline(false);
      await live(ada);
      assert.equal(await status.textContent(), "Live");
    });
  },
});
