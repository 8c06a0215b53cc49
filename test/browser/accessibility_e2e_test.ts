// axe-core in a real Chromium, in the layouts people use (phone and desktop,
// light and dark), plus the size budget. With PLAZA_SCREENSHOTS=<dir> it also
// saves the screenshots linked from the README and docs/ (docs/screenshots).
import assert from "node:assert/strict";
import axe from "axe-core";
import postgres from "postgres";
import { buildClient } from "../../tools/build_client.ts";
import { launchChromium } from "../harness/browser.ts";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";

/** The budget for the JS the page needs to show the chat; the rest loads lazily. */
const MAX_JS_GZIP = 16 * 1024;
const MAX_CSS_GZIP = 4 * 1024;
// The installable app comes after: the client/pwa chunk, loaded
// once the chat has rendered (offline copy, install, notifications), and
// the service worker, fetched by the browser on its own. Each has a budget
// of its own so that neither grows unnoticed; the main bundle's stays.
// 6 KB since it holds the notification settings too (what a device is
// notified of, a mute): still loaded only after the chat has rendered.
// 6.5 KB since it opens a message's permalink too (the room around it,
// fetched by client/pwa/message_target.ts).
const MAX_PWA_GZIP = 6.5 * 1024;
// The client/extras chunk, loaded after the chat has rendered: message
// menu, edits, reactions, replies, moving a name, mute and report, who's
// here and @-suggestions, link preview cards, the unread divider, the list
// of unsent messages (out of the main bundle, which had no bytes left), and
// the CSS of all these (client/extras/extras.css).
const MAX_EXTRAS_GZIP = 8 * 1024;
// The client/search chunk, loaded when the Search button is first pressed.
const MAX_SEARCH_GZIP = 3 * 1024;
// The client/attach chunk (pictures: picker, strip, upload, lightbox),
// loaded by the app chunk after the chat has rendered.
const MAX_ATTACH_GZIP = 5 * 1024;
// The client/room chunk, loaded after the chat has rendered: the pinned
// notice (drawn with the page's markdown renderer, which the host lends) and
// the lockdown.
const MAX_ROOM_GZIP = 3 * 1024;
const MAX_SW_GZIP = 2 * 1024;

Deno.test("the client stays within its size budget (JS ≤ 16 KB, CSS ≤ 4 KB, the app chunk ≤ 6.5 KB, extras ≤ 8 KB, search ≤ 3 KB, pictures ≤ 5 KB, room ≤ 3 KB, the service worker ≤ 2 KB gzipped)", async () => {
  const dist = await Deno.makeTempDir({ prefix: "plaza_budget_" });
  try {
    const { js, css, pwa, extras, search, attach, room, sw } =
      await buildClient({
        outDir: dist,
      });
    assert.ok(js.gzipBytes <= MAX_JS_GZIP, `JS is ${js.gzipBytes} B gzipped`);
    assert.ok(
      css.gzipBytes <= MAX_CSS_GZIP,
      `CSS is ${css.gzipBytes} B gzipped`,
    );
    assert.ok(
      pwa.gzipBytes <= MAX_PWA_GZIP,
      `the app chunk is ${pwa.gzipBytes} B gzipped`,
    );
    assert.ok(
      extras.gzipBytes <= MAX_EXTRAS_GZIP,
      `the extras chunk is ${extras.gzipBytes} B gzipped`,
    );
    assert.ok(
      search.gzipBytes <= MAX_SEARCH_GZIP,
      `the search chunk is ${search.gzipBytes} B gzipped`,
    );
    assert.ok(
      attach.gzipBytes <= MAX_ATTACH_GZIP,
      `the pictures chunk is ${attach.gzipBytes} B gzipped`,
    );
    assert.ok(
      room.gzipBytes <= MAX_ROOM_GZIP,
      `the room chunk is ${room.gzipBytes} B gzipped`,
    );
    assert.ok(
      sw.gzipBytes <= MAX_SW_GZIP,
      `the service worker is ${sw.gzipBytes} B gzipped`,
    );
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});

/** A believable conversation over two days, inserted as any writer could. */
async function seed(url: string) {
  const sql = postgres(url, { onnotice: () => {} });
  try {
    const day = 24 * 60 * 60 * 1000;
    const rows: [string, string, number][] = [
      [
        "Bruno",
        "Morning! Is the meetup still on for Thursday?",
        -day - 3_600_000,
      ],
      ["Chen", "Yes — 7 pm, same place as last time.", -day - 3_500_000],
      [
        "Chen",
        "Slides are here: https://example.com/slides/plaza",
        -day - 3_400_000,
      ],
      ["Dara", "I'll bring the projector.", -600_000],
      ["Bruno", "@ada can you do the demo?\nTen minutes is plenty.", -300_000],
      ["Eli", "<script>alert('still text')</script> 😀", -120_000],
    ];
    for (const [author, text, offset] of rows) {
      await sql`insert into messages (author, text, created_at)
                values (${author}, ${text}, ${new Date(Date.now() + offset)})`;
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test("axe finds no serious or critical violations, phone and desktop, light and dark", async () => {
  const dist = await Deno.makeTempDir({ prefix: "plaza_a11y_dist_" });
  const shots = Deno.env.get("PLAZA_SCREENSHOTS");
  try {
    await buildClient({ outDir: dist });
    await withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { DIST_DIR: dist });
      await seed(url);
      const browser = await launchChromium();
      try {
        const layouts = [
          { name: "desktop-light", width: 1280, height: 800, dark: false },
          { name: "desktop-dark", width: 1280, height: 800, dark: true },
          { name: "phone-light", width: 390, height: 844, dark: false },
          { name: "phone-dark", width: 390, height: 844, dark: true },
        ];
        for (const layout of layouts) {
          const context = await browser.newContext({
            viewport: { width: layout.width, height: layout.height },
            colorScheme: layout.dark ? "dark" : "light",
            // axe is injected as a script; the app's own CSP must not stop it.
            bypassCSP: true,
          });
          try {
            const page = await context.newPage();
            await page.addInitScript(() =>
              localStorage.setItem("plaza.name", "ada")
            );
            await page.goto(plaza.url);
            await page.locator('[data-testid="status"][data-status="live"]')
              .waitFor();
            await page.getByText("Ten minutes is plenty.").waitFor();
            // The installed-app controls come with the lazily loaded chunk.
            await page.locator("#tools [data-testid=notify]").waitFor();
            if (shots) {
              await Deno.mkdir(shots, { recursive: true });
              await page.screenshot({ path: `${shots}/${layout.name}.png` });
            }
            await page.addScriptTag({ content: axe.source });
            const violations = await page.evaluate(async () => {
              const injected = (globalThis as unknown as { axe: typeof axe })
                .axe;
              const result = await injected.run(document, {
                runOnly: [
                  "wcag2a",
                  "wcag2aa",
                  "wcag21a",
                  "wcag21aa",
                  "best-practice",
                ],
              });
              return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact ?? null,
                targets: v.nodes.map((n) => JSON.stringify(n.target)),
              }));
            });
            const severe = violations.filter((v) =>
              v.impact === "serious" || v.impact === "critical"
            );
            assert.deepEqual(
              severe,
              [],
              `${layout.name}: ${JSON.stringify(severe)}`,
            );
          } finally {
            await context.close();
          }
        }
      } finally {
        await browser.close();
        await plaza.close();
      }
    });
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
