// The reading side of the chat in a real browser against a real server and
// Postgres: scrollback with a bounded DOM, grouping, day separators, relative
// times, links, mentions, author colours and the new-messages pill. Run by
// `deno task test`; needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import {
  type Browser,
  type BrowserContextOptions,
  type Page,
} from "playwright-core";
import postgres from "postgres";
import { buildClient } from "../../tools/build_client.ts";
import { launchChromium, openLivePage } from "../harness/browser.ts";
import {
  postJson,
  seedMessages,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";

const PHONE = { width: 390, height: 844 };
const LOG = '[role="log"]';

/** What each test gets: the server's URL, SQL on its database, a browser. */
interface Room {
  url: string;
  sql: postgres.Sql;
  browser: Browser;
}

async function withRoom(fn: (room: Room) => Promise<void>): Promise<void> {
  const dist = await Deno.makeTempDir({ prefix: "plaza_reading_dist_" });
  try {
    await buildClient({ outDir: dist });
    await withTestDatabase(async (dbUrl) => {
      const plaza = await startTestInstance(dbUrl, { DIST_DIR: dist });
      const sql = postgres(dbUrl, { onnotice: () => {} });
      const browser = await launchChromium();
      try {
        await fn({ url: plaza.url, sql, browser });
      } finally {
        await browser.close();
        await sql.end({ timeout: 1 });
        await plaza.close();
      }
    });
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
}

/** Opens the room in a fresh context (own storage) as `name`, or nameless. */
async function open(
  room: Room,
  name: string | null,
  options: BrowserContextOptions = {},
  beforeLoad?: (page: Page) => Promise<void>,
) {
  const context = await room.browser.newContext({
    viewport: PHONE,
    locale: "en-US",
    timezoneId: "UTC",
    ...options,
  });
  const { page, errors } = await openLivePage(
    context,
    room.url,
    name,
    beforeLoad,
  );
  return { page, errors, close: () => context.close() };
}

/** data-id of every message element, in DOM order. */
function shownIds(page: Page): Promise<number[]> {
  return page.$$eval(
    '[data-testid="message"]',
    (els) => els.map((e) => Number((e as HTMLElement).dataset.id)),
  );
}

/** Asserts ids run from `first` by one, each once: nothing twice, no hole. */
function assertRun(ids: number[], first: number, last: number) {
  assert.equal(ids[0], first, `first shown id of ${ids.join(",")}`);
  assert.equal(ids.at(-1), last, "last shown id");
  ids.forEach((id, i) => assert.equal(id, first + i, "ids are contiguous"));
}

/**
 * A message's top edge, measured from the top of the log: where the reader
 * sees it. Not from the viewport: what happens above the log (a note under
 * the header's buttons, say) is not what these tests are about.
 */
function topOf(page: Page, id: number): Promise<number> {
  return page.locator(`[data-id="${id}"]`).evaluate((e) =>
    e.getBoundingClientRect().top -
    e.closest('[role="log"]')!.getBoundingClientRect().top
  );
}

/** Scrolls the log to its top, its bottom, or this many pixels above the bottom. */
function scrollLogTo(page: Page, where: "top" | "bottom" | number) {
  return page.locator(LOG).evaluate((el, w) => {
    const end = el.scrollHeight - el.clientHeight;
    el.scrollTop = w === "top" ? 0 : w === "bottom" ? end : end - w;
  }, where);
}

/** Counts message elements after every DOM change, keeping the highest. */
function watchMessageCount(page: Page) {
  return page.evaluate(() => {
    const w = globalThis as unknown as { maxMessages: number };
    w.maxMessages = 0;
    new MutationObserver(() => {
      const n = document.querySelectorAll('[data-testid="message"]').length;
      if (n > w.maxMessages) w.maxMessages = n;
    }).observe(document.body, { childList: true, subtree: true });
  });
}

function maxMessageCount(page: Page): Promise<number> {
  return page.evaluate(() =>
    (globalThis as unknown as { maxMessages: number }).maxMessages
  );
}

function atBottom(page: Page): Promise<boolean> {
  return page.locator(LOG).evaluate((el) =>
    el.scrollHeight - el.scrollTop - el.clientHeight < 2
  );
}

Deno.test({
  name:
    "browser: scrolling up loads older pages in place, and down again loads the newer ones back",
  async fn() {
    await withRoom(async (room) => {
      await seedMessages(room.sql, 420);
      const { page, errors, close } = await open(room, null);
      await page.locator('[data-id="420"]').waitFor();
      await watchMessageCount(page);
      assertRun(await shownIds(page), 371, 420); // the stream's history: 50

      // Up: each page arrives above the message at the top of the view,
      // which does not move.
      for (let first = 371; first > 1;) {
        await scrollLogTo(page, "top");
        const y = await topOf(page, first);
        await page.waitForFunction(
          (f) =>
            Number(
              document.querySelector<HTMLElement>('[data-testid="message"]')
                ?.dataset.id,
            ) < f,
          first,
        );
        const moved = Math.abs(await topOf(page, first) - y);
        assert.ok(moved < 2, `the view moved by ${moved}px`);
        const ids = await shownIds(page);
        assert.ok(ids.length <= 300);
        assertRun(ids, ids[0], ids[0] + ids.length - 1);
        first = ids[0];
      }
      const top = await shownIds(page);
      assertRun(top, 1, 300); // the newest made way
      // The whole history is in: nothing marks more loading at the top.
      await scrollLogTo(page, "top");
      assert.equal(await page.getByText("Loading older messages…").count(), 0);

      // Down: the dropped newest come back from the server, in order.
      while ((await shownIds(page)).at(-1) !== 420) {
        const last = (await shownIds(page)).at(-1)!;
        await scrollLogTo(page, "bottom");
        await page.waitForFunction(
          (l) =>
            Number(
              [...document.querySelectorAll<HTMLElement>(
                '[data-testid="message"]',
              )].at(-1)?.dataset.id,
            ) > l,
          last,
        );
      }
      const ids = await shownIds(page);
      assertRun(ids, 421 - ids.length, 420);
      assert.ok(await maxMessageCount(page) <= 300);

      // Caught up again: at the end, a new message shows at once.
      await scrollLogTo(page, "bottom");
      await postJson(room.url, "eve", "back at the end");
      await page.locator('[data-id="421"]').waitFor();
      assert.ok(await atBottom(page));
      assert.deepEqual(errors, []);
      await close();
    });
  },
});

Deno.test({
  name:
    "browser: 10,000 messages pass with the reader at the bottom, then scrolled up: never more than 300 in the DOM",
  async fn() {
    await withRoom(async (room) => {
      await seedMessages(room.sql, 20);
      const { page, errors, close } = await open(room, "ada");
      await page.locator('[data-id="20"]').waitFor();
      await watchMessageCount(page);

      // At the bottom the oldest go, and the view follows the end. In
      // batches, as a busy room would send them (one burst of 10,000 would
      // overflow the server's per-client buffer and test reconnects instead).
      for (let last = 20; last < 10_020;) {
        await seedMessages(room.sql, 1000);
        last += 1000;
        await page.locator(`[data-id="${last}"]`).waitFor();
      }
      assertRun(await shownIds(page), 9721, 10020);
      assert.ok(await atBottom(page));
      assert.equal(await page.getByTestId("new-messages-pill").count(), 0);

      // Scrolled up: the view stays put and the newest are left out.
      await scrollLogTo(page, 3000);
      const anchor = (await shownIds(page))[40];
      const y = await topOf(page, anchor);
      const pill = page.getByTestId("new-messages-pill");
      for (let n = 1000; n <= 10_000; n += 1000) {
        await seedMessages(room.sql, 1000);
        await pill.getByText(`${n} new messages`).waitFor();
      }
      assert.equal(await topOf(page, anchor), y);
      assertRun(await shownIds(page), 9721, 10020);
      assert.equal(await page.title(), "Plaza"); // the tab is visible

      // The pill fetches the newest and goes to them.
      await pill.click();
      await page.locator('[data-id="20020"]').waitFor();
      await pill.waitFor({ state: "detached" });
      const ids = await shownIds(page);
      assertRun(ids, 20021 - ids.length, 20020);
      assert.ok(await atBottom(page));
      assert.ok(
        await maxMessageCount(page) <= 300,
        `${await maxMessageCount(page)} message elements at once`,
      );
      // And live again: the next message shows at the end.
      await postJson(room.url, "bob", "still here");
      await page.locator('[data-id="20021"]').waitFor();
      assert.deepEqual(errors, []);
      await close();
    });
  },
});

Deno.test({
  name:
    "browser: messages group by author within 5 minutes, under day separators, with relative and exact times",
  async fn() {
    await withRoom(async (room) => {
      const now = Date.parse("2026-11-27T15:00:00Z");
      const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
      const rows: [string, string, Date][] = [
        ["carol", "three days back", at(3 * 24 * 60)],
        ["bob", "yesterday one", at(24 * 60 + 30)],
        ["bob", "yesterday two", at(24 * 60 + 27)],
        ["ada", "today one", at(60)],
        ["ada", "today two", at(57)],
        ["ada", "after a pause", at(51)],
        ["bob", "bob answers", at(50)],
        ["carol", "a bit ago", at(2)],
        ["carol", "right now", at(1 / 6)],
      ];
      for (const [author, text, created] of rows) {
        await room.sql`insert into messages (author, text, created_at)
          values (${author}, ${text}, ${created})`;
      }
      const { page, errors, close } = await open(
        room,
        "dan",
        {},
        (p) => p.clock.install({ time: now }),
      );
      await page.getByText("right now").waitFor();
      // The first scrollback request finds nothing older; until it answers
      // its placeholder is one more ".day" row (CI saw it under load).
      await page.getByText("Loading older messages…").waitFor({
        state: "detached",
      });

      assert.deepEqual(
        await page.locator(".day").allInnerTexts(),
        ["Tuesday, November 24, 2026", "Yesterday", "Today"],
      );
      assert.deepEqual(
        await page.getByTestId("message-author").allTextContents(),
        ["carol", "bob", "ada", "ada", "bob", "carol"],
      );
      assert.equal(await page.getByTestId("message").count(), rows.length);
      // The time: relative text, ISO datetime, full local date in the title.
      const time = page.locator('[data-id="8"] time');
      assert.equal(await time.textContent(), "2 min. ago");
      assert.equal(await time.getAttribute("datetime"), at(2).toISOString());
      assert.equal(
        await time.getAttribute("title"),
        "Friday, November 27, 2026 at 2:58:00 PM",
      );
      assert.equal(
        await page.locator('[data-id="9"] time').textContent(),
        "now",
      );
      assert.equal(
        await page.locator('[data-id="4"] time').textContent(),
        "2:00 PM",
      );

      // One shared timer refreshes them.
      await page.clock.fastForward(60_000);
      await page.locator('[data-id="9"] time').getByText("1 min. ago")
        .waitFor();
      assert.equal(
        await page.locator('[data-id="8"] time').textContent(),
        "3 min. ago",
      );
      assert.deepEqual(errors, []);
      await close();
    });
  },
});

Deno.test({
  name:
    "browser: http(s) links become safe new-tab anchors, every other scheme stays text",
  async fn() {
    await withRoom(async (room) => {
      const text =
        "see https://example.com/a?b=1&c=%20, (https://en.wikipedia.org/wiki/Plaza) " +
        'javascript:alert(1) data:text/html,<b>x</b> "http://x.test/end"! ' +
        "ftp://files.test xhttps://no.test https:// done";
      await postJson(room.url, "bob", text);
      const { page, errors, close } = await open(room, null);
      const body = page.getByTestId("message-text");
      await body.waitFor();
      assert.equal(await body.textContent(), text);
      const links = body.locator("a");
      assert.deepEqual(
        await links.evaluateAll((as) =>
          as.map((a) => [
            a.getAttribute("href"),
            a.textContent,
            a.getAttribute("target"),
            a.getAttribute("rel"),
          ])
        ),
        [
          "https://example.com/a?b=1&c=%20",
          "https://en.wikipedia.org/wiki/Plaza",
          "http://x.test/end",
          // noreferrer implies noopener.
        ].map((u) => [u, u, "_blank", "noreferrer nofollow"]),
      );
      // Nothing else became an element.
      assert.equal(await body.locator(":not(a)").count(), 0);
      // Keyboard reachable.
      await links.first().focus();
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent),
        "https://example.com/a?b=1&c=%20",
      );
      assert.deepEqual(errors, []);
      await close();
    });
  },
});

