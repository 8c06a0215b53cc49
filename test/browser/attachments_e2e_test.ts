// Pictures in a real browser against a real server: picking, pasting and
// dropping images into the composer's strip, alt text, shrinking before
// upload, the picture in the log (sized before it loads, lazy, its alt
// text, axe-clean), the lightbox by keyboard, "image removed" for bytes that
// are gone, and a picture sent offline that arrives once. Needs Debian's
// Chromium at /usr/bin/chromium; run by `deno task test`. With
// PLAZA_SCREENSHOTS=<dir> it saves the strip, the log and the lightbox,
// phone and desktop.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { openLivePage } from "../harness/browser.ts";
import { withRoom } from "../harness/browser_room.ts";
import type { Message } from "../../protocol/message.ts";

const PICTURE = '[data-testid="message"] a[href^="/attachments/"]';

// A PNG drawn by the page itself (stripes, so it is not trivially small),
// as bytes the test can hand to setInputFiles or put in a DataTransfer.
async function drawPng(page: Page, width: number, height: number) {
  const bytes = await page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext("2d")!;
    for (let x = 0; x < w; x += 40) {
      g.fillStyle = `hsl(${(x / w) * 360} 70% 55%)`;
      g.fillRect(x, 0, 40, h);
    }
    const blob = await canvas.convertToBlob({ type: "image/png" });
    return [...new Uint8Array(await blob.arrayBuffer())];
  }, [width, height]);
  return Buffer.from(bytes);
}

// Hands `bytes` to the page as a File inside a DataTransfer and dispatches
// `type` ("paste" on the composer, "drop" on the log) with it.
async function dispatchWithFile(
  page: Page,
  type: "paste" | "drop",
  bytes: Buffer,
): Promise<void> {
  await page.evaluate(([type, data]) => {
    const dt = new DataTransfer();
    dt.items.add(
      new File([new Uint8Array(data)], `${type}.png`, { type: "image/png" }),
    );
    if (type === "paste") {
      document.querySelector("textarea")!.dispatchEvent(
        new ClipboardEvent("paste", {
          clipboardData: dt,
          bubbles: true,
          cancelable: true,
        }),
      );
    } else {
      const log = document.querySelector(".log")!;
      for (const t of ["dragenter", "dragover", "drop"]) {
        log.dispatchEvent(
          new DragEvent(t, {
            dataTransfer: dt,
            bubbles: true,
            cancelable: true,
          }),
        );
      }
    }
  }, [type, [...bytes]] as const);
}

async function axeViolations(page: Page) {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const injected = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await injected.run(document, {
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      targets: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  const dir = Deno.env.get("PLAZA_SCREENSHOTS");
  if (dir) await page.screenshot({ path: `${dir}/${name}.png` });
}

async function latest(url: string): Promise<Message[]> {
  const res = await fetch(`${url}/messages`);
  return (await res.json()).messages;
}

for (
  const layout of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 390, height: 844 },
  ]
) {
  Deno.test(`browser (${layout.name}): pick, paste and drop fill the strip; a picture-only message is shrunk, sent with its alt text, shown at its shape, axe-clean, and opens in a keyboard lightbox`, async () => {
    await withRoom(async (plaza, browser) => {
      const context = await browser.newContext({
        viewport: { width: layout.width, height: layout.height },
        // axe is injected as a script; the app's own CSP must not stop it.
        bypassCSP: true,
      });
      const { page, errors } = await openLivePage(context, plaza.url, "ada");
      await page.getByTestId("attach-pick").waitFor();
      const wide = await drawPng(page, 3000, 1500);
      const small = await drawPng(page, 300, 400);

      await page.getByTestId("attach-input").setInputFiles({
        name: "wide.png",
        mimeType: "image/png",
        buffer: wide,
      });
      await page.getByTestId("attach-preview").nth(0).waitFor();
      await dispatchWithFile(page, "paste", small);
      await page.getByTestId("attach-preview").nth(1).waitFor();
      await dispatchWithFile(page, "drop", small);
      await page.getByTestId("attach-preview").nth(2).waitFor();
      // Dropped in by mistake: removed again.
      await page.getByTestId("attach-remove").nth(2).click();
      await page.waitForFunction(() =>
        document.querySelectorAll('[data-testid="attach-preview"]').length ===
          2
      );
      await page.getByTestId("attach-alt").nth(0).fill("Rainbow stripes");
      await page.getByTestId("attach-alt").nth(1).fill("A <b>tall</b> one");
      await shoot(page, `attach-strip-${layout.name}`);

      // No words: the pictures alone may be sent. The first upload is held
      // until its progress bar has been seen.
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      await page.route("**/attachments?*", async (route) => {
        await held;
        await route.continue();
      });
      const send = page.getByTestId("send-button");
      assert.equal(await send.isDisabled(), false);
      await send.click();
      const bar = page.getByTestId("attach-progress");
      await bar.waitFor();
      assert.match(await bar.innerText(), /Uploading picture 1 of 2/);
      assert.equal(await bar.locator("progress").count(), 1);
      release();
      await bar.waitFor({ state: "detached" });
      const pictures = page.locator(PICTURE);
      await pictures.nth(1).waitFor();
      assert.equal(await page.getByTestId("attach-preview").count(), 0);

      const [sent] = (await latest(plaza.url)).slice(-1);
      assert.equal(sent.text, "");
      assert.equal(sent.attachments?.length, 2);
      // Shrunk in the browser: the long side is 2048 px.
      assert.deepEqual(
        sent.attachments!.map((a) => [a.width, a.height, a.alt]),
        [[2048, 1024, "Rainbow stripes"], [300, 400, "A <b>tall</b> one"]],
      );

      // Sized before it loads, at its own shape; the thumbnail, lazily.
      const shown = await pictures.locator("img").evaluateAll((imgs) =>
        (imgs as HTMLImageElement[]).map((i) => ({
          ratio: +i.getAttribute("width")! / +i.getAttribute("height")!,
          src: i.getAttribute("src"),
          alt: i.alt,
          loading: i.loading,
        }))
      );
      assert.ok(Math.abs(shown[0].ratio - 2) < 0.01, `${shown[0].ratio}`);
      assert.ok(Math.abs(shown[1].ratio - 0.75) < 0.01, `${shown[1].ratio}`);
      assert.deepEqual(shown.map((s) => [s.src, s.alt, s.loading]), [
        [
          `/attachments/${sent.attachments![0].id}/thumb`,
          "Rainbow stripes",
          "lazy",
        ],
        [
          `/attachments/${sent.attachments![1].id}/thumb`,
          "A <b>tall</b> one",
          "lazy",
        ],
      ]);
      // Markup in alt text stays text.
      assert.equal(await page.locator(".msg b").count(), 0);
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLImageElement>(".msg img")].every((
          i,
        ) => i.complete && i.naturalWidth > 0)
      );
      await shoot(page, `attach-log-${layout.name}`);
      assert.deepEqual(await axeViolations(page), []);

      // The lightbox, by keyboard.
      await pictures.nth(0).focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByTestId("lightbox");
      const big = page.getByTestId("lightbox-image");
      await big.waitFor();
      assert.equal(
        await dialog.evaluate((d) => (d as HTMLDialogElement).open),
        true,
      );
      assert.equal(await big.getAttribute("alt"), "Rainbow stripes");
      assert.equal(
        await big.getAttribute("src"),
        `/attachments/${sent.attachments![0].id}`,
      );
      await page.keyboard.press("ArrowRight");
      assert.equal(await big.getAttribute("alt"), "A <b>tall</b> one");
      await page.keyboard.press("ArrowRight");
      assert.equal(await big.getAttribute("alt"), "Rainbow stripes");
      await page.keyboard.press("ArrowLeft");
      await page.waitForFunction(() =>
        document.querySelector<HTMLImageElement>(
          '[data-testid="lightbox-image"]',
        )?.complete
      );
      await shoot(page, `attach-lightbox-${layout.name}`);
      assert.deepEqual(await axeViolations(page), []);
      await page.keyboard.press("Escape");
      await page.waitForFunction(() =>
        !document.querySelector<HTMLDialogElement>("dialog.lightbox")!.open
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute("href")),
        `/attachments/${sent.attachments![0].id}`,
      );
      assert.deepEqual(errors, []);
      await context.close();
    });
  });
}

