// Plaza as an installable app, in a real Chromium against a real server and
// Postgres (issue 6): the manifest and icons, the service worker's cache and
// offline start with the saved messages, a new version taking over, a push
// shown as a notification and its click leading to the message, the
// "Notify me" switch against the push HTTP contract, the install button and
// iOS hint, and the phone layout (safe areas, 44 px targets, keyboard).
// With PLAZA_SCREENSHOTS=<dir> it also saves the README's phone screenshots.
// Run by `deno task test`; needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import { join } from "node:path";
import axe from "axe-core";
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Page,
  Route,
} from "playwright-core";
import postgres from "postgres";
import { buildClient, type BuildResult } from "../server/build_client.ts";
import {
  clickShownNotification,
  launchChromium,
  openLivePage,
  serviceWorkerRegistration,
} from "../server/testing/browser.ts";
import {
  postJson,
  seedMessages,
  startTestInstance,
  withTestDatabase,
} from "../server/testing/fixtures.ts";
import type { Plaza } from "../server/plaza.ts";

const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: "en-US",
  timezoneId: "UTC",
};
const SHOTS = Deno.env.get("PLAZA_SCREENSHOTS");

/** What each test gets: a built client, a server on it, SQL, a browser. */
interface Room {
  dist: string;
  build: BuildResult;
  plaza: Plaza;
  dbUrl: string;
  sql: postgres.Sql;
  browser: Browser;
}

