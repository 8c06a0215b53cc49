// Light markdown in a real browser against a real server and Postgres:
// each construct becomes its element, hostile text stays text (no script
// runs, no image loads), reply quotes stay plain, a long code line scrolls
// inside its bubble on a phone, and axe finds nothing serious in light or
// dark. With PLAZA_SCREENSHOTS=<dir> it saves markdown-light.png,
// markdown-dark.png and markdown-own.png.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Browser, Page } from "playwright-core";
import type { Message } from "../../protocol/message.ts";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";
import { postJson } from "../harness/fixtures.ts";

const PHONE = { width: 390, height: 844 };
const shots = Deno.env.get("PLAZA_SCREENSHOTS");
const LINK_ATTRS = 'target="_blank" rel="noreferrer nofollow"';

// Each message and the markup its text must become (innerHTML, which
// escapes text: "&lt;" is a character, "<em>" an element).
const CASES: [string, string][] = [
  ["a *em* and _em_ b", "a <em>em</em> and <em>em</em> b"],
  [
    "**strong** then `x = 1`",
    "<strong>strong</strong> then <code>x = 1</code>",
  ],
  ["snake_case 2*3*4 \\*literal\\*", "snake_case 2*3*4 *literal*"],
  [
    "**see https://x.test/a_b**",
    `<strong>see <a href="https://x.test/a_b" ${LINK_ATTRS}>https://x.test/a_b</a></strong>`,
  ],
  [
    "> quoted *line*\n> second\nmy answer",
    "<blockquote>quoted <em>line</em>\nsecond</blockquote>my answer",
  ],
  [
    "```js\n  if (a < b) {\n    go(**x**);\n  }\n```",
    '<pre tabindex="0"><code>  if (a &lt; b) {\n    go(**x**);\n  }</code></pre>',
  ],
  ["**unclosed *markers `stay", "**unclosed *markers `stay"],
];

// Each tries to run script (setting window.pwned) or load something.
const HOSTILE: [string, string][] = [
  [
    "<script>window.pwned = 1</script><img src=x onerror=window.pwned=2>",
    "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;img src=x onerror=window.pwned=2&gt;",
  ],
  [
    "**[x](javascript:window.pwned=3)** ![i](https://x.test/i.png)",
    `<strong>[x](javascript:window.pwned=3)</strong> ![i](<a href="https://x.test/i.png" ${LINK_ATTRS}>https://x.test/i.png</a>)`,
  ],
  [
    "`</code><img src=x onerror=window.pwned=4>` *<b onclick=x>*",
    "<code>&lt;/code&gt;&lt;img src=x onerror=window.pwned=4&gt;</code> <em>&lt;b onclick=x&gt;</em>",
  ],
  [
    "```\n<svg onload=window.pwned=5>\n```",
    '<pre tabindex="0"><code>&lt;svg onload=window.pwned=5&gt;</code></pre>',
  ],
  [
    'javascript:window.pwned=6 *javascript:x* https://x.test/"onmouseover="window.pwned=7',
    `javascript:window.pwned=6 <em>javascript:x</em> <a href="https://x.test/" ${LINK_ATTRS}>https://x.test/</a>"onmouseover="window.pwned=7`,
  ],
];

// Everything at once, for the screenshots.
const SHOWCASE = [
  "> Did the *build* pass?",
  "**Yes** — `deno task build` says 15.9 kB, see https://x.test/ci_run",
  "```",
  "client built -> dist: assets/main-3XBAZQFE.js 13.9 kB br, 15.9 kB gzip",
  "```",
  "_next_: the **docs**",
].join("\n");

function textOf(page: Page, id: number) {
  return page.locator(
    `[data-testid="message"][data-id="${id}"] [data-testid="message-text"]`,
  );
}

async function axeSevere(page: Page) {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target) }));
  });
}

