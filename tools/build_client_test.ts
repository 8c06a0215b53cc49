import assert from "node:assert/strict";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  buildClient,
  computeInputHash,
  isClientBuildStale,
} from "./build_client.ts";

const SCRIPT = new URL("./build_client.ts", import.meta.url).pathname;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "plaza_build_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("buildClient writes hashed assets that index.html links without inline code", async () => {
  await withTempDir(async (outDir) => {
    // A leftover of an older build must be removed.
    await Deno.mkdir(join(outDir, "assets"), { recursive: true });
    await Deno.writeTextFile(join(outDir, "assets/main-OLDHASH1.js"), "old");
    assert.equal(await isClientBuildStale({ outDir }), true);

    const result = await buildClient({ outDir });
    const html = await Deno.readTextFile(join(outDir, "index.html"));

    const script = html.match(
      /<script type="module" src="\/(assets\/main-[A-Z0-9]+\.js)"><\/script>/,
    );
    const style = html.match(
      /<link rel="stylesheet" href="\/(assets\/main-[A-Z0-9]+\.css)">/,
    );
    assert.ok(script, "index.html links the hashed module script");
    assert.ok(style, "index.html links the hashed stylesheet");
    assert.equal(script[1], result.js.path);
    assert.equal(style[1], result.css.path);
    assert.ok(await exists(join(outDir, script[1])));
    assert.ok(await exists(join(outDir, style[1])));
    assert.equal(await exists(join(outDir, "assets/main-OLDHASH1.js")), false);

    // A strict CSP forbids inline code: every script has a src, no <style>,
    // no style="" and no on*="" handlers.
    assert.equal(html.match(/<script\b/g)?.length, 1);
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /plaza:assets/);

    // A lazy chunk's CSS travels minified inside the chunk, not in the main
    // stylesheet (client/lazy_styles.ts).
    const mainCss = await Deno.readTextFile(join(outDir, result.css.path));
    const searchJs = await Deno.readTextFile(join(outDir, result.search.path));
    assert.doesNotMatch(mainCss, /\.search-result/);
    assert.match(searchJs, /\.search-result\{display:block;/);
    assert.match(html, /<div id="app"><\/div>/);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /viewport-fit=cover/);

    const manifest = JSON.parse(
      await Deno.readTextFile(join(outDir, "build.json")),
    );
    assert.equal(manifest.inputHash, await computeInputHash());
    assert.equal(manifest.inputHash, result.inputHash);
    assert.ok(manifest.files.includes("index.html"));
    assert.ok(manifest.files.includes(result.js.path));
    assert.ok(manifest.files.includes(result.css.path));
    for (const file of manifest.files) {
      assert.ok(await exists(join(outDir, file)), `${file} exists`);
    }
    assert.ok(!Number.isNaN(Date.parse(manifest.builtAt)));
    assert.ok(result.js.gzipBytes > 0 && result.js.gzipBytes < 20_000);

    // The installable app: manifest, worker, the lazily loaded chunk.
    for (
      const file of ["manifest.webmanifest", "sw.js", result.pwa.path]
    ) {
      assert.ok(manifest.files.includes(file), file);
    }
    assert.match(result.pwa.path, /^assets\/pwa-[A-Z0-9]+\.js$/);
    assert.match(html, /<link rel="manifest" href="\/manifest.webmanifest">/);
    assert.match(
      html,
      /<link rel="apple-touch-icon" href="\/assets\/apple-touch-icon-[0-9a-f]{8}\.png">/,
    );
    // The main bundle loads the chunk by its hashed URL.
    const mainJs = await Deno.readTextFile(join(outDir, result.js.path));
    assert.ok(mainJs.includes(`"/${result.pwa.path}"`));
    // And the search panel's, which it loads only when asked.
    assert.match(result.search.path, /^assets\/search-[A-Z0-9]+\.js$/);
    assert.ok(mainJs.includes(`"/${result.search.path}"`));
    const pwaJs = await Deno.readTextFile(join(outDir, result.pwa.path));
    assert.doesNotMatch(pwaJs, /preact|import\s*[{*]/, "no second Preact");

    // Icons in the manifest get hashed names that exist.
    const web = JSON.parse(
      await Deno.readTextFile(join(outDir, "manifest.webmanifest")),
    );
    for (const icon of web.icons) {
      assert.match(icon.src, /^\/assets\/[a-z0-9-]+-[0-9a-f]{8}\.png$/);
      assert.ok(await exists(join(outDir, icon.src)), icon.src);
    }

    // Screenshots for the install dialog, one narrow and one wide: hashed
    // files in dist of the pixel sizes the manifest declares (as a PNG's
    // IHDR chunk says), small enough to serve as they are.
    const shots: {
      src: string;
      sizes: string;
      type: string;
      form_factor: string;
      label: string;
    }[] = web.screenshots;
    assert.deepEqual(shots.map((s) => s.form_factor).sort(), [
      "narrow",
      "wide",
    ]);
    for (const shot of shots) {
      assert.match(shot.src, /^\/assets\/[a-z0-9-]+-[0-9a-f]{8}\.png$/);
      assert.equal(shot.type, "image/png");
      assert.ok(shot.label.length > 0);
      const png = await Deno.readFile(join(outDir, shot.src));
      assert.deepEqual([...png.slice(1, 4)], [80, 78, 71], "a PNG");
      const view = new DataView(png.buffer);
      const [w, h] = [view.getUint32(16), view.getUint32(20)];
      assert.equal(`${w}x${h}`, shot.sizes, shot.src);
      assert.equal(w > h, shot.form_factor === "wide", shot.src);
      assert.ok(png.length < 100_000, `${shot.src}: ${png.length} bytes`);
      assert.ok(!manifest.compressed.includes(`${shot.src.slice(1)}.br`));
    }

    // The worker caches exactly the shell, in a cache named after it: every
    // hashed asset but the screenshots, which only the install dialog shows.
    const sw = await Deno.readTextFile(join(outDir, "sw.js"));
    assert.match(result.cacheName, /^plaza-[0-9a-f]{16}$/);
    assert.ok(sw.includes(JSON.stringify(result.cacheName)));
    const shell = [
      "/",
      "/manifest.webmanifest",
      ...manifest.files.filter((f: string) => f.startsWith("assets/")).map((
        f: string,
      ) => `/${f}`).filter((f: string) => !shots.some((s) => s.src === f)),
    ];
    assert.ok(sw.includes(JSON.stringify(shell)), "the shell list");
    assert.ok(result.sw.gzipBytes > 0);

    // The same sources give the same cache: only a change makes a new one.
    const again = await buildClient({ outDir });
    assert.equal(again.cacheName, result.cacheName);

    assert.equal(await isClientBuildStale({ outDir }), false);

    // The CLI agrees and skips the build.
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", SCRIPT, "--if-stale", "--out-dir", outDir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.match(stdout, /up to date/);

    // Any missing output or a different input hash means stale.
    await Deno.writeTextFile(
      join(outDir, "build.json"),
      JSON.stringify({ ...manifest, inputHash: "0".repeat(64) }),
    );
    assert.equal(await isClientBuildStale({ outDir }), true);
    await Deno.writeTextFile(
      join(outDir, "build.json"),
      JSON.stringify(manifest),
    );
    assert.equal(await isClientBuildStale({ outDir }), false);
    // A missing precompressed copy too.
    await Deno.remove(join(outDir, `${result.js.path}.br`));
    assert.equal(await isClientBuildStale({ outDir }), true);
    await buildClient({ outDir });
    assert.equal(await isClientBuildStale({ outDir }), false);
    await Deno.remove(join(outDir, "index.html"));
    assert.equal(await isClientBuildStale({ outDir }), true);
  });
});

