import assert from "node:assert/strict";
import { join } from "node:path";
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
    await Deno.remove(join(outDir, "index.html"));
    assert.equal(await isClientBuildStale({ outDir }), true);
  });
});

Deno.test("the input hash covers client sources, not client tests", async () => {
  await withTempDir(async (root) => {
    await Deno.mkdir(join(root, "client/components"), { recursive: true });
    await Deno.mkdir(join(root, "server"));
    await Deno.writeTextFile(join(root, "client/main.tsx"), "main");
    await Deno.writeTextFile(join(root, "client/components/a.tsx"), "a");
    await Deno.writeTextFile(join(root, "client/a_test.ts"), "test 1");
    await Deno.writeTextFile(join(root, "server/message.ts"), "types");
    await Deno.writeTextFile(join(root, "deno.lock"), "{}");
    const base = await computeInputHash(root);
    assert.match(base, /^[0-9a-f]{64}$/);

    await Deno.writeTextFile(join(root, "client/a_test.ts"), "test 2");
    assert.equal(await computeInputHash(root), base);

    for (
      const file of [
        "client/components/a.tsx",
        "server/message.ts",
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