async function withRoom(fn: (room: Room) => Promise<void>): Promise<void> {
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
async function chatter(sql: postgres.Sql) {
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
function controlled(page: Page): Promise<void> {
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

/**
 * In the page: waits until the saved copy in IndexedDB ends with message
 * `last` (it is saved a second after the list settles), then returns how
 * many messages it holds.
 */
async function savedCopy(last: number): Promise<number> {
  const read = () =>
    new Promise<{ id: number }[]>((resolve) => {
      const open = indexedDB.open("plaza");
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("saved")) {
          db.close();
          return resolve([]);
        }
        const get = db.transaction("saved").objectStore("saved").get("latest");
        get.onsuccess = () => {
          db.close();
          resolve(get.result ?? []);
        };
      };
    });
  for (;;) {
    // Opening a database that does not exist would create it, empty.
    const dbs = await indexedDB.databases();
    const list = dbs.some((d) => d.name === "plaza") ? await read() : [];
    if (list.at(-1)?.id === last) return list.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs axe-core; returns its serious and critical findings. */
async function severeViolations(page: Page): Promise<string[]> {
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

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes: Uint8Array): [number, number] {
  assert.deepEqual([...bytes.slice(1, 4)], [80, 78, 71], "a PNG");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("browser: the manifest is complete, its icons have their sizes, and Chromium finds Plaza installable", async () => {
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

Deno.test("browser: the worker caches the app shell and nothing else; offline, Plaza opens from it with the saved messages", async () => {
  await withRoom(async ({ plaza, build, sql, browser }) => {
    await seedMessages(sql, 114);
    await chatter(sql); // messages 115 to 120
    const context = await browser.newContext(PHONE);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      await page.getByText("Same place as last time.").waitFor();
      // The stream brings the latest 50; scrolling up fetches the rest.
      while (!await page.getByText("message 1", { exact: true }).count()) {
        const shown = await page.getByTestId("message").count();
        await page.locator('[role="log"]').evaluate((el) => (el.scrollTop = 0));
        await page.waitForFunction(
          (n) =>
            document.querySelectorAll('[data-testid="message"]').length > n,
          shown,
        );
      }
      await controlled(page);
      // The list is saved a second after it settles: wait until it is.
      assert.equal(await page.evaluate(savedCopy, 120), 100);

      // The API is used, but never cached: the one cache holds the shell.
      const cached = await page.evaluate(async () => {
        await (await fetch("/messages?limit=1")).json();
        const names = await caches.keys();
        const cache = await caches.open(names[0]);
        return {
          names,
          paths: (await cache.keys()).map((r) => new URL(r.url).pathname),
        };
      });
      assert.deepEqual(cached.names, [build.cacheName]);
      const shell = [
        "/",
        "/manifest.webmanifest",
        ...build.files.filter((f) => f.startsWith("assets/")).map((f) =>
          `/${f}`
        ),
      ];
      assert.deepEqual(cached.paths.sort(), shell.sort());
      assert.ok(build.files.some((f) => /^assets\/pwa-/.test(f)));

      // Offline: a message posted meanwhile cannot arrive, and the page
      // still opens, from the cache, with the last 100 messages it saw.
      await context.setOffline(true);
      await postJson(plaza.url, "bob", "sent while you were offline");
      const reload = await page.reload();
      assert.ok(reload?.fromServiceWorker(), "the shell came from the worker");
      await page.locator('[data-testid="status"][data-status="offline"]')
        .waitFor();
      await page.getByTestId("saved-note").waitFor();
      await page.getByText("Same place as last time.").waitFor();
      const texts = await page.getByTestId("message-text").allTextContents();
      assert.equal(texts.length, 100);
      assert.equal(texts[0], "message 21");
      assert.equal(texts.at(-1), "7 works. Same place as last time.");
      assert.ok(!texts.includes("sent while you were offline"));
      assert.equal(await page.getByText("Loading older messages").count(), 0);
      assert.equal(
        await page.getByTestId("status").textContent(),
        "Offline",
      );
      await screenshot(page, "phone-offline");

      // Back online, the server's messages replace the saved copy.
      await context.setOffline(false);
      await page.getByText("sent while you were offline").waitFor();
      await page.locator('[data-testid="status"][data-status="live"]')
        .waitFor();
      await page.getByTestId("saved-note").waitFor({ state: "detached" });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

/** Builds the client from a copy of the repository whose main.tsx differs, as a new release would. */
async function buildNewRelease(outDir: string): Promise<BuildResult> {
  const repo = new URL("../", import.meta.url).pathname;
  const root = await Deno.makeTempDir({ prefix: "plaza_release_" });
  try {
    await Deno.mkdir(join(root, "server"));
    for (
      const file of ["server/message.ts", "server/name_rules.ts", "deno.lock"]
    ) {
      await Deno.copyFile(join(repo, file), join(root, file));
    }
    await Deno.symlink(join(repo, "node_modules"), join(root, "node_modules"));
    await new Deno.Command("cp", {
      args: ["-r", join(repo, "client"), join(root, "client")],
    }).output();
    const main = join(root, "client/main.tsx");
    await Deno.writeTextFile(
      main,
      (await Deno.readTextFile(main)) +
        '\nexport const RELEASE = "the next one";\n',
    );
    return await buildClient({ root, outDir });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("browser: a new release takes over: a new cache, the old one deleted, and the open page offers a reload", async () => {
  await withRoom(async (room) => {
    const context = await room.browser.newContext(PHONE);
    try {
      const { page, errors } = await openLivePage(context, room.plaza.url);
      await controlled(page);
      assert.deepEqual(
        await page.evaluate(() => caches.keys()),
        [room.build.cacheName],
      );

      // Deploy: the next build, served on the same origin.
      const next = await buildNewRelease(room.dist);
      assert.notEqual(next.cacheName, room.build.cacheName);
      assert.notEqual(next.js.path, room.build.js.path);
      const port = String(room.plaza.port);
      await room.plaza.close();
      room.plaza = await startTestInstance(room.dbUrl, {
        DIST_DIR: room.dist,
        PORT: port,
      });

      // Browsers look for a new worker on navigations and now and then;
      // update() is that check, now.
      await page.evaluate(async () => {
        const sw = navigator.serviceWorker;
        const taken = new Promise((r) =>
          sw.addEventListener("controllerchange", r, { once: true })
        );
        const registration = await sw.ready;
        await registration.update();
        await taken;
        // Taking over starts the activation, which deletes the old cache.
        const worker = registration.active!;
        if (worker.state !== "activated") {
          await new Promise<void>((resolve) =>
            worker.addEventListener("statechange", () => {
              if (worker.state === "activated") resolve();
            })
          );
        }
      });
      assert.deepEqual(
        await page.evaluate(() => caches.keys()),
        [next.cacheName],
      );
      // This page still runs the old code: it says so.
      const reload = page.getByTestId("reload");
      await reload.waitFor();
      await Promise.all([page.waitForEvent("load"), reload.click()]);
      await page.locator('[data-testid="status"][data-status="live"]')
        .waitFor();
      assert.equal(
        await page.locator('script[type="module"]').getAttribute("src"),
        `/${next.js.path}`,
      );
      await page.locator("#tools").waitFor({ state: "attached" });
      assert.equal(await page.getByTestId("reload").count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: a push shows a notification; its click brings the open Plaza to the message, and a new window opens at it", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 80);
    const context = await browser.newContext(PHONE);
    await context.grantPermissions(["notifications"], { origin: plaza.url });
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      await page.getByText("message 80", { exact: true }).waitFor();
      await controlled(page);
      const { cdp, id } = await serviceWorkerRegistration(
        context,
        page,
        `${plaza.url}/`,
      );
      const target = Number(
        await page.getByTestId("message").filter({
          has: page.getByText("message 35", { exact: true }),
        }).getAttribute("data-id"),
      );

      // What the server's push carries (server/push_payload.ts).
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: `${plaza.url}/`,
        registrationId: id,
        data: JSON.stringify({
          title: "bot: @ada",
          body: "message 35",
          tag: "plaza-mention",
          url: `/#message-${target}`,
          messageId: target,
        }),
      });
      const shown = await page.waitForFunction(async () => {
        const reg = await navigator.serviceWorker.ready;
        const list = await reg.getNotifications();
        return list.length
          ? list.map((n) => ({
            title: n.title,
            body: n.body,
            tag: n.tag,
            data: n.data,
            icon: n.icon,
          }))
          : null;
      });
      const [notification, ...more] = (await shown.jsonValue())!;
      assert.deepEqual(more, []);
      const { icon, ...shownText } = notification;
      assert.deepEqual(shownText, {
        title: "bot: @ada",
        body: "message 35",
        tag: "plaza-mention",
        data: { url: `/#message-${target}` },
      });
      assert.match(icon, /\/assets\/icon-192-[0-9a-f]{8}\.png$/);

      // The click (see clickShownNotification): the window is told, and
      // scrolls to and highlights the message.
      await clickShownNotification(context);
      const message = page.locator(
        `[data-testid="message"][data-id="${target}"]`,
      );
      await page.locator(`.flash[data-id="${target}"]`).waitFor();
      assert.equal(
        await message.evaluate((el) => el === document.activeElement),
        true,
      );
      assert.equal(
        await page.evaluate(() => location.hash),
        `#message-${target}`,
      );
      const inView = await message.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const log = el.closest('[role="log"]')!.getBoundingClientRect();
        return box.top >= log.top && box.bottom <= log.bottom;
      });
      assert.ok(inView, "the message is scrolled into view");
      // The click closed the notification.
      assert.equal(
        await page.evaluate(async () =>
          (await (await navigator.serviceWorker.ready).getNotifications())
            .length
        ),
        0,
      );
      await screenshot(page, "phone-notification-opened");

      // What clients.openWindow(url) opens: Plaza at the message.
      const second = await context.newPage();
      await second.goto(`${plaza.url}/#message-${target}`);
      await second.locator(`.flash[data-id="${target}"]`).waitFor();
      await cdp.detach();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

/** Stands in for the push service: headless Chromium has none to subscribe with. */
function fakePushService() {
  const w = globalThis as unknown as {
    plazaTest: { permissionAsks: number; unsubscribed: number };
  };
  w.plazaTest = { permissionAsks: 0, unsubscribed: 0 };
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = () => {
    w.plazaTest.permissionAsks++;
    return ask();
  };
  let current: PushSubscription | null = null;
  PushManager.prototype.getSubscription = () => Promise.resolve(current);
  PushManager.prototype.subscribe = (options) => {
    const key = options?.applicationServerKey as Uint8Array;
    const endpoint = "https://push.example.test/send/abc123";
    current = {
      endpoint,
      expirationTime: null,
      options: {
        applicationServerKey: key.slice().buffer,
        userVisibleOnly: true,
      },
      getKey: () => null,
      toJSON: () => ({
        endpoint,
        expirationTime: null,
        keys: { p256dh: "BPUBLICKEY", auth: "AUTHSECRET" },
      }),
      unsubscribe: () => {
        current = null;
        w.plazaTest.unsubscribed++;
        return Promise.resolve(true);
      },
    } as PushSubscription;
    return Promise.resolve(current);
  };
}

/** One request to the push endpoints. */
interface PushCall {
  method: string;
  path: string;
  body: unknown;
}

/** The push endpoints as the HTTP contract describes them, recording each call; `next` waits for a matching one. */
async function fakePushRoutes(context: BrowserContext, keyStatus = 200) {
  const calls: PushCall[] = [];
  const waiting: [(c: PushCall) => boolean, (c: PushCall) => void][] = [];
  const next = (match: (c: PushCall) => boolean) =>
    new Promise<PushCall>((resolve) => waiting.push([match, resolve]));
  const publicKey = btoa(String.fromCharCode(...new Uint8Array(65).fill(4)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  await context.route("**/push/**", (route: Route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname;
    const call = {
      method: request.method(),
      path,
      body: request.postData() ? request.postDataJSON() : undefined,
    };
    calls.push(call);
    for (const [i, [match, resolve]] of waiting.entries()) {
      if (match(call)) {
        waiting.splice(i, 1);
        resolve(call);
        break;
      }
    }
    if (path === "/push/key") {
      return keyStatus === 200
        ? route.fulfill({ json: { publicKey } })
        : route.fulfill({ status: keyStatus, json: { error: "Not found." } });
    }
    if (request.method() === "POST" && path === "/push/subscriptions") {
      return route.fulfill({ status: 201, json: { ok: true } });
    }
    return route.fulfill({ status: 204 });
  });
  return { calls, next, publicKey };
}

Deno.test("browser: Notify me asks permission only when clicked, subscribes, sends the name again on a rename, reports visibility and turns off", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await chatter(sql);
    const context = await browser.newContext({ ...PHONE, bypassCSP: true });
    await context.grantPermissions(["notifications"], { origin: plaza.url });
    await context.addInitScript(fakePushService);
    const { calls, next, publicKey } = await fakePushRoutes(context);
    const firstReport = next((c) => c.path === "/push/visibility");
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      const notify = page.getByTestId("notify");
      await page.locator('[data-testid="notify"][data-state="off"]').waitFor();
      assert.equal(await notify.getAttribute("role"), "switch");
      assert.equal(await notify.getAttribute("aria-checked"), "false");
      assert.equal(await notify.textContent(), "Notify meoff");
      const asks = () =>
        page.evaluate(() =>
          (globalThis as unknown as { plazaTest: { permissionAsks: number } })
            .plazaTest.permissionAsks
        );
      assert.equal(await asks(), 0, "no permission asked before the click");

      await notify.click();
      await page.locator('[data-testid="notify"][data-state="on"]').waitFor();
      assert.equal(await notify.getAttribute("aria-checked"), "true");
      assert.equal(await asks(), 1);
      const posted = calls.find((c) => c.path === "/push/subscriptions");
      assert.deepEqual(posted, {
        method: "POST",
        path: "/push/subscriptions",
        body: {
          subscription: {
            endpoint: "https://push.example.test/send/abc123",
            expirationTime: null,
            keys: { p256dh: "BPUBLICKEY", auth: "AUTHSECRET" },
          },
          name: "ada",
        },
      });
      // Subscribed with the server's key.
      const key = await page.evaluate(async () => {
        const sub = await (await navigator.serviceWorker.ready).pushManager
          .getSubscription();
        const bytes = new Uint8Array(sub!.options.applicationServerKey!);
        return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
          .replace(/\//g, "_").replace(/=+$/, "");
      });
      assert.equal(key, publicKey);
      // The tab is visible: the server hears so at once.
      const first = (await firstReport).body as {
        endpoint: string;
        tab: string;
        visible: boolean;
      };
      assert.equal(first.endpoint, "https://push.example.test/send/abc123");
      assert.equal(first.visible, true);
      assert.match(first.tab, /^[0-9a-f-]{36}$/);

      const violations = await severeViolations(page);
      assert.deepEqual(violations, []);

      // A new name reaches the server with the same subscription.
      const resent = next((c) => c.path === "/push/subscriptions");
      await page.getByTestId("change-name").click();
      await page.getByTestId("name-input").fill("ada lovelace");
      await page.getByTestId("name-submit").click();
      const renamed = await resent;
      assert.equal((renamed.body as { name: string }).name, "ada lovelace");

      // Off: deleted on the server and in the browser.
      await notify.click();
      await page.locator('[data-testid="notify"][data-state="off"]').waitFor();
      assert.deepEqual(calls.at(-1), {
        method: "DELETE",
        path: "/push/subscriptions",
        body: { endpoint: "https://push.example.test/send/abc123" },
      });
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as { plazaTest: { unsubscribed: number } })
            .plazaTest.unsubscribed
        ),
        1,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

Deno.test("browser: Notify me says blocked when the browser denies notifications, and unavailable when the server has no push (404)", async () => {
  await withRoom(async ({ plaza, browser }) => {
    const denied = await browser.newContext(PHONE);
    try {
      const page = await denied.newPage();
      const cdp = await denied.newCDPSession(page);
      const { targetInfo } = await cdp.send("Target.getTargetInfo");
      await cdp.send("Browser.setPermission", {
        permission: { name: "notifications" },
        setting: "denied",
        origin: plaza.url,
        browserContextId: targetInfo.browserContextId,
      });
      // Kept attached: Chromium drops the override with the session.
      await denied.addInitScript(() =>
        localStorage.setItem("plaza.name", "ada")
      );
      await page.goto(plaza.url);
      const blocked = page.locator(
        '[data-testid="notify"][data-state="blocked"]',
      );
      await blocked.waitFor();
      assert.equal(await blocked.textContent(), "Notifications blocked");
      await cdp.detach();
    } finally {
      await denied.close();
    }

    const context = await browser.newContext(PHONE);
    await context.grantPermissions(["notifications"], { origin: plaza.url });
    await context.addInitScript(fakePushService);
    const { calls } = await fakePushRoutes(context, 404);
    try {
      const { page, errors } = await openLivePage(context, plaza.url);
      const none = page.locator(
        '[data-testid="notify"][data-state="unavailable"]',
      );
      await none.waitFor();
      assert.equal(await none.textContent(), "Notifications unavailable");
      assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), [
        "GET /push/key",
      ]);
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as { plazaTest: { permissionAsks: number } })
            .plazaTest.permissionAsks
        ),
        0,
      );
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