Deno.test("every text file of the build has brotli and gzip copies of the same bytes; images have none", async () => {
  await withTempDir(async (outDir) => {
    const result = await buildClient({ outDir });
    // `files` is what is served; the copies are listed apart.
    assert.ok(result.files.every((f) => !/\.(br|gz)$/.test(f)));
    const originals = result.files;
    const text = originals.filter((f) =>
      /\.(js|css|html|svg|webmanifest|map|json)$/.test(f)
    );
    for (
      const file of [
        "index.html",
        "sw.js",
        "manifest.webmanifest",
        result.js.path,
        result.css.path,
        result.pwa.path,
      ]
    ) {
      assert.ok(text.includes(file), file);
    }
    assert.ok(text.some((f) => f.endsWith(".svg")), "the favicon");
    for (const file of text) {
      const data = await Deno.readFile(join(outDir, file));
      const br = await Deno.readFile(join(outDir, `${file}.br`));
      const gz = await Deno.readFile(join(outDir, `${file}.gz`));
      assert.deepEqual(new Uint8Array(brotliDecompressSync(br)), data, file);
      assert.deepEqual(new Uint8Array(gunzipSync(gz)), data, file);
      assert.ok(result.compressed.includes(`${file}.br`), `${file}.br listed`);
      assert.ok(result.compressed.includes(`${file}.gz`), `${file}.gz listed`);
    }
    for (const file of originals.filter((f) => f.endsWith(".png"))) {
      assert.equal(await exists(join(outDir, `${file}.br`)), false, file);
      assert.equal(await exists(join(outDir, `${file}.gz`)), false, file);
    }
    // The sizes reported are those of the copies sent.
    const mainBr = await Deno.readFile(join(outDir, `${result.js.path}.br`));
    const mainGz = await Deno.readFile(join(outDir, `${result.js.path}.gz`));
    assert.equal(result.js.brotliBytes, mainBr.length);
    assert.equal(result.js.gzipBytes, mainGz.length);
    assert.ok(result.js.brotliBytes < result.js.gzipBytes);
  });
});

