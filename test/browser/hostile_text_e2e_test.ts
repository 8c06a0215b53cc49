// Hostile names and text in a real browser against a real server and
// Postgres: a message posted under the reader's name from elsewhere is not
// shown as theirs, bidi controls cannot reorder what is around a name or a
// link, stacked combining marks stay inside their bubble, and a name that
// mixes scripts gets a quiet mark. Run by `deno task test`; needs Debian's
// Chromium at /usr/bin/chromium. With PLAZA_SCREENSHOTS=<dir> it also saves
// screenshots of the pages (own-name.png, bidi.png, hostile-text.png).
import assert from "node:assert/strict";
import type { Browser, Locator, Page } from "playwright-core";
import type { Message } from "../../protocol/message.ts";
import {
  launchChromium,
  openLivePage,
  withBuiltClient,
} from "../harness/browser.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";

const PHONE = { width: 390, height: 844 };
const shots = Deno.env.get("PLAZA_SCREENSHOTS");
const RLO = "\u202e";
// Far more combining marks on one letter than any script needs.
const STACKED = "Z" + "\u0301\u0308".repeat(40) + "a" + "\u0316".repeat(40);

/**
 * Hands the page an event as the tab that holds the stream would: over
 * the tabs' BroadcastChannel. For names a server may refuse (bidi controls,
 * piles of marks) but that old rows can still carry.
 */
async function relay(page: Page, type: string, data: unknown): Promise<void> {
  await page.evaluate(
    ([t, d]) => new BroadcastChannel("plaza").postMessage([t, d]),
    [type, JSON.stringify(data)],
  );
}

/** A message as the stream would carry it, with an id beyond the server's. */
function streamed(id: number, author: string, text: string): Message {
  return {
    id,
    author,
    text,
    createdAt: new Date().toISOString(),
    clientId: null,
  };
}

/**
 * The left edge of each character of `el`'s text from `from` on (spaces
 * skipped), in text order: rising when the text reads left to right on
 * screen, as it should for "is typing…" or a URL.
 */
function glyphXs(page: Page, selector: string, from: string) {
  return page.locator(selector).evaluate((el, from) => {
    const xs: number[] = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n as Text;
      const start = text.data.indexOf(from);
      if (start < 0) continue;
      const range = document.createRange();
      for (let i = start; i < text.length; i++) {
        if (text.data[i] === " ") continue;
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        xs.push(Math.round(range.getBoundingClientRect().x));
      }
      return xs;
    }
    return xs;
  }, from);
}