Deno.test("browser: a picture whose bytes are gone shows a quiet “image removed”", async () => {
  await withRoom(async (plaza, browser) => {
    const context = await browser.newContext();
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    await page.getByTestId("attach-pick").waitFor();
    await page.getByTestId("attach-input").setInputFiles({
      name: "gone.png",
      mimeType: "image/png",
      buffer: await drawPng(page, 200, 100),
    });
    await page.getByTestId("attach-preview").waitFor();
    await page.getByTestId("composer-input").fill("soon gone");
    await page.getByTestId("send-button").click();
    await page.locator(PICTURE).waitFor();
    // As the server answers once a moderator or retention removed the bytes.
    await page.route("**/attachments/*/thumb", (route) =>
      route.fulfill({
        status: 410,
        contentType: "application/json",
        body: '{"error":"gone"}',
      }));
    await page.reload();
    const gone = page.locator(".att-gone");
    await gone.waitFor();
    assert.equal(await gone.getAttribute("aria-label"), "image removed");
    assert.equal(await gone.getAttribute("href"), null);
    assert.equal(await page.locator(PICTURE).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

Deno.test("browser: a picture sent while offline waits in the outbox and arrives once when the network is back", async () => {
  await withRoom(async (plaza, browser) => {
    const context = await browser.newContext();
    const { page, errors } = await openLivePage(context, plaza.url, "ada");
    await page.getByTestId("attach-pick").waitFor();
    const png = await drawPng(page, 640, 480);
    await context.setOffline(true);
    await page.locator('[data-testid="status"][data-status="offline"]')
      .waitFor();
    await page.getByTestId("attach-input").setInputFiles({
      name: "offline.png",
      mimeType: "image/png",
      buffer: png,
    });
    await page.getByTestId("attach-preview").waitFor();
    await page.getByTestId("attach-alt").fill("Sent from the tunnel");
    await page.getByTestId("composer-input").fill("from the tunnel");
    await page.getByTestId("send-button").click();
    await page.locator('[data-testid="pending-message"][data-state="failed"]')
      .waitFor();
    // The picture waits in IndexedDB, the outbox (localStorage) names it.
    const kept = await page.evaluate(() =>
      new Promise<number>((resolve) => {
        const req = indexedDB.open("plaza-pictures");
        req.onsuccess = () => {
          const count = req.result.transaction("pictures").objectStore(
            "pictures",
          ).count();
          count.onsuccess = () => resolve(count.result);
        };
      })
    );
    assert.equal(kept, 1);
    assert.match(
      await page.evaluate(() => localStorage.getItem("plaza.outbox") ?? ""),
      /"images":\[\{"key":"[^"]+","alt":"Sent from the tunnel"\}\]/,
    );

    await context.setOffline(false);
    await page.locator(PICTURE).waitFor();
    await page.getByTestId("pending-message").waitFor({ state: "detached" });
    const mine = (await latest(plaza.url)).filter((m) =>
      m.text === "from the tunnel"
    );
    assert.equal(mine.length, 1);
    assert.equal(mine[0].attachments?.[0].alt, "Sent from the tunnel");
    assert.equal(await page.locator(PICTURE).count(), 1);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
