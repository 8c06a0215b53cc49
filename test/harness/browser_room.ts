import type { Browser } from "playwright-core";
import { launchChromium, withBuiltClient } from "./browser.ts";
import { startTestInstance, withTestDatabase } from "./fixtures.ts";
import type { Plaza } from "../../server/plaza.ts";

/** Runs fn with a fresh database, a built client, a server (with `env` on top) and a browser; closes all of them after. */
export function withRoom(
  fn: (plaza: Plaza, browser: Browser) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  return withBuiltClient((dist) =>
    withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { DIST_DIR: dist, ...env });
      const browser = await launchChromium();
      try {
        await fn(plaza, browser);
      } finally {
        await browser.close();
        await plaza.close();
      }
    })
  );
}
