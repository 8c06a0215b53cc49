// The security headers as a real Chromium reads them: every Permissions-Policy
// token must be a feature it knows, or each page load logs a warning.
// Needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import { createApp } from "../../server/http/app.ts";
import { createHub } from "../../server/live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../harness/app_deps.ts";
import { launchChromium } from "../harness/browser.ts";

Deno.test("Chromium knows every Permissions-Policy feature Plaza sends and logs no warning about the header", async () => {
  // Serving the page reaches no database.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const page = {
    body: new TextEncoder().encode(
      "<!doctype html><html lang=en><title>Plaza</title><p>hi</p>",
    ),
    headers: { "Content-Type": "text/html; charset=utf-8" },
  };
  const app = createApp(testAppDependencies(db, hub, {
    assets: { index: page, files: new Map() },
  }));
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    const messages: string[] = [];
    tab.on("console", (m) => messages.push(m.text()));
    const res = await tab.goto(`http://127.0.0.1:${server.addr.port}/`);
    const header = res?.headers()["permissions-policy"] ?? "";
    const sent = header.split(",").map((d) => d.trim().split("=")[0]);
    assert.ok(sent.includes("camera"), header);
    const known = await tab.evaluate(() =>
      (document as unknown as { featurePolicy: { features(): string[] } })
        .featurePolicy.features()
    );
    assert.deepEqual(sent.filter((f) => !known.includes(f)), [], header);
    // The header's warning is logged while the page loads, before anything
    // the page logs afterwards: this marker ends the wait for it.
    const logged = tab.waitForEvent("console", (m) => m.text() === "marker");
    await tab.evaluate(() => console.log("marker"));
    await logged;
    assert.deepEqual(
      messages.filter((m) => /Permissions-Policy/i.test(m)),
      [],
    );
  } finally {
    await browser.close();
    await server.shutdown();
    hub.close();
    await db.close();
  }
});