Deno.test("the input hash covers client and protocol sources, not their tests", async () => {
  await withTempDir(async (root) => {
    await Deno.mkdir(join(root, "client/components"), { recursive: true });
    await Deno.mkdir(join(root, "protocol"));
    await Deno.writeTextFile(join(root, "client/main.tsx"), "main");
    await Deno.writeTextFile(join(root, "client/components/a.tsx"), "a");
    await Deno.writeTextFile(join(root, "client/a_test.ts"), "test 1");
    await Deno.writeTextFile(join(root, "protocol/message.ts"), "types");
    await Deno.writeTextFile(join(root, "protocol/message_test.ts"), "t 1");
    await Deno.writeTextFile(join(root, "deno.lock"), "{}");
    const base = await computeInputHash(root);
    assert.match(base, /^[0-9a-f]{64}$/);

    await Deno.writeTextFile(join(root, "client/a_test.ts"), "test 2");
    await Deno.writeTextFile(join(root, "protocol/message_test.ts"), "t 2");
    assert.equal(await computeInputHash(root), base);

    for (
      const file of [
        "client/components/a.tsx",
        "protocol/message.ts",
        "deno.lock",
      ]
    ) {
      const before = await Deno.readTextFile(join(root, file));
      await Deno.writeTextFile(join(root, file), before + " changed");
      assert.notEqual(await computeInputHash(root), base, file);
      await Deno.writeTextFile(join(root, file), before);
    }
    assert.equal(await computeInputHash(root), base);

    // A renamed file changes the hash even with the same contents.
    await Deno.rename(
      join(root, "client/components/a.tsx"),
      join(root, "client/components/b.tsx"),
    );
    assert.notEqual(await computeInputHash(root), base);
  });
});

Deno.test("the client/pwa chunk may not bundle its own copy of the chat state or Preact", async () => {
  await withTempDir(async (root) => {
    await Deno.mkdir(join(root, "client/pwa"), { recursive: true });
    // The second lazy chunk, innocent here.
    await Deno.mkdir(join(root, "client/extras"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "client/extras/extras.tsx"),
      "export const start = () => {};\n",
    );
    await Deno.mkdir(join(root, "client/search"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "client/search/search.tsx"),
      "export const open = () => {};\n",
    );
    await Deno.mkdir(join(root, "client/attach"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "client/attach/attach.tsx"),
      "export const start = () => {};\n",
    );
    await Deno.mkdir(join(root, "client/room"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "client/room/room.tsx"),
      "export const start = () => {};\n",
    );
    await Deno.writeTextFile(
      join(root, "client/chat_state.ts"),
      "export const chat = { messages: [] };\n",
    );
    await Deno.writeTextFile(
      join(root, "client/pwa/pwa.ts"),
      'import { chat } from "../chat_state.ts";\nexport const start = () => chat;\n',
    );
    // In a process of its own: esbuild.stop() does not wait for esbuild to
    // exit, and a build that fails this early would end the test first.
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        `import { buildClient } from ${JSON.stringify(SCRIPT)};
         await buildClient({ root: ${JSON.stringify(root)} });`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(run.code, 0);
    assert.match(
      new TextDecoder().decode(run.stderr),
      /client\/pwa\/pwa\.ts must reach client\/chat_state\.ts through its host/,
    );
  });
});
