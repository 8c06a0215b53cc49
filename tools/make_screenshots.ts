/**
 * Takes the screenshots client/manifest.webmanifest lists (Chromium's richer
 * install dialog shows them) from a real Plaza: the client built into a
 * temporary folder, a server on an embedded PGlite database in another, a few
 * messages posted through the API, headless Chromium at the exact sizes the
 * manifest declares. Writes client/screenshots/ (committed; the build only
 * copies them), shrunk with pngquant and optipng when they are installed
 * (`apt-get install pngquant optipng`). Run again after a visible change:
 *
 *   deno run -A tools/make_screenshots.ts
 */
import { launchChromium } from "../test/harness/browser.ts";
import {
  claimName,
  postJson,
  startTestInstance,
} from "../test/harness/fixtures.ts";
import { buildClient } from "./build_client.ts";

/** Each screenshot: its file, the viewport it is taken at (its pixel size), and whether it is a phone. */
const SHOTS = [
  { file: "narrow.png", width: 390, height: 844, phone: true },
  { file: "wide.png", width: 1280, height: 800, phone: false },
];

const TALK: [string, string][] = [
  ["Bruno", "Morning! Is the meetup still on for Thursday?"],
  ["Chen", "Yes, 7 pm, same place as last time."],
  ["Dara", "I'll bring the projector."],
  ["Bruno", "@ada can you do the demo? Ten minutes is plenty."],
  ["ada", "Sure, I'll show the new app."],
  ["Chen", "Installed it on my phone, it opens like an app now."],
];

const root = new URL("../", import.meta.url);
const outDir = new URL("client/screenshots/", root);
const temp = await Deno.makeTempDir({ prefix: "plaza_screenshots_" });

async function shrink(path: string): Promise<void> {
  for (
    const [cmd, args] of [
      ["pngquant", [
        "--force",
        "--skip-if-larger",
        "--quality=70-95",
        "--ext=.png",
        path,
      ]],
      ["optipng", ["-quiet", "-o5", path]],
    ] as const
  ) {
    try {
      await new Deno.Command(cmd, { args: [...args] }).output();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      console.warn(`${cmd} is not installed: ${path} stays as taken`);
    }
  }
}

try {
  await buildClient({ outDir: `${temp}/dist` });
  const plaza = await startTestInstance(null, {
    DATA_DIR: `${temp}/data`,
    DIST_DIR: `${temp}/dist`,
  });
  const browser = await launchChromium();
  try {
    const tokens = new Map<string, string>();
    for (const [author, text] of TALK) {
      if (!tokens.has(author)) {
        tokens.set(author, await claimName(plaza.url, author));
      }
      await postJson(plaza.url, author, text, { token: tokens.get(author) });
    }
    await Deno.mkdir(outDir, { recursive: true });
    for (const shot of SHOTS) {
      const context = await browser.newContext({
        viewport: { width: shot.width, height: shot.height },
        deviceScaleFactor: 1,
        isMobile: shot.phone,
        hasTouch: shot.phone,
        locale: "en-US",
        timezoneId: "UTC",
        colorScheme: "light",
      });
      await context.addInitScript(
        ([name, token]) => {
          localStorage.setItem("plaza.name", name);
          localStorage.setItem(`plaza.token.${name}`, token);
        },
        ["ada", tokens.get("ada")!],
      );
      const page = await context.newPage();
      await page.goto(plaza.url);
      await page.locator('[data-testid="status"][data-status="live"]')
        .waitFor();
      await page.getByTestId("notify").waitFor();
      await page.getByText(TALK.at(-1)![1]).waitFor();
      const path = new URL(shot.file, outDir).pathname;
      await page.screenshot({ path });
      await context.close();
      await shrink(path);
      const { size } = await Deno.stat(path);
      console.log(`${path}: ${shot.width}x${shot.height}, ${size} bytes`);
    }
  } finally {
    await browser.close();
    await plaza.close();
  }
} finally {
  await Deno.remove(temp, { recursive: true });
}
