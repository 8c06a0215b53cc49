/**
 * The room the PWA browser tests share: a client built into a temporary
 * directory, a Plaza serving it on a fresh database, SQL on that database and
 * a headless Chromium; plus the phone they emulate and the page helpers
 * several of them use.
 */
import { join } from "node:path";
import axe from "axe-core";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import postgres from "postgres";
import { buildClient, type BuildResult } from "../../tools/build_client.ts";
import type { Plaza } from "../../server/plaza.ts";
import { launchChromium } from "./browser.ts";
import { startTestInstance, withTestDatabase } from "./fixtures.ts";

/** The phone the PWA tests emulate (an iPhone-sized touch screen). */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: "en-US",
  timezoneId: "UTC",
};
// The phone screenshots in docs/push.md come from PLAZA_SCREENSHOTS=<dir>.
const SHOTS = Deno.env.get("PLAZA_SCREENSHOTS");

/** What each test gets: a built client, a server on it, SQL, a browser. */
export interface Room {
  dist: string;
  build: BuildResult;
  plaza: Plaza;
  dbUrl: string;
  sql: postgres.Sql;
  browser: Browser;
}

/** Runs `fn` in a fresh room and takes it all down afterwards (a test may replace `room.plaza`). */
export async function withRoom(
  fn: (room: Room) => Promise<void>,
): Promise<void> {
  const dist = await Deno.makeTempDir({ prefix: "plaza_pwa_dist_" });
  try {
    const build = await buildClient({ outDir: dist });
    await withTestDatabase(async (dbUrl) => {
      const room: Room = {
        dist,
        build,
        plaza: await startTestInstance(dbUrl, { DIST_DIR: dist }),
        dbUrl,
        sql: postgres(dbUrl, { onnotice: () => {} }),
        browser: await launchChromium(),
      };
      try {
        await fn(room);
      } finally {
        await room.browser.close();
        await room.sql.end({ timeout: 1 });
        await room.plaza.close();
      }
    });
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
}

/** A few minutes of talk, the latest messages in the screenshots. */
export async function chatter(sql: postgres.Sql): Promise<void> {
  const lines: [string, string][] = [
    ["Bruno", "Installed Plaza on my phone, it opens like an app now."],
    ["Chen", "Same here. Notify me is in the header."],
    ["Dara", "Does it work when the app is closed?"],
    ["Chen", "Yes, that's what the push is for. @Dara try it."],
    ["Dara", "Turned it on. Meetup at 7 tomorrow?"],
    ["Bruno", "7 works. Same place as last time."],
  ];
  for (const [i, [author, text]] of lines.entries()) {
    await sql`insert into messages (author, text, created_at)
              values (${author}, ${text},
                      ${new Date(Date.now() - (lines.length - i) * 60_000)})`;
  }
}

/** Resolves once the service worker controls the page (it claims it on activation). */
export function controlled(page: Page): Promise<void> {
  return page.evaluate(async () => {
    const sw = navigator.serviceWorker;
    await sw.ready;
    if (!sw.controller) {
      await new Promise((r) =>
        sw.addEventListener("controllerchange", r, { once: true })
      );
    }
  });
}

/** Runs axe-core; returns its serious and critical findings. */
export async function severeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`);
  });
}

/** Saves a screenshot of `page` as <name>.png when PLAZA_SCREENSHOTS names a folder. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
