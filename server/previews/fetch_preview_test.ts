import assert from "node:assert/strict";
import {
  fetchPreview,
  MAX_READ_BYTES,
  PreviewFetchError,
} from "./fetch_preview.ts";
import { publicOnly, RefusedUrlError } from "./ssrf_guard.ts";
import { withDeadline } from "../../test/harness/wait.ts";
import {
  HUGE_PAGE_BYTES,
  type PreviewSite,
  SITE_NAME,
  siteGuard,
  startPreviewSite,
} from "../../test/harness/preview_site.ts";

async function withSite(
  fn: (
    site: PreviewSite,
    trap: PreviewSite,
    link: (path: string) => string,
  ) => Promise<void>,
  redirectTo?: (trap: PreviewSite) => string,
): Promise<void> {
  // The trap is a second site no fetch may reach: redirects point at it.
  const trap = startPreviewSite();
  const site = startPreviewSite({
    redirectTo: () => redirectTo?.(trap) ?? "/og",
  });
  try {
    await fn(site, trap, (path) => `http://${SITE_NAME}:${site.port}${path}`);
  } finally {
    await site.close();
    await trap.close();
  }
}

Deno.test("fetchPreview reads an Open Graph page over the address the guard checked, sending the link's Host", async () => {
  await withSite(async (site, _trap, link) => {
    const preview = await fetchPreview(link("/og"), {
      guard: siteGuard(site.port),
    });
    assert.deepEqual(preview, {
      title: "Ada & the Engine",
      description: "Notes on the <Analytical> Engine — 1843",
      image: "https://img.example/engine.png",
      site: "Test Site",
    });
    assert.deepEqual(site.requests, ["/og"]);
    assert.deepEqual(site.hosts, [`${SITE_NAME}:${site.port}`]);
  });
});

Deno.test("fetchPreview with the production guard refuses the local site, by address and by name", async () => {
  await withSite(async (site) => {
    for (
      const link of [
        `${site.url}/og`,
        `http://[::ffff:127.0.0.1]:${site.port}/og`,
        `http://2130706433:${site.port}/og`,
        "http://localhost/og",
      ]
    ) {
      await assert.rejects(
        fetchPreview(link, { guard: publicOnly }),
        RefusedUrlError,
        link,
      );
    }
    assert.deepEqual(site.requests, []);
  });
});

Deno.test("fetchPreview refuses a redirect to a private address without connecting to it", async () => {
  await withSite(async (site, trap, link) => {
    await assert.rejects(
      fetchPreview(link("/redirect"), { guard: siteGuard(site.port) }),
      RefusedUrlError,
    );
    assert.deepEqual(site.requests, ["/redirect"]);
    assert.deepEqual(trap.requests, []);
  }, (trap) => `http://127.0.0.1:${trap.port}/og`);
  await withSite(async (site, _trap, link) => {
    await assert.rejects(
      fetchPreview(link("/redirect"), { guard: siteGuard(site.port) }),
      RefusedUrlError,
    );
  }, () => "http://10.0.0.1/");
  // A redirect the guard allows is followed (relative, to the same site).
  await withSite(async (site, _trap, link) => {
    const preview = await fetchPreview(link("/redirect"), {
      guard: siteGuard(site.port),
    });
    assert.equal(preview.title, "Ada & the Engine");
    assert.deepEqual(site.requests, ["/redirect", "/og"]);
  });
});

Deno.test("fetchPreview stops reading an oversize page at the cap, long before its end", async () => {
  await withSite(async (site, _trap, link) => {
    const preview = await fetchPreview(link("/huge"), {
      guard: siteGuard(site.port),
    });
    // What was read up to the cap still counts.
    assert.equal(preview.title, "Huge");
    // A reader that read it all would leave the body uncancelled.
    await withDeadline(site.hugeCancelled, 10_000, "the huge page's end");
    // Sent is what the socket buffers took beyond the cap, not the page.
    assert.ok(
      site.hugeBytesSent() < HUGE_PAGE_BYTES / 4,
      `${site.hugeBytesSent()} bytes sent for a ${MAX_READ_BYTES}-byte cap`,
    );
  });
});

Deno.test("fetchPreview gives up on a slow page at its deadline, and ignores what is not HTML", async () => {
  await withSite(async (site, _trap, link) => {
    // A fetch without a deadline would wait for the site forever.
    await assert.rejects(
      withDeadline(
        fetchPreview(link("/slow"), {
          guard: siteGuard(site.port),
          timeoutMs: 300,
        }),
        3_000,
        "the fetch's own deadline",
      ),
      (error: Error) =>
        error instanceof PreviewFetchError && /timed out/.test(error.message),
    );
    site.release();
    await assert.rejects(
      fetchPreview(link("/json"), { guard: siteGuard(site.port) }),
      /content type application\/json/,
    );
    await assert.rejects(
      fetchPreview(link("/missing"), { guard: siteGuard(site.port) }),
      /status 404/,
    );
  });
});