async function rendering(browser: Browser, url: string): Promise<void> {
  const posted: Message[] = [];
  for (const [text] of [...CASES, ...HOSTILE]) {
    posted.push(await postJson(url, "bob", text));
  }
  const showcase = await postJson(url, "cy", SHOWCASE);
  // A message of nothing but markers, as long as a message may be.
  const markers = "*".repeat(1000) + "`".repeat(1000);
  const stars = await postJson(url, "eve", markers);
  for (const dark of [false, true]) {
    const context = await browser.newContext({
      viewport: PHONE,
      colorScheme: dark ? "dark" : "light",
      // axe is injected as a script; the app's own CSP must not stop it.
      bypassCSP: true,
    });
    try {
      const requests: string[] = [];
      context.on("request", (r) => requests.push(r.url()));
      const { page, errors } = await openLivePage(context, url, "ada");
      await textOf(page, stars.id).waitFor();
      for (const [i, [text, html]] of [...CASES, ...HOSTILE].entries()) {
        const el = textOf(page, posted[i].id);
        assert.equal(await el.innerHTML(), html, text);
      }
      assert.equal(await textOf(page, stars.id).innerHTML(), markers);
      // No script ran, no element but ours was made, nothing was fetched.
      assert.equal(await page.evaluate(() => "pwned" in globalThis), false);
      assert.equal(
        await page.locator(".log :is(img, script, svg, b, iframe)").count(),
        0,
      );
      assert.deepEqual(
        requests.filter((u) => u.startsWith("https://x.test")),
        [],
      );

      // A code block's long line scrolls inside the bubble; the page does not.
      const pre = textOf(page, showcase.id).locator("pre");
      const { overflows, scrolled, pageWidth } = await pre.evaluate((e) => {
        const overflows = e.scrollWidth > e.clientWidth;
        // Only a scroll container moves; a clipped block stays at 0.
        e.scrollLeft = 40;
        const scrolled = e.scrollLeft;
        e.scrollLeft = 0;
        return {
          overflows,
          scrolled,
          pageWidth: document.documentElement.scrollWidth,
        };
      });
      assert.ok(overflows, "the long line is wider than the bubble");
      assert.equal(scrolled, 40, "and scrolls sideways");
      assert.ok(pageWidth <= PHONE.width, `page is ${pageWidth}px wide`);

      const theme = dark ? "dark" : "light";
      if (shots) {
        await textOf(page, showcase.id).scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${shots}/markdown-${theme}.png` });
      }
      assert.deepEqual(await axeSevere(page), [], theme);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
}

async function plainWhereQuoted(browser: Browser, url: string): Promise<void> {
  const context = await browser.newContext({ viewport: PHONE });
  try {
    const { page, errors } = await openLivePage(context, url, "ada");
    const original = await postJson(url, "bob", "**bold** and `code`");
    const res = await fetch(`${url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        author: "cy",
        text: "_agreed_",
        replyTo: original.id,
      }),
    });
    const reply = await res.json() as Message;
    assert.equal(res.status, 201);
    // The message renders; its quote in the reply stays as typed.
    await textOf(page, reply.id).locator("em").waitFor();
    const quote = page.locator(
      `[data-id="${reply.id}"] [data-testid="reply-quote"]`,
    );
    assert.equal(await quote.textContent(), "bob **bold** and `code`");
    assert.equal(await quote.locator("strong, code").count(), 0);

    // What the reader types shows formatted while sending and once sent.
    const input = page.getByTestId("composer-input");
    await input.fill("my *own* `words`");
    await input.press("Enter");
    const own = page.locator(".own .msg-text").filter({ hasText: "own words" });
    await own.locator("em").waitFor();
    assert.deepEqual(
      await own.last().innerHTML(),
      "my <em>own</em> <code>words</code>",
    );
    if (shots) await page.screenshot({ path: `${shots}/markdown-own.png` });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

Deno.test("browser: light markdown renders as elements, hostile text stays text, quotes stay plain, axe is clean light and dark", async (t) => {
  if (shots) await Deno.mkdir(shots, { recursive: true });
  await withRoom(async (plaza, browser) => {
    await t.step(
      "each construct and hostile input, light and dark, with axe",
      () => rendering(browser, plaza.url),
    );
    await t.step(
      "reply quotes stay plain; a send shows formatted",
      () => plainWhereQuoted(browser, plaza.url),
    );
  });
});
