// The whole push loop across the client/server seam, in a real Chromium:
// the page's "Notify me" stores a subscription on the real server, the tab
// reports itself hidden, a message mentioning the reader is posted, the
// server encrypts and sends a notification to a test push service
// (server/testing/push_service.ts, which checks VAPID and decrypts it), and
// that very payload, delivered to the page's service worker through the
// DevTools protocol, shows the notification whose click opens the message.
//
// Two legs are stood in for, because headless Chromium has no push service:
// the subscription itself (made by the test push service, with real keys,
// and handed to the page by a stub PushManager) and the push service's
// delivery to the browser (ServiceWorker.deliverPushMessage). The click is
// dispatched in the worker by the test, as in pwa_push_e2e_test.ts.
import assert from "node:assert/strict";
import {
  clickShownNotification,
  highlighted,
  launchChromium,
  recordHighlights,
  serviceWorkerRegistration,
  withBuiltClient,
} from "../harness/browser.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import {
  startTestPushService,
  type SubscriptionJson,
} from "../harness/push_service.ts";

/** In the page: a PushManager whose subscription is `json`, made elsewhere. */
function stubPushManager(json: SubscriptionJson) {
  let current: PushSubscription | null = null;
  PushManager.prototype.getSubscription = () => Promise.resolve(current);
  PushManager.prototype.subscribe = (options) => {
    const key = options?.applicationServerKey as Uint8Array;
    current = {
      endpoint: json.endpoint,
      expirationTime: null,
      options: {
        applicationServerKey: key.slice().buffer,
        userVisibleOnly: true,
      },
      getKey: () => null,
      toJSON: () => ({ ...json, expirationTime: null }),
      unsubscribe: () => {
        current = null;
        return Promise.resolve(true);
      },
    } as PushSubscription;
    return Promise.resolve(current);
  };
}

Deno.test("browser: Notify me on the real server, a mention while the tab is hidden, the server's notification shown and opened at the message", async () => {
  const pushService = startTestPushService();
  try {
    await withBuiltClient((dist) =>
      withTestDatabase(async (url) => {
        const plaza = await startTestInstance(url, {
          DIST_DIR: dist,
          PUSH_ALLOW_INSECURE_ENDPOINTS: "true",
        });
        const browser = await launchChromium();
        try {
          const subscription = await pushService.subscribe();
          const json: SubscriptionJson = {
            endpoint: subscription.endpoint,
            keys: subscription.keys,
          };
          const context = await browser.newContext({
            viewport: { width: 390, height: 844 },
          });
          await context.grantPermissions(["notifications"], {
            origin: plaza.url,
          });
          await context.addInitScript(stubPushManager, json);
          await recordHighlights(context);
          await context.addInitScript(() =>
            localStorage.setItem("plaza.name", "ada")
          );
          const page = await context.newPage();
          const errors: string[] = [];
          page.on("pageerror", (e) => errors.push(e.message));
          await page.goto(plaza.url);
          await page.locator('[data-testid="status"][data-status="live"]')
            .waitFor();
          await page.evaluate(async () => {
            await navigator.serviceWorker.ready;
          });

          // On: the real server accepts the subscription (else "on" is not shown).
          const visible = page.waitForResponse((r) =>
            r.url().endsWith("/push/visibility") &&
            r.request().postDataJSON().visible === true
          );
          await page.locator('[data-testid="notify"][data-state="off"]')
            .click();
          await page.locator('[data-testid="notify"][data-state="on"]')
            .waitFor();
          assert.equal((await visible).status(), 204);

          // Headless tabs are always visible: the test makes this one say
          // it is hidden, as switching away would.
          const hidden = page.waitForResponse((r) =>
            r.url().endsWith("/push/visibility") &&
            r.request().postDataJSON().visible === false
          );
          await page.evaluate(() => {
            Object.defineProperty(document, "hidden", { value: true });
            document.dispatchEvent(new Event("visibilitychange"));
          });
          assert.equal((await hidden).status(), 204);

          const mention = await postJson(
            plaza.url,
            "bob",
            "@ada the demo starts at 7, bring the projector",
          );
          await pushService.waitForCount(1, json.endpoint);
          const [received] = pushService.receivedBy(json.endpoint);
          assert.deepEqual(
            {
              url: (received.payload as { url: string }).url,
              messageId: (received.payload as { messageId: number }).messageId,
            },
            { url: `/m/${mention.id}`, messageId: mention.id },
          );

          // The push service's delivery to the browser, with what it got.
          const { cdp, id } = await serviceWorkerRegistration(
            context,
            context.pages()[0],
            `${plaza.url}/`,
          );
          await cdp.send("ServiceWorker.deliverPushMessage", {
            origin: `${plaza.url}/`,
            registrationId: id,
            data: received.text,
          });
          const shown = await page.waitForFunction(async () => {
            const reg = await navigator.serviceWorker.ready;
            const [n] = await reg.getNotifications();
            return n ? { title: n.title, body: n.body, data: n.data } : null;
          });
          const notification = (await shown.jsonValue())!;
          const sent = received.payload as { title: string; body: string };
          assert.equal(notification.title, sent.title);
          assert.equal(notification.body, sent.body);
          assert.match(notification.body, /the demo starts at 7/);
          assert.deepEqual(notification.data, {
            url: `/m/${mention.id}`,
          });

          await clickShownNotification(context);
          await highlighted(page, mention.id);
          assert.equal(
            await page.evaluate(() => location.pathname),
            `/m/${mention.id}`,
          );
          await cdp.detach();
          assert.deepEqual(errors, []);
          await context.close();
        } finally {
          await browser.close();
          await plaza.close();
        }
      })
    );
  } finally {
    await pushService.close();
  }
});
