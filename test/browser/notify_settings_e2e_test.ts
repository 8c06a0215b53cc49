// This device's notification settings in a real Chromium against the real
// server: the control next to "Notify me" changes what the subscription
// stored in Postgres is notified of, mutes it for an hour and unmutes it,
// and axe finds nothing serious in it. The subscription comes from the test
// push service through a stub PushManager, as in push_loop_e2e_test.ts.
import assert from "node:assert/strict";
import axe from "axe-core";
import postgres from "postgres";
import type { Page } from "playwright-core";
import {
  launchChromium,
  openLivePage,
  withBuiltClient,
} from "../harness/browser.ts";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
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

/** Waits for the page's next PATCH /push/subscriptions and gives its status. */
function patched(page: Page): Promise<number> {
  const status = page.waitForResponse((r) =>
    r.url().endsWith("/push/subscriptions") &&
    r.request().method() === "PATCH"
  ).then((r) => r.status());
  // A step that fails before this is awaited closes the page: that step's
  // error is the one to report.
  status.catch(() => {});
  return status;
}

async function seriousViolations(page: Page): Promise<string[]> {
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

Deno.test("browser: the notification settings change the subscription's mode and mute on the server", async () => {
  const pushService = startTestPushService();
  try {
    await withBuiltClient((dist) =>
      withTestDatabase(async (url) => {
        const plaza = await startTestInstance(url, {
          DIST_DIR: dist,
          PUSH_ALLOW_INSECURE_ENDPOINTS: "true",
        });
        const sql = postgres(url, { onnotice: () => {} });
        const browser = await launchChromium();
        try {
          const subscription = await pushService.subscribe();
          const json: SubscriptionJson = {
            endpoint: subscription.endpoint,
            keys: subscription.keys,
          };
          const stored = async () => {
            const [row] = await sql<
              { mode: string; muted_until: Date | null }[]
            >`select mode, muted_until from push_subscriptions
              where endpoint = ${json.endpoint}`;
            return row;
          };
          const context = await browser.newContext({
            viewport: { width: 390, height: 844 },
            bypassCSP: true,
          });
          await context.grantPermissions(["notifications"], {
            origin: plaza.url,
          });
          await context.addInitScript(stubPushManager, json);
          const { page, errors } = await openLivePage(context, plaza.url);
          // No settings while notifications are off.
          await page.locator('[data-testid="notify"][data-state="off"]')
            .click();
          await page.locator('[data-testid="notify"][data-state="on"]')
            .waitFor();
          assert.deepEqual(await stored(), { mode: "all", muted_until: null });

          const toggle = page.getByTestId("notify-settings-toggle");
          assert.equal(await toggle.getAttribute("aria-expanded"), "false");
          await toggle.click();
          const panel = page.getByRole("group", {
            name: "Notify this device of",
          });
          await panel.waitFor();
          assert.equal(
            await panel.getByRole("radio", { name: "Every message" })
              .isChecked(),
            true,
          );

          let done = patched(page);
          await panel.getByRole("radio", { name: "Mentions and replies" })
            .check();
          assert.equal(await done, 200);
          assert.equal((await stored()).mode, "mentions");

          done = patched(page);
          const before = Date.now();
          await panel.getByRole("button", { name: "Mute for an hour" })
            .click();
          assert.equal(await done, 200);
          const until = (await stored()).muted_until!.getTime();
          assert.ok(
            until >= before + 3_590_000 && until <= Date.now() + 3_600_000,
            `muted until ${new Date(until).toISOString()}`,
          );
          await page.getByTestId("muted-until").waitFor();
          assert.match(
            (await page.getByTestId("muted-until").textContent())!,
            /^Muted until \d\d:\d\d/,
          );
          assert.deepEqual(await seriousViolations(page), []);
          const shots = Deno.env.get("PLAZA_SCREENSHOTS");
          if (shots) {
            await page.screenshot({ path: `${shots}/notify_settings.png` });
          }

          done = patched(page);
          await panel.getByRole("button", { name: "Unmute" }).click();
          assert.equal(await done, 200);
          assert.deepEqual(await stored(), {
            mode: "mentions",
            muted_until: null,
          });
          await panel.getByRole("button", { name: "Mute for an hour" })
            .waitFor();

          // Nothing at all, kept on this device too.
          done = patched(page);
          await panel.getByRole("radio", { name: "Nothing" }).check();
          assert.equal(await done, 200);
          assert.equal((await stored()).mode, "none");
          assert.deepEqual(
            JSON.parse(
              (await page.evaluate(() =>
                localStorage.getItem("plaza.notifySettings")
              ))!,
            ),
            { mode: "none", mutedUntil: null },
          );
          assert.deepEqual(errors, []);
          await context.close();
        } finally {
          await browser.close();
          await sql.end({ timeout: 1 });
          await plaza.close();
        }
      })
    );
  } finally {
    await pushService.close();
  }
});
