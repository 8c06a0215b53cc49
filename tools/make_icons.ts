/**
 * Renders the installed app's icons from client/favicon.svg with headless
 * Chromium and writes them to client/icons/ (committed; the build only copies
 * them). Run again after changing the SVG:
 *
 *   deno run -A tools/make_icons.ts
 *
 * - icon-192.png, icon-512.png: the SVG as it is, rounded corners transparent
 *   ("any" purpose in the manifest);
 * - maskable-192.png, maskable-512.png: full bleed on the SVG's own blue, for
 *   launchers that cut their own shape (the glyph stays inside the central
 *   80% circle they keep);
 * - apple-touch-icon.png (180): full bleed too, iOS rounds it itself;
 * - badge-96.png: the glyph alone in white on transparent, the monochrome
 *   badge Android shows in the status bar for a notification.
 */
import { launchChromium } from "../test/harness/browser.ts";

const root = new URL("../", import.meta.url);
const svg = await Deno.readTextFile(new URL("client/favicon.svg", root));
const background = /<rect[^>]*fill="(#[0-9a-fA-F]{3,6})"/.exec(svg)?.[1];
const glyph = /<path[\s\S]*?d="([^"]+)"/.exec(svg)?.[1];
if (!background || !glyph) {
  throw new Error("client/favicon.svg: expected a filled <rect> and a <path>");
}
// Only the glyph, in white, filling most of the badge: the 20-unit square
// around the 32-unit icon's centre, where the glyph sits.
const badgeSvg =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="6 6 20 20"><path d="${glyph}" fill="#fff"/></svg>`;

const dataUrl = (source: string) =>
  `data:image/svg+xml;base64,${
    btoa(String.fromCharCode(...new TextEncoder().encode(source)))
  }`;

interface Icon {
  file: string;
  size: number;
  source: string;
  /** Painted behind the image; transparent when absent. */
  fill?: string;
}

const icons: Icon[] = [
  { file: "icon-192.png", size: 192, source: svg },
  { file: "icon-512.png", size: 512, source: svg },
  { file: "maskable-192.png", size: 192, source: svg, fill: background },
  { file: "maskable-512.png", size: 512, source: svg, fill: background },
  { file: "apple-touch-icon.png", size: 180, source: svg, fill: background },
  { file: "badge-96.png", size: 96, source: badgeSvg },
];

const outDir = new URL("client/icons/", root);
await Deno.mkdir(outDir, { recursive: true });
const browser = await launchChromium();
try {
  for (const icon of icons) {
    const page = await browser.newPage({
      viewport: { width: icon.size, height: icon.size },
      deviceScaleFactor: 1,
    });
    await page.setContent(
      `<!doctype html><html><body style="margin:0;overflow:hidden;` +
        `background:${icon.fill ?? "transparent"}">` +
        `<img src="${
          dataUrl(icon.source)
        }" width="${icon.size}" height="${icon.size}" alt=""></body></html>`,
    );
    await page.locator("img").evaluate((img: HTMLImageElement) => img.decode());
    await page.screenshot({
      path: new URL(icon.file, outDir).pathname,
      omitBackground: true,
    });
    await page.close();
    console.log(`client/icons/${icon.file} (${icon.size}×${icon.size})`);
  }
} finally {
  await browser.close();
}