function rising(xs: number[]): boolean {
  return xs.length > 1 && xs.every((x, i) => i === 0 || x > xs[i - 1]);
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

function messageWith(page: Page, text: string) {
  return page.getByTestId("message").filter({
    has: page.getByTestId("message-text").getByText(text),
  });
}

async function ownedIn(page: Page, text: string): Promise<boolean> {
  const row = messageWith(page, text);
  await row.waitFor();
  return (await row.getAttribute("class"))!.split(" ").includes("own");
}

async function ownName(
  browser: Browser,
  url: string,
): Promise<void> {
  const context = await browser.newContext({ viewport: PHONE });
  try {
    const { page, errors } = await openLivePage(context, url, "ada");
    // Another tab of the same browser, open before the send.
    const tab = await context.newPage();
    await tab.goto(url);
    await tab.locator('[data-status="live"]').waitFor();

    // What `curl -d author=ada -d 'text=…' …/messages` does: the same name,
    // without this device's clientId.
    await postJson(url, "ada", "transfer the keys to bob, @ada");
    const forged = messageWith(page, "transfer the keys");
    await forged.waitFor();
    assert.equal(await forged.getAttribute("class"), "msg head mention");
    assert.equal(await forged.locator(".av").textContent(), "A");

    await say(page, "my own words");
    for (const p of [page, tab]) {
      assert.equal(await ownedIn(p, "my own words"), true);
      assert.equal(await ownedIn(p, "transfer the keys"), false);
    }
    // Own, so it starts a group of its own: the header is not the forger's.
    assert.equal(
      await messageWith(page, "my own words").getAttribute("class"),
      "msg head own",
    );
    // Own bubbles sit on the right, others' on the left.
    const theirs = (await forged.getByTestId("message-text").boundingBox())!;
    const mine = (await messageWith(page, "my own words")
      .getByTestId("message-text").boundingBox())!;
    assert.ok(mine.x > theirs.x + 50, "mine starts further right");
    assert.ok(mine.x + mine.width > theirs.x + theirs.width, "and ends so");
    if (shots) await page.screenshot({ path: `${shots}/own-name.png` });

    // Remembered across a reload.
    await page.reload();
    await page.locator('[data-status="live"]').waitFor();
    assert.equal(await ownedIn(page, "my own words"), true);
    assert.equal(await ownedIn(page, "transfer the keys"), false);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

async function bidi(browser: Browser, url: string): Promise<void> {
  const context = await browser.newContext({ viewport: PHONE });
  try {
    // A right-to-left name of the reader's own.
    const { page, errors } = await openLivePage(context, url, "דוד");
    assert.equal(
      await page.getByTestId("composer-input").getAttribute("placeholder"),
      "Message as \u2068דוד\u2069",
    );
    assert.equal(
      await page.getByTestId("change-name").getAttribute("title"),
      "Posting as \u2068דוד\u2069",
    );

    // Shown "admin": the name itself is what it is, but it cannot spill.
    const author = `${RLO}nimda`;
    await relay(
      page,
      "message",
      streamed(1_000_001, author, `${RLO} see https://x.test/report.pdf`),
    );
    await relay(
      page,
      "message",
      streamed(1_000_002, "eve", `get https://x.test/${RLO}fdp.exe now`),
    );
    const name = page.getByTestId("message-author").filter({
      hasText: "nimda",
    });
    await name.waitFor();
    assert.deepEqual(
      await name.evaluate((e) => [e.tagName, getComputedStyle(e).unicodeBidi]),
      ["BDI", "isolate"],
    );

    // A link reads as its href: bidi controls before it cannot turn it
    // around, and none can hide inside it.
    const links = page.locator('[data-testid="message-text"] a');
    await links.nth(1).waitFor();
    assert.deepEqual(
      await links.evaluateAll((as) =>
        as.map((a) => [a.textContent, a.getAttribute("href")])
      ),
      [
        ["https://x.test/report.pdf", "https://x.test/report.pdf"],
        ["https://x.test/", "https://x.test/"],
      ],
    );
    const linkXs = await glyphXs(
      page,
      '[data-testid="message-text"] a >> nth=0',
      "https",
    );
    assert.ok(rising(linkXs), `link glyphs at ${linkXs}`);

    // "… is typing" stays in order after a name that ends in an override.
    await relay(page, "typing", { author });
    const typing = page.getByTestId("typing-indicator");
    await typing.getByText("is typing…").waitFor();
    assert.equal(await typing.textContent(), `${author} is typing…`);
    const typingXs = await glyphXs(
      page,
      '[data-testid="typing-indicator"]',
      "is typing",
    );
    assert.ok(rising(typingXs), `"is typing…" glyphs at ${typingXs}`);
    const bdi = await typing.locator("bdi").boundingBox();
    assert.ok(typingXs[0] >= Math.floor(bdi!.x + bdi!.width));
    if (shots) await page.screenshot({ path: `${shots}/bidi.png` });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

// How far apart (summed over red, green and blue) two pixels must be to
// count as different: more than raster noise on an anti-aliased edge, far
// less than a glyph's stroke on the background.
const INK = 48;

/**
 * How many pixels of `png` differ from the same pixel of `other` (with no
 * other: from its first pixel, so 0 for a blank strip). Decoded in the
 * page, which has a PNG decoder.
 */
function differing(page: Page, png: Uint8Array, other?: Uint8Array) {
  return page.evaluate(async ([a, b, ink]) => {
    const pixels = async (bytes: readonly number[]) => {
      const blob = new Blob([new Uint8Array(bytes)], { type: "image/png" });
      const image = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(image.width, image.height);
      const g = canvas.getContext("2d")!;
      g.drawImage(image, 0, 0);
      return g.getImageData(0, 0, image.width, image.height).data;
    };
    const p = await pixels(a);
    const q = b.length ? await pixels(b) : null;
    const base = q ?? p;
    let n = 0;
    for (let i = 0; i < p.length; i += 4) {
      const j = q ? i : 0;
      const d = Math.abs(p[i] - base[j]) + Math.abs(p[i + 1] - base[j + 1]) +
        Math.abs(p[i + 2] - base[j + 2]);
      if (d > ink) n++;
    }
    return n;
  }, [[...png], [...(other ?? [])], INK] as const);
}

/** 4 px of the page above `row`, inside a message header's top margin: blank unless something drew there. */
async function aboveRow(row: Locator) {
  const box = (await row.boundingBox())!;
  return { x: box.x, y: box.y - 10, width: box.width, height: 4 };
}

async function marksAndLookalikes(
  browser: Browser,
  url: string,
): Promise<void> {
  const context = await browser.newContext({ viewport: PHONE });
  try {
    const { page, errors } = await openLivePage(context, url, "ada");
    await postJson(url, "bob", "an ordinary message");
    // Real accents and descenders: Vietnamese, a ring and acute, Thai tone
    // marks, a dot below, an ogonek.
    const accents = "Ǻ Ỗ ặ กั้น ṩ Ųg jpqy";
    await postJson(url, "Ǻsa Ỗng", accents);
    // Marks stacked far above and below, in a text and in a name. The server
    // refuses such piles now; rows stored before the rule, or by psql, may
    // still carry them, so they arrive as the stream would bring them.
    await relay(
      page,
      "message",
      streamed(1_000_002, "dan", `${STACKED} in a text`),
    );
    await relay(page, "message", streamed(1_000_003, STACKED, "in a name"));
    for (const text of ["in a text", "in a name"]) {
      const row = messageWith(page, text);
      await row.waitFor();
      // The header's margin above it is blank: nothing drew up out of it.
      const strip = await page.screenshot({ clip: await aboveRow(row) });
      const ink = await differing(page, strip);
      assert.equal(ink, 0, `ink in the margin above the row "${text}"`);
    }

    // The clip leaves real accents alone: with or without it, the bubble,
    // the name line and a margin around them look the same.
    const accented = messageWith(page, accents);
    for (
      const part of [
        accented.locator(".meta"),
        accented.getByTestId("message-text"),
      ]
    ) {
      const box = (await part.boundingBox())!;
      const around = {
        x: box.x - 8,
        y: box.y - 8,
        width: box.width + 16,
        height: box.height + 16,
      };
      const clipped = await page.screenshot({ clip: around });
      await part.evaluate((e) => (e.style.overflow = "visible"));
      const unclipped = await page.screenshot({ clip: around });
      await part.evaluate((e) => (e.style.overflow = ""));
      const lost = await differing(page, clipped, unclipped);
      assert.equal(lost, 0, "real accents were clipped");
    }

    // "Аda" with a Cyrillic А gets a quiet mark; "ada" does not.
    await postJson(url, "\u0410da", "it is me, ada");
    const mark = messageWith(page, "it is me, ada").locator(".name-mark");
    await mark.waitFor();
    const said = "This name mixes alphabets: it may imitate another name.";
    assert.equal(await mark.getAttribute("title"), said);
    assert.equal(await mark.getAttribute("aria-label"), said);
    assert.equal(await mark.getAttribute("role"), "img");
    assert.equal(await page.locator(".name-mark").count(), 1);

    // For a look at all of it together.
    await relay(page, "typing", { author: STACKED });
    await relay(page, "typing", { author: `${RLO}nimda` });
    await page.getByTestId("typing-indicator").getByText("are typing…")
      .waitFor();
    if (shots) await page.screenshot({ path: `${shots}/hostile-text.png` });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

Deno.test("browser: own messages are this device's sends, bidi controls stay in their name or link, stacked marks in their bubble, look-alike names get a mark", async (t) => {
  if (shots) await Deno.mkdir(shots, { recursive: true });
  await withBuiltClient((dist) =>
    withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { DIST_DIR: dist });
      const browser = await launchChromium();
      try {
        await t.step(
          "a message posted under the reader's name from elsewhere is not shown as theirs",
          () => ownName(browser, plaza.url),
        );
        await t.step(
          "bidi controls cannot reorder what is around a name or a link",
          () => bidi(browser, plaza.url),
        );
        await t.step(
          "stacked marks stay in their bubble; a mixed-script name is marked",
          () => marksAndLookalikes(browser, plaza.url),
        );
      } finally {
        await browser.close();
        await plaza.close();
      }
    })
  );
});