// WCAG contrast ratio of two computed CSS colours "rgb(r, g, b)".
function contrastIn(page: Page, selector: string, fg: string, bg: string) {
  return page.locator(selector).first().evaluate(
    (el, [fgProp, bgProp]) => {
      const lum = (c: string) => {
        const [r, g, b] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(
          (v) => {
            const s = Number(v) / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
          },
        );
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const background = (e: Element | null): string => {
        for (; e; e = e.parentElement) {
          const c = getComputedStyle(e)[bgProp as "backgroundColor"];
          if (c !== "rgba(0, 0, 0, 0)") return c;
        }
        return "rgb(255, 255, 255)";
      };
      const a = lum(getComputedStyle(el)[fgProp as "color"]);
      const b = lum(background(el));
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    },
    [fg, bg],
  );
}

Deno.test({
  name:
    "browser: a mention of the reader is highlighted; authors keep one colour and get initials, readable in both themes",
  async fn() {
    await withRoom(async (room) => {
      await postJson(room.url, "Ada Lovelace", "hello all");
      await postJson(room.url, "bob", "hi @ADA!"); // 2: mentions ada
      await postJson(room.url, "bob", "@adam is someone else"); // 3
      await postJson(room.url, "bob", "mail x@ada.test"); // 4
      await postJson(room.url, "Ada Lovelace", "me again"); // 5, new group
      // 6: own, sent from this device (its clientId is in the page's storage).
      const mine = crypto.randomUUID();
      await postJson(room.url, "ada", "talking to @ada myself", {
        clientId: mine,
      });
      await room
        .sql`update messages set created_at = created_at + interval '10 minutes' where id = 5`;
      for (const scheme of ["light", "dark"] as const) {
        const { page, errors, close } = await open(
          room,
          "ada",
          { colorScheme: scheme },
          async (page) => {
            await page.addInitScript(
              (id) => localStorage.setItem("plaza.sent", ` ${id}`),
              mine,
            );
          },
        );
        await page.locator('[data-id="6"]').waitFor();
        const mention = page.locator(".mention");
        assert.deepEqual(
          await mention.evaluateAll((els) =>
            els.map((e) => [(e as HTMLElement).dataset.id, e.className])
          ),
          [["2", "msg head mention"]],
        );
        // Avatars: initials, hidden from screen readers, not for own messages.
        const avatars = page.locator(".av");
        assert.deepEqual(await avatars.allTextContents(), ["AL", "B", "AL"]);
        assert.deepEqual(
          await avatars.evaluateAll((els) =>
            els.map((e) => e.getAttribute("aria-hidden"))
          ),
          ["true", "true", "true"],
        );
        // The same author has the same colour in every group.
        const hues = await page.getByTestId("message-author").evaluateAll((
          els,
        ) => els.map((e) => getComputedStyle(e).color));
        assert.equal(hues[0], hues[2]);
        assert.notEqual(hues[0], hues[1]);
        for (
          const [selector, what] of [
            [".msg-author", "name"],
            [".av", "initials"],
            [".mention .msg-text", "mentioned text"],
            [".msg time", "time"],
            [".day", "day separator"],
            [".own .msg-text", "own text"],
          ]
        ) {
          const ratio = await contrastIn(
            page,
            selector,
            "color",
            "backgroundColor",
          );
          assert.ok(ratio >= 4.5, `${what} contrast ${ratio} in ${scheme}`);
        }
        assert.deepEqual(errors, []);
        await close();
      }
    });
  },
});

Deno.test({
  name:
    "browser: scrolled up, new messages keep the view and raise a pill; a hidden tab counts them in its title",
  async fn() {
    await withRoom(async (room) => {
      await seedMessages(room.sql, 60);
      const { page, errors, close } = await open(room, "ada");
      await page.locator('[data-id="60"]').waitFor();
      await scrollLogTo(page, 400);
      const y = await topOf(page, 40);
      for (const text of ["one", "two", "three"]) {
        await postJson(room.url, "bob", text);
      }
      const pill = page.getByTestId("new-messages-pill");
      // The arrow is drawn by CSS, not part of the text.
      await pill.getByText("3 new messages", { exact: true }).waitFor();
      assert.equal(await topOf(page, 40), y);
      assert.equal(
        await pill.evaluate((b) => b.tagName + " " + b.getAttribute("type")),
        "BUTTON button",
      );
      // Keyboard: focus the pill, Enter goes to the end and the pill goes.
      await pill.focus();
      await page.keyboard.press("Enter");
      await pill.waitFor({ state: "detached" });
      assert.ok(await atBottom(page));
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute("role")),
        "log",
      );

      // At the bottom a new message just shows; no pill.
      await postJson(room.url, "bob", "four");
      await page.locator('[data-id="64"]').waitFor();
      assert.equal(await pill.count(), 0);
      assert.equal(await page.title(), "Plaza");

      // Hidden tab: the title counts what arrives; visible again, it clears.
      const setHidden = (hidden: boolean) =>
        page.evaluate((h) => {
          Object.defineProperty(document, "hidden", {
            configurable: true,
            get: () => h,
          });
          Object.defineProperty(document, "visibilityState", {
            configurable: true,
            get: () => (h ? "hidden" : "visible"),
          });
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
      await setHidden(true);
      await postJson(room.url, "bob", "five");
      await postJson(room.url, "bob", "six");
      await page.waitForFunction(() => document.title === "(2) Plaza");
      await setHidden(false);
      await page.waitForFunction(() => document.title === "Plaza");
      // The reader comes back where they were, told what is below.
      await pill.getByText("2 new messages").waitFor();
      await pill.click();
      await pill.waitFor({ state: "detached" });
      assert.ok(await atBottom(page));
      assert.deepEqual(errors, []);
      await close();
    });
  },
});
