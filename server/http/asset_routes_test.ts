import assert from "node:assert/strict";
import { brotliCompressSync, brotliDecompressSync, gzipSync } from "node:zlib";
import { createApp } from "./app.ts";
import { type ClientAssets, loadClientAssets } from "./client_assets.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";

const SCRIPT = new TextEncoder().encode(
  `console.log(${JSON.stringify("plaza ".repeat(200))});\n`,
);
const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);

/** A dist/ as the build leaves it: a shell, a script and the service worker with .br and .gz copies, and an image without. */
async function withDist(
  fn: (dir: string, assets: ClientAssets) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "plaza_assets_" });
  try {
    await Deno.mkdir(`${dir}/assets`);
    const write = async (path: string, data: Uint8Array, copies = true) => {
      await Deno.writeFile(`${dir}/${path}`, data);
      if (!copies) return;
      await Deno.writeFile(`${dir}/${path}.br`, brotliCompressSync(data));
      await Deno.writeFile(`${dir}/${path}.gz`, gzipSync(data));
    };
    await write("index.html", new TextEncoder().encode("<!doctype html>"));
    await write("assets/main-ABC123.js", SCRIPT);
    await write("sw.js", SCRIPT);
    await write("assets/icon-ABC123.png", PNG, false);
    const assets = await loadClientAssets(dir);
    assert.ok(assets);
    await fn(dir, assets);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withAssetApp(
  assets: ClientAssets,
  fn: (
    get: (
      path: string,
      headers?: Record<string, string>,
      method?: string,
    ) => Promise<Response>,
  ) => Promise<void>,
): Promise<void> {
  // No request here reaches the database.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const app = createApp(testAppDependencies(db, hub, { assets }));
  try {
    await fn((path, headers = {}, method = "GET") =>
      Promise.resolve(app.request(path, { method, headers }))
    );
  } finally {
    hub.close();
    await db.close();
  }
}

const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());

Deno.test("a built file goes out as brotli, gzip or as built, by Accept-Encoding, with Vary, its own Content-Length and ETag", async () => {
  await withDist(async (_dir, assets) => {
    await withAssetApp(assets, async (get) => {
      for (const path of ["/assets/main-ABC123.js", "/sw.js"]) {
        const br = await get(path, { "Accept-Encoding": "br" });
        assert.equal(br.headers.get("content-encoding"), "br");
        const brBody = await bytes(br);
        assert.deepEqual(new Uint8Array(brotliDecompressSync(brBody)), SCRIPT);
        assert.equal(br.headers.get("content-length"), String(brBody.length));

        const gz = await get(path, { "Accept-Encoding": "gzip" });
        assert.equal(gz.headers.get("content-encoding"), "gzip");
        const gzBody = await bytes(gz);
        assert.deepEqual(
          new Uint8Array(
            await new Response(
              new Blob([gzBody]).stream().pipeThrough(
                new DecompressionStream("gzip"),
              ),
            ).arrayBuffer(),
          ),
          SCRIPT,
        );
        assert.equal(gz.headers.get("content-length"), String(gzBody.length));

        const plain = await get(path);
        assert.equal(plain.headers.get("content-encoding"), null);
        assert.deepEqual(await bytes(plain), SCRIPT);
        assert.equal(
          plain.headers.get("content-length"),
          String(SCRIPT.length),
        );

        // Caches must key on the encoding, the identity answer included.
        for (const res of [br, gz, plain]) {
          assert.equal(res.headers.get("vary"), "Accept-Encoding");
          assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
        }
        const tags = new Set([br, gz, plain].map((r) => r.headers.get("etag")));
        assert.equal(tags.size, 3, "one ETag per encoding");
        assert.ok(brBody.length < SCRIPT.length);
      }
      // An image has no copies: as built, no Vary.
      const png = await get("/assets/icon-ABC123.png", {
        "Accept-Encoding": "br, gzip",
      });
      assert.equal(png.headers.get("content-encoding"), null);
      assert.equal(png.headers.get("vary"), null);
      assert.deepEqual(await bytes(png), PNG);
      // The shell too.
      const shell = await get("/", { "Accept-Encoding": "gzip, br" });
      assert.equal(shell.headers.get("content-encoding"), "br");
      assert.equal(shell.headers.get("cache-control"), "no-cache");
      await shell.body?.cancel();
    });
  });
});

Deno.test("Accept-Encoding: brotli before gzip on a tie, q-values weigh, q=0 refuses, * covers the rest", async () => {
  await withDist(async (_dir, assets) => {
    await withAssetApp(assets, async (get) => {
      for (
        const [accept, expected] of [
          ["gzip, deflate, br, zstd", "br"],
          ["gzip, br", "br"],
          ["br;q=0.5, gzip", "gzip"],
          ["br;q=0, gzip", "gzip"],
          ["gzip;q=0, br;q=0", null],
          ["*", "br"],
          ["*;q=0.1, gzip", "gzip"],
          ["identity", null],
          ["deflate", null],
          ["", null],
          ["BR", "br"],
        ] as const
      ) {
        const res = await get("/assets/main-ABC123.js", {
          "Accept-Encoding": accept,
        });
        await res.body?.cancel();
        assert.equal(
          res.headers.get("content-encoding"),
          expected,
          `Accept-Encoding: ${accept}`,
        );
      }
    });
  });
});

Deno.test("If-None-Match with the ETag of the encoding sent answers 304; HEAD has the headers of GET", async () => {
  await withDist(async (_dir, assets) => {
    await withAssetApp(assets, async (get) => {
      const br = await get("/sw.js", { "Accept-Encoding": "br" });
      await br.body?.cancel();
      const tag = br.headers.get("etag")!;
      const again = await get("/sw.js", {
        "Accept-Encoding": "br",
        "If-None-Match": tag,
      });
      assert.equal(again.status, 304);
      assert.equal(await again.text(), "");
      assert.equal(again.headers.get("etag"), tag);
      assert.equal(again.headers.get("vary"), "Accept-Encoding");
      assert.equal(again.headers.get("cache-control"), "no-cache");
      // The brotli ETag does not match the gzip copy.
      const gz = await get("/sw.js", {
        "Accept-Encoding": "gzip",
        "If-None-Match": tag,
      });
      assert.equal(gz.status, 200);
      await gz.body?.cancel();

      const head = await get("/sw.js", { "Accept-Encoding": "br" }, "HEAD");
      assert.equal(head.status, 200);
      for (const name of ["content-encoding", "content-length", "etag"]) {
        assert.equal(head.headers.get(name), br.headers.get(name), name);
      }
      assert.equal(await head.text(), "");
    });
  });
});

Deno.test("a precompressed copy that is not the file (left by another build) is not sent", async () => {
  await withDist(async (dir) => {
    await Deno.writeFile(
      `${dir}/sw.js.br`,
      brotliCompressSync(new TextEncoder().encode("an older worker")),
    );
    await Deno.writeFile(`${dir}/sw.js.gz`, new TextEncoder().encode("junk"));
    const assets = await loadClientAssets(dir);
    assert.ok(assets);
    await withAssetApp(assets, async (get) => {
      const res = await get("/sw.js", { "Accept-Encoding": "br, gzip" });
      assert.equal(res.headers.get("content-encoding"), null);
      assert.deepEqual(await bytes(res), SCRIPT);
      // The copies are not files of their own either.
      const copy = await get("/assets/main-ABC123.js.br");
      assert.equal(copy.status, 404);
      await copy.body?.cancel();
    });
  });
});
