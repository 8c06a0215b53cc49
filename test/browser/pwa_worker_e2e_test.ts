// Plaza's service worker, in a real Chromium against a real server and
// Postgres: it caches the app shell and nothing else, Plaza starts offline
// from it with the saved messages, and a new release takes over.
// With PLAZA_SCREENSHOTS=<dir> it also saves the phone screenshots in docs/push.md.
// Run by `deno task test`; needs Debian's Chromium at /usr/bin/chromium. Each
// test builds the client into a temporary directory (see pwa_room.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildClient, type BuildResult } from "../../tools/build_client.ts";
import { openLivePage } from "../harness/browser.ts";
import {
  postJson,
  seedMessages,
  startTestInstance,
} from "../harness/fixtures.ts";
import {
  chatter,
  controlled,
  PHONE,
  screenshot,
  withRoom,
} from "../harness/pwa_room.ts";
import { until } from "../harness/wait.ts";

/** How long the saved copy may take: it is written a second after the list settles, later on a busy machine. */
const SAVED_COPY_TIMEOUT_MS = 30_000;

/** In the page: the ids of the saved copy in IndexedDB (none when there is none). */
async function savedIds(): Promise<number[]> {
  // Opening a database that does not exist would create it, empty.
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === "plaza")) return [];
  const list = await new Promise<{ id: number }[]>((resolve) => {
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
  return list.map((m) => m.id);
}

/**
 * Waits until the page's saved copy ends with message `last` and holds at
 * least `least` messages (an earlier, shorter copy may be there first), then
 * returns how many it holds; fails after SAVED_COPY_TIMEOUT_MS.
 */
async function savedCopy(
  page: Page,
  last: number,
  least: number,
): Promise<number> {
  let ids: number[] = [];
  await until(async () => {
    ids = await page.evaluate(savedIds);
    return ids.at(-1) === last && ids.length >= least;
  }, {
    timeoutMs: SAVED_COPY_TIMEOUT_MS,
    intervalMs: 100,
    what: `a saved copy of ${least}+ messages ending with message ${last}`,
  }).catch((error) => {
    throw new Error(
      `${error.message}; the last copy held ${ids.length}, ending with ${
        ids.at(-1)
      }`,
    );
  });
  return ids.length;
}

Deno.test("browser: the worker caches the app shell and nothing else; offline, Plaza opens from it with the saved messages", async () => {
  await withRoom(async ({ plaza, build, dist, sql, browser }) => {
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
      // At least 100, and no more: the saved copy is capped at 100.
      assert.equal(
        await savedCopy(page, 120, 100),
        100,
      );

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
      // Every hashed asset but the screenshots only the install dialog shows.
      const { screenshots } = JSON.parse(
        await Deno.readTextFile(join(dist, "manifest.webmanifest")),
      );
      assert.ok(screenshots.length > 0);
      const shell = [
        "/",
        "/manifest.webmanifest",
        ...build.files.filter((f) => f.startsWith("assets/")).map((f) =>
          `/${f}`
        ).filter((f) => !screenshots.some((s: { src: string }) => s.src === f)),
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
  const repo = new URL("../../", import.meta.url).pathname;
  const root = await Deno.makeTempDir({ prefix: "plaza_release_" });
  try {
    await Deno.copyFile(join(repo, "deno.lock"), join(root, "deno.lock"));
    await Deno.symlink(join(repo, "node_modules"), join(root, "node_modules"));
    for (const dir of ["client", "protocol"]) {
      await new Deno.Command("cp", {
        args: ["-r", join(repo, dir), join(root, dir)],
      }).output();
    }
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
