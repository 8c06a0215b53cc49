import {
  type Browser,
  type BrowserContext,
  type CDPSession,
  chromium,
  type Page,
} from "playwright-core";
import { buildClient } from "../build_client.ts";

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
