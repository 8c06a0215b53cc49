// Plaza as an installable app, in a real Chromium against a real server and
// Postgres: the manifest and icons, the install button and iOS hint, and the
// phone layout (safe areas, 44 px targets, keyboard). The worker's cache is in
// pwa_worker_e2e_test.ts, notifications in pwa_push_e2e_test.ts.
// With PLAZA_SCREENSHOTS=<dir> it also saves the phone screenshots in docs/push.md.
// Run by `deno task test`; needs Debian's Chromium at /usr/bin/chromium. Each
// test builds the client into a temporary directory (see pwa_room.ts).
import assert from "node:assert/strict";
import { openLivePage } from "../harness/browser.ts";
import { seedMessages } from "../harness/fixtures.ts";
import {
  chatter,
  controlled,
  PHONE,
  screenshot,
  severeViolations,
  withRoom,
} from "../harness/pwa_room.ts";

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes: Uint8Array): [number, number] {
  assert.deepEqual([...bytes.slice(1, 4)], [80, 78, 71], "a PNG");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("browser: the manifest is complete, its icons and screenshots have their sizes, and Chromium finds Plaza installable", async () => {
  await withRoom(async ({ plaza, browser }) => {
    const res = await fetch(`${plaza.url}/manifest.webmanifest`);
    assert.equal(
      res.headers.get("content-type"),
      "application/manifest+json; charset=utf-8",
    );
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const manifest = await res.json();
    assert.equal(manifest.name, "Plaza");
    assert.equal(manifest.short_name, "Plaza");
    assert.equal(manifest.id, "/");
    assert.equal(manifest.start_url, "/");
    assert.equal(manifest.scope, "/");
    assert.equal(manifest.display, "standalone");
    assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/);
    assert.match(manifest.background_color, /^#[0-9a-f]{6}$/);
    const dark = manifest.user_preferences.color_scheme.dark;
    assert.match(dark.theme_color, /^#[0-9a-f]{6}$/);
    assert.match(dark.background_color, /^#[0-9a-f]{6}$/);

    const icons: { src: string; sizes: string; purpose: string }[] =
      manifest.icons;
    for (
      const [size, purpose] of [[192, "any"], [512, "any"], [512, "maskable"]]
    ) {
      assert.ok(
        icons.some((i) =>
          i.sizes === `${size}x${size}` && i.purpose === purpose
        ),
        `a ${size} px ${purpose} icon`,
      );
    }
    for (const icon of icons) {
      const png = await fetch(new URL(icon.src, plaza.url));
      assert.equal(png.status, 200, icon.src);
      assert.equal(png.headers.get("content-type"), "image/png");
      const [w, h] = pngSize(new Uint8Array(await png.arrayBuffer()));
      assert.equal(`${w}x${h}`, icon.sizes, icon.src);
    }

    // The install dialog's screenshots: served as PNGs of their sizes.
    const shots: { src: string; sizes: string; form_factor: string }[] =
      manifest.screenshots;
    assert.deepEqual(shots.map((s) => s.form_factor), ["narrow", "wide"]);
    for (const shot of shots) {
      const png = await fetch(new URL(shot.src, plaza.url));
      assert.equal(png.status, 200, shot.src);
      assert.equal(png.headers.get("content-type"), "image/png");
      const [w, h] = pngSize(new Uint8Array(await png.arrayBuffer()));
      assert.equal(`${w}x${h}`, shot.sizes, shot.src);
    }

    const sw = await fetch(`${plaza.url}/sw.js`);
    assert.equal(sw.headers.get("cache-control"), "no-cache");
    assert.match(sw.headers.get("content-type")!, /^text\/javascript/);
    await sw.body?.cancel();

    // No bypassCSP here: the app's own CSP must let the manifest and the
    // worker load.
    const context = await browser.newContext(PHONE);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      const head = await page.evaluate(() => ({
        viewport: document.querySelector('meta[name="viewport"]')!
          .getAttribute("content"),
        themes: [...document.querySelectorAll('meta[name="theme-color"]')]
          .map((m) => m.getAttribute("media")),
        touchIcon: document.querySelector<HTMLLinkElement>(
          'link[rel="apple-touch-icon"]',
        )?.href,
      }));
      assert.match(head.viewport!, /viewport-fit=cover/);
      assert.match(head.viewport!, /interactive-widget=resizes-content/);
      assert.deepEqual(head.themes, [
        "(prefers-color-scheme: light)",
        "(prefers-color-scheme: dark)",
      ]);
      const touch = await fetch(head.touchIcon!);
      assert.deepEqual(
        pngSize(new Uint8Array(await touch.arrayBuffer())),
        [180, 180],
      );

      await controlled(page);
      const cdp = await context.newCDPSession(page);
      const parsed = await cdp.send("Page.getAppManifest");
      assert.deepEqual(parsed.errors, [], JSON.stringify(parsed.errors));
      assert.equal(parsed.url, `${plaza.url}/manifest.webmanifest`);
      const { installabilityErrors } = await cdp.send(
        "Page.getInstallabilityErrors",
      );
      // Test contexts are incognito-like, where Chromium installs nothing;
      // any other reason would be Plaza's.
      assert.deepEqual(
        installabilityErrors.filter((e) => e.errorId !== "in-incognito"),
        [],
      );
      await cdp.detach();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: an install button where the browser offers one, and the Add to Home Screen hint on iOS; axe finds nothing serious, light and dark", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await chatter(sql);
    for (const dark of [false, true]) {
      const context = await browser.newContext({
        ...PHONE,
        colorScheme: dark ? "dark" : "light",
        bypassCSP: true,
      });
      try {
        const { page, errors } = await openLivePage(context, plaza.url);
        await page.locator("#tools [data-testid=notify]").waitFor();
        // What Chromium fires once Plaza is installable: the app keeps it
        // for its own button.
        const prevented = await page.evaluate(() => {
          const offer = new Event("beforeinstallprompt", { cancelable: true });
          Object.assign(offer, {
            prompt: () => {
              (globalThis as unknown as { prompted: boolean }).prompted = true;
              return Promise.resolve();
            },
          });
          dispatchEvent(offer);
          return offer.defaultPrevented;
        });
        assert.equal(prevented, true);
        const install = page.getByTestId("install");
        await install.waitFor();
        assert.deepEqual(await severeViolations(page), []);
        if (!dark) await screenshot(page, "phone-install");
        await install.click();
        await install.waitFor({ state: "detached" });
        assert.equal(
          await page.evaluate(() =>
            (globalThis as unknown as { prompted: boolean }).prompted
          ),
          true,
        );
        assert.equal(await page.getByTestId("ios-hint").count(), 0);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    }

    const iphone = await browser.newContext({
      ...PHONE,
      userAgent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
      bypassCSP: true,
    });
    try {
      const { page, errors } = await openLivePage(iphone, plaza.url);
      const hint = page.getByTestId("ios-hint");
      await hint.waitFor();
      assert.equal(
        await hint.locator("span").textContent(),
        "To install Plaza and get notifications, tap Share  then \u201cAdd to Home Screen\u201d.",
      );
      assert.deepEqual(await severeViolations(page), []);
      await screenshot(page, "phone-ios-hint");
      await page.getByRole("button", { name: "Dismiss the install hint" })
        .click();
      await hint.waitFor({ state: "detached" });
      await page.reload();
      await page.locator("#tools [data-testid=notify]").waitFor();
      assert.equal(await hint.count(), 0, "dismissed for good");
      assert.deepEqual(errors, []);
    } finally {
      await iphone.close();
    }
  });
});

Deno.test("browser: phone layout: safe-area insets, 44 px touch targets, and the composer stays above the keyboard", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 30);
    const context = await browser.newContext(PHONE);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      await page.locator("#tools [data-testid=notify]").waitFor();
      // A notched phone: 47 px status bar, 34 px home indicator.
      const cdp = await context.newCDPSession(page);
      await cdp.send("Emulation.setSafeAreaInsetsOverride", {
        insets: { top: 47, bottom: 34, left: 0, right: 0 },
      });
      const layout = await page.evaluate(() => {
        const top = document.querySelector(".topbar")!;
        const dock = document.querySelector(".dock")!;
        return {
          topPad: parseFloat(getComputedStyle(top).paddingTop),
          bottomPad: parseFloat(getComputedStyle(dock).paddingBottom),
          composerBottom: document.querySelector(".composer")!
            .getBoundingClientRect().bottom,
        };
      });
      assert.ok(
        layout.topPad >= 47,
        `header clears the notch: ${layout.topPad}`,
      );
      assert.ok(
        layout.bottomPad >= 34,
        `dock clears the home bar: ${layout.bottomPad}`,
      );
      assert.ok(layout.composerBottom <= 844 - 34);

      // A send that fails adds retry and discard buttons: measure them too.
      await context.route(
        "**/messages",
        (route) =>
          route.request().method() === "POST"
            ? route.fulfill({
              status: 400,
              json: { error: "Refused for the test." },
            })
            : route.fallback(),
      );
      await page.getByTestId("composer-input").fill("hello");
      await page.getByTestId("send-button").click();
      await page.getByTestId("retry-send").waitFor();
      const small = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>(
          "button, input, textarea, [role=switch], [tabindex='0']",
        )]
          .filter((el) => el.offsetParent !== null && !el.closest(".msg-text"))
          .map((el) => {
            const r = el.getBoundingClientRect();
            return {
              what: el.textContent || el.tagName,
              w: r.width,
              h: r.height,
            };
          })
          .filter((t) => t.w < 44 || t.h < 44)
      );
      assert.deepEqual(small, [], JSON.stringify(small));

      // A keyboard takes the bottom 336 px; with interactive-widget=
      // resizes-content Chromium shrinks the layout to what is left, as
      // this smaller viewport does.
      await page.setViewportSize({ width: 390, height: 844 - 336 });
      await page.waitForFunction(() => innerHeight === 508);
      const input = await page.getByTestId("composer-input").boundingBox();
      const header = await page.locator(".topbar").boundingBox();
      assert.ok(input && input.y + input.height <= 508, JSON.stringify(input));
      assert.ok(header && header.y >= 0);
      await cdp.detach();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: the header's buttons (Move name, Notify me, Install app) arriving with the lazy chunks move nothing, on a phone and a desktop, named or not", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await chatter(sql);
    const desktop = {
      viewport: { width: 1280, height: 800 },
      locale: "en-US",
      timezoneId: "UTC",
    };
    // How far the log moved, and the layout shifts the browser saw outside it.
    const seen: Record<string, { moved: number; shifts: string[] }> = {};
    const none = { moved: 0, shifts: [] };
    for (
      const [device, options] of [["phone", PHONE], [
        "desktop",
        desktop,
      ]] as const
    ) {
      for (const name of ["ada", null]) {
        const what = `${device}, ${name ?? "nameless"}`;
        const context = await browser.newContext(options);
        try {
          // The chunks wait until the page is live and measured.
          let release = () => {};
          const held = new Promise<void>((r) => (release = r));
          await context.route(
            /\/assets\/(pwa|extras)-\w+\.js$/,
            async (route) => {
              await held;
              await route.fallback();
            },
          );
          const { page, errors } = await openLivePage(context, plaza.url, name);
          await page.getByText("7 works.").waitFor();
          const logTop = () =>
            page.locator('[role="log"]').evaluate((e) =>
              e.getBoundingClientRect().top
            );
          const before = await logTop();
          await page.evaluate(() => {
            const w = globalThis as unknown as { shifts: string[] };
            w.shifts = [];
            new PerformanceObserver((list) => {
              for (const e of list.getEntries()) {
                // Inside the log the extras chunk adds its message
                // buttons; what counts here is everything else.
                const outside = (e as unknown as {
                  sources: { node: Node | null }[];
                }).sources.flatMap(({ node }) => {
                  const el = node instanceof Element
                    ? node
                    : node?.parentElement;
                  return el && !el.closest('[role="log"]')
                    ? [`${el.className}: ${el.textContent}`]
                    : [];
                });
                if (outside.length) w.shifts.push(outside.join(" | "));
              }
            }).observe({ type: "layout-shift" });
          });
          release();
          // The pwa chunk has started once it fits the page to the visual
          // viewport, in the same turn as it starts listening for install
          // offers.
          await page.waitForFunction(() =>
            document.documentElement.style.getPropertyValue(
              "--viewport-height",
            ) !== ""
          );
          if (name) await page.locator("#tools [data-testid=notify]").waitFor();
          await page.getByTestId("move-name").waitFor();
          await page.evaluate(() => {
            const offer = new Event("beforeinstallprompt", {
              cancelable: true,
            });
            Object.assign(offer, { prompt: () => Promise.resolve() });
            dispatchEvent(offer);
          });
          await page.getByTestId("install").waitFor();
          // Layout shifts are reported after the frame that made them.
          const shifts = await page.evaluate(() =>
            new Promise<string[]>((resolve) =>
              requestAnimationFrame(() =>
                setTimeout(() =>
                  resolve(
                    (globalThis as unknown as { shifts: string[] }).shifts,
                  )
                )
              )
            )
          );
          seen[what] = { moved: (await logTop()) - before, shifts };
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      }
    }
    assert.deepEqual(seen, {
      "phone, ada": none,
      "phone, nameless": none,
      "desktop, ada": none,
      "desktop, nameless": none,
    });
  });
});
