import assert from "node:assert/strict";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { createApp } from "./app.ts";
import { type ClientAssets, loadClientAssets } from "./client_assets.ts";
import { createHub } from "../live/hub.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { testAppDependencies } from "../../test/harness/app_deps.ts";

const INDEX = new TextEncoder().encode(
  `<!doctype html><html lang="en">${"<p>plaza</p>".repeat(50)}</html>`,
);
const EMBED = new TextEncoder().encode(
  `<!doctype html><html lang="en" class="embed">${
    "<p>plaza</p>".repeat(50)
  }</html>`,
);

/** A dist/ with the two shells and their .br and .gz copies, as the build leaves it. */
async function withShells(
  fn: (assets: ClientAssets) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "plaza_pages_" });
  try {
    for (const [name, data] of [["index", INDEX], ["embed", EMBED]] as const) {
      await Deno.writeFile(`${dir}/${name}.html`, data);
      await Deno.writeFile(`${dir}/${name}.html.br`, brotliCompressSync(data));
      await Deno.writeFile(`${dir}/${name}.html.gz`, gzipSync(data));
    }
    const assets = await loadClientAssets(dir);
    assert.ok(assets);
    await fn(assets);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

type Get = (
  path: string,
  headers?: Record<string, string>,
  method?: string,
) => Promise<Response>;

async function withPages(
  assets: ClientAssets | null,
  embedOrigins: string[] | undefined,
  fn: (get: Get) => Promise<void>,
): Promise<void> {
  // No request here reaches the database.
  const db = createPostgresDatabase("postgres://postgres@127.0.0.1:1/none");
  const hub = createHub({ heartbeatMs: 60_000 });
  const app = createApp(testAppDependencies(db, hub, { assets, embedOrigins }));
  try {
    await fn((path, headers = {}, method = "GET") =>
      Promise.resolve(app.request(path, { method, headers }))
    );
  } finally {
    hub.close();
    await db.close();
  }
}

const frameAncestors = (res: Response) =>
  /frame-ancestors ([^;]*)/.exec(
    res.headers.get("content-security-policy") ?? "",
  )?.[1];

// The headers a page goes out with, but its (per-body) ETag.
const pageHeaders = (res: Response) =>
  Object.fromEntries(
    [...res.headers].filter(([name]) =>
      !["etag", "x-request-id"].includes(name)
    ),
  );

Deno.test("/m/<id> is the page itself, any id: same bytes, encodings, ETag, caching and security headers as /", async () => {
  await withShells(async (assets) => {
    await withPages(assets, undefined, async (get) => {
      for (const accept of ["br", "gzip", ""]) {
        const root = await get("/", { "Accept-Encoding": accept });
        const rootBody = new Uint8Array(await root.arrayBuffer());
        for (const path of ["/m/5", "/m/999999999999", "/m/not-an-id"]) {
          const res = await get(path, { "Accept-Encoding": accept });
          assert.equal(res.status, 200, path);
          assert.deepEqual(pageHeaders(res), pageHeaders(root), path);
          assert.equal(res.headers.get("etag"), root.headers.get("etag"));
          assert.deepEqual(new Uint8Array(await res.arrayBuffer()), rootBody);
        }
      }
      const first = await get("/m/5", { "Accept-Encoding": "br" });
      await first.body?.cancel();
      assert.equal(first.headers.get("content-encoding"), "br");
      assert.equal(first.headers.get("cache-control"), "no-cache");
      assert.equal(first.headers.get("x-frame-options"), "DENY");
      assert.equal(frameAncestors(first), "'none'");
      const again = await get("/m/5", {
        "Accept-Encoding": "br",
        "If-None-Match": first.headers.get("etag")!,
      });
      assert.equal(again.status, 304);
      await again.body?.cancel();
      const head = await get("/m/5", { "Accept-Encoding": "br" }, "HEAD");
      assert.equal(head.status, 200);
      assert.equal(
        head.headers.get("content-length"),
        first.headers.get("content-length"),
      );
      assert.equal(await head.text(), "");
      // Only one segment is a permalink.
      const deeper = await get("/m/5/6");
      assert.equal(deeper.status, 404);
      await deeper.body?.cancel();
    });
  });
});

Deno.test("/embed is its own shell; without EMBED_ORIGINS nobody may frame it, with them exactly those may, and nothing else changes", async () => {
  await withShells(async (assets) => {
    await withPages(assets, undefined, async (get) => {
      const res = await get("/embed?mode=write", { "Accept-Encoding": "gzip" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-encoding"), "gzip");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(res.headers.get("vary"), "Accept-Encoding");
      await res.body?.cancel();
      const plain = await get("/embed");
      assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), EMBED);
      assert.equal(frameAncestors(plain), "'none'");
      assert.equal(plain.headers.get("x-frame-options"), "DENY");
    });
    const origins = ["https://blog.example", "http://127.0.0.1:8080"];
    await withPages(assets, origins, async (get) => {
      const embed = await get("/embed");
      await embed.body?.cancel();
      assert.equal(frameAncestors(embed), origins.join(" "));
      assert.equal(embed.headers.get("x-frame-options"), null);
      // The rest of the policy is the same as on any page.
      const root = await get("/");
      await root.body?.cancel();
      const policy = (r: Response) =>
        r.headers.get("content-security-policy")!.replace(
          /frame-ancestors [^;]*/,
          "",
        );
      assert.equal(policy(embed), policy(root));
      for (const path of ["/", "/m/1", "/assets/x.js", "/embed/", "/nothing"]) {
        const other = await get(path);
        await other.body?.cancel();
        assert.equal(frameAncestors(other), "'none'", path);
        assert.equal(other.headers.get("x-frame-options"), "DENY", path);
      }
    });
  });
});

Deno.test("without a build, / and /m/<id> and /embed say how to build it (503), and a build without embed.html says so for /embed", async () => {
  await withPages(null, undefined, async (get) => {
    for (const path of ["/", "/m/3", "/embed"]) {
      const res = await get(path);
      assert.equal(res.status, 503, path);
      assert.match(await res.text(), /deno task build/);
    }
  });
  await withShells(async (assets) => {
    await withPages({ ...assets, embed: null }, undefined, async (get) => {
      const res = await get("/embed");
      assert.equal(res.status, 503);
      await res.body?.cancel();
    });
  });
});

const MAIN = new URL("../main.ts", import.meta.url).pathname;

Deno.test("a bad EMBED_ORIGINS stops the server at start with a clear Cannot start server line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plaza_embed_start_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env: {
      EMBED_ORIGINS: "https://blog.example;script-src",
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: `${dir}/data`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    // A server that starts anyway says so on stdout: stopped, and failed below.
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      if (chunk.includes("listening on")) child.kill("SIGKILL");
    }
    const { code } = await child.status;
    assert.equal(code, 1, await stderr);
    assert.match(
      await stderr,
      /Cannot start server: EMBED_ORIGINS must list http\(s\) origins like https:\/\/blog\.example\.com .*got \\?"https:\/\/blog\.example;script-src\\?"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
