// Plaza's notifications, in a real Chromium against a real server and
// Postgres: a push shown as a notification and its click leading to the
// message, and the "Notify me" switch against the push HTTP contract.
// With PLAZA_SCREENSHOTS=<dir> it also saves the phone screenshots in docs/push.md.
// Run by `deno task test`; needs Debian's Chromium at /usr/bin/chromium. Each
// test builds the client into a temporary directory (see pwa_room.ts).
import assert from "node:assert/strict";
import type { BrowserContext, Route } from "playwright-core";
import {
  clickShownNotification,
  highlighted,
  openLivePage,
  recordHighlights,
  serviceWorkerRegistration,
} from "../harness/browser.ts";
import { seedMessages } from "../harness/fixtures.ts";
import {
  chatter,
  controlled,
  PHONE,
  screenshot,
  severeViolations,
  withRoom,
} from "../harness/pwa_room.ts";
import { withDeadline } from "../harness/wait.ts";

/** How long a call to the push endpoints may take to come once the page should make it. */
const CALL_TIMEOUT_MS = 10_000;

Deno.test("browser: a push shows a notification; its click brings the open Plaza to the message, and a new window opens at it", async () => {
  await withRoom(async ({ plaza, sql, browser }) => {
    await seedMessages(sql, 80);
    const context = await browser.newContext(PHONE);
    await context.grantPermissions(["notifications"], { origin: plaza.url });
    await recordHighlights(context);
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

      // What the server's push carries (server/push/payload.ts).
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: `${plaza.url}/`,
        registrationId: id,
        data: JSON.stringify({
          title: "bot: @ada",
          body: "message 35",
          tag: "plaza-mention",
          url: `/m/${target}`,
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
        data: { url: `/m/${target}` },
      });
      assert.match(icon, /\/assets\/icon-192-[0-9a-f]{8}\.png$/);

      // The click (see clickShownNotification): the window is told, and
      // scrolls to and highlights the message.
      await clickShownNotification(context);
      const message = page.locator(
        `[data-testid="message"][data-id="${target}"]`,
      );
      await highlighted(page, target);
      assert.equal(
        await message.evaluate((el) => el === document.activeElement),
        true,
      );
      assert.equal(
        await page.evaluate(() => location.pathname),
        `/m/${target}`,
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

      // What clients.openWindow(url) opens: Plaza at the message; and the
      // address older notifications carry.
      for (const path of [`/m/${target}`, `/#message-${target}`]) {
        const other = await context.newPage();
        await other.goto(`${plaza.url}${path}`);
        await highlighted(other, target);
        assert.equal(
          await other.evaluate(() => location.pathname),
          `/m/${target}`,
        );
        await other.close();
      }
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
      const first = (await withDeadline(
        firstReport,
        CALL_TIMEOUT_MS,
        "the first POST /push/visibility",
      )).body as {
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
      const renamed = await withDeadline(
        resent,
        CALL_TIMEOUT_MS,
        "POST /push/subscriptions again after the rename",
      );
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
