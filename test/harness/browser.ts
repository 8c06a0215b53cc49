import {
  type Browser,
  type BrowserContext,
  type CDPSession,
  chromium,
  type Page,
} from "playwright-core";
import { buildClient } from "../../tools/build_client.ts";

/** Debian's Chromium; browser tests never download one. */
export const CHROMIUM = "/usr/bin/chromium";

// Headless as root, and quiet: without the networking flags Chromium keeps
// trying to reach Google's hosts, which this closed network refuses.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Launches the headless Chromium the browser tests use; close it when done. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Builds the client into a temporary directory for `fn`, then removes it. */
export async function withBuiltClient<T>(
  fn: (dist: string) => Promise<T>,
): Promise<T> {
  const dist = await Deno.makeTempDir({ prefix: "plaza_client_" });
  try {
    await buildClient({ outDir: dist });
    return await fn(dist);
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
}

/** A DevTools session on `page` and the registration id of the service worker for `scope` (for ServiceWorker.deliverPushMessage). */
export async function serviceWorkerRegistration(
  context: BrowserContext,
  page: Page,
  scope: string,
): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await context.newCDPSession(page);
  const found = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const r = registrations.find((r) => r.scopeURL === scope && !r.isDeleted);
      if (r) resolve(r.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  return { cdp, id: await found };
}

/**
 * Records, in every page of `context` from before the page's own scripts
 * run, which messages were highlighted (given the class `flash`). The
 * highlight lasts seconds, and on a busy machine a page can take longer than
 * that to load and go live, so a test looking for the class afterwards could
 * miss it; highlighted() waits on this record instead.
 */
export async function recordHighlights(
  context: BrowserContext,
): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[] = [];
    Object.defineProperty(globalThis, "plazaHighlighted", { value: seen });
    new MutationObserver((records) => {
      for (const { target } of records) {
        if (target instanceof Element && target.classList.contains("flash")) {
          seen.push(target.getAttribute("data-id") ?? "");
        }
      }
    }).observe(document, {
      subtree: true,
      attributes: true,
      attributeFilter: ["class"],
    });
  });
}

/** Waits until message `id` has been highlighted in `page` (its context under recordHighlights). */
export async function highlighted(page: Page, id: number): Promise<void> {
  await page.waitForFunction(
    (id) =>
      (globalThis as { plazaHighlighted?: string[] }).plazaHighlighted
        ?.includes(String(id)) ?? false,
    id,
  );
}

/** Opens `url` in a new page of `context` as `name` (none: the name prompt shows), waits until the stream is live, and collects page errors. */
export async function openLivePage(
  context: BrowserContext,
  url: string,
  name: string | null = "ada",
  beforeLoad?: (page: Page) => Promise<void>,
): Promise<{ page: Page; errors: string[] }> {
  if (name !== null) {
    await context.addInitScript(
      (n) => localStorage.setItem("plaza.name", n),
      name,
    );
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await beforeLoad?.(page);
  await page.goto(url);
  await page.locator('[data-testid="status"][data-status="live"]').waitFor();
  return { page, errors };
}

/**
 * Dispatches `notificationclick` in the context's service worker for the
 * first notification it shows, so the worker's real listener runs on the
 * real notification. Headless Chromium has no notification to click; such
 * an event lacks a user's gesture, so focus() and openWindow() in it are
 * refused (client/sw/notifications_test.ts covers those).
 */
export async function clickShownNotification(
  context: BrowserContext,
): Promise<void> {
  const [worker] = context.serviceWorkers();
  await worker.evaluate(async () => {
    const scope = globalThis as unknown as {
      registration: ServiceWorkerRegistration;
      NotificationEvent: new (
        type: string,
        init: { notification: Notification },
      ) => Event;
    };
    const [n] = await scope.registration.getNotifications();
    globalThis.dispatchEvent(
      new scope.NotificationEvent("notificationclick", { notification: n }),
    );
  });
}
