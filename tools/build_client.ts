/**
 * Builds the browser client into dist/: hashed JS and CSS bundles, an
 * index.html that references them (no inline script or style, so a strict CSP
 * can forbid both), the installable app's files (manifest.webmanifest, the
 * icons and screenshots it names, the lazily loaded client/pwa chunk and the
 * service worker sw.js),
 * brotli (`.br`) and gzip (`.gz`) copies of every text file for the server to
 * send as they are, and build.json, whose input hash lets `--if-stale` skip a
 * rebuild when nothing the bundle depends on has changed.
 *
 *   deno run -A tools/build_client.ts [--if-stale] [--out-dir DIR]
 */
import * as esbuild from "esbuild";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants } from "node:zlib";
import { gzipAsync } from "@gfx/zopfli";
import { COMPRESSED_SUFFIXES } from "../server/http/client_assets.ts";

/** Where to build from and to; both default to this repository's layout. */
export interface BuildOptions {
  /** Repository root holding client/, protocol/ and deno.lock. */
  root?: string;
  /** Output directory; defaults to `<root>/dist`. */
  outDir?: string;
}

/** One emitted bundle and its size as built and as sent compressed. */
export interface AssetInfo {
  /** Path relative to outDir, e.g. "assets/main-AB12CD34.js". */
  path: string;
  bytes: number;
  /** Size of the `.gz` copy the server sends to gzip-only clients. */
  gzipBytes: number;
  /** Size of the `.br` copy the server sends to most browsers. */
  brotliBytes: number;
}

/** Contents of `<outDir>/build.json`. */
export interface BuildManifest {
  inputHash: string;
  /** Every file of the build as served, relative to outDir. */
  files: string[];
  /** The brotli and gzip copies of the text files among them. */
  compressed: string[];
  builtAt: string;
}

/** What buildClient produced. */
export interface BuildResult extends BuildManifest {
  /** The main bundle: all the JavaScript the page needs to show the chat. */
  js: AssetInfo;
  css: AssetInfo;
  /** The chunk loaded after start-up (client/pwa: offline copy, install, push). */
  pwa: AssetInfo;
  /** The second such chunk (client/extras: message menu, edit, delete, reactions, replies, moving a name). */
  extras: AssetInfo;
  /** The search panel (client/search), loaded when the Search button is first pressed. */
  search: AssetInfo;
  /** Pictures (client/attach): picking, resizing, uploading, the lightbox; loaded after start-up. */
  attach: AssetInfo;
  /** The room chunk (client/room: the pinned notice, the closed composer in a lockdown). */
  room: AssetInfo;
  /** The service worker, /sw.js. */
  sw: AssetInfo;
  /** Name of the service worker's cache, derived from every shell file's hash. */
  cacheName: string;
  durationMs: number;
}

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = "client/main.tsx";
const PWA_ENTRY = "client/pwa/pwa.ts";
const EXTRAS_ENTRY = "client/extras/extras.tsx";
const SEARCH_ENTRY = "client/search/search.tsx";
const ATTACH_ENTRY = "client/attach/attach.tsx";
const ROOM_ENTRY = "client/room/room.tsx";
const SW_ENTRY = "client/sw/sw.ts";
// /embed's own first script and stylesheet (dist/embed.html links them).
const EMBED_ENTRIES = ["client/embed/embed.ts", "client/embed/embed.css"];
/** Zopfli iterations for the gzip copies: 15 (its default) gets within 0.1 % of 50 in half the time. */
const ZOPFLI_ITERATIONS = 15;
const ICON = "client/favicon.svg";
const ICONS_DIR = "client/icons";
const APPLE_ICON = "apple-touch-icon.png";
const BADGE_ICON = "badge-96.png";
const WEB_MANIFEST = "client/manifest.webmanifest";
const TEMPLATE = "client/index.html";
// The lazily loaded chunk shares the main bundle's Preact, signals and chat
// state through the host main.tsx hands it; importing them would bundle a
// second copy that does not see the page's state.
const NOT_IN_PWA_CHUNK = /node_modules[\\/]|client[\\/](chat_state|main)\./;
const ASSETS_MARKER = /<!--\s*plaza:assets\b[\s\S]*?-->/;
// Files that get precompressed copies (the service worker is a .js); images
// such as PNG are compressed already.
const COMPRESSIBLE = /\.(js|css|html|svg|webmanifest|map|json)$/;
// Folders whose sources go into the bundle: the client and what it shares
// with the server (types, limits, event names, the mention rule).
const SOURCE_DIRS = ["client", "protocol"];
// Other inputs that change the bundle: the pinned dependency versions and
// this build recipe itself.
const EXTRA_INPUTS = [
  "deno.lock",
  "tools/build_client.ts",
];

function paths(options: BuildOptions): { root: string; outDir: string } {
  const root = resolve(options.root ?? DEFAULT_ROOT);
  const outDir = resolve(options.outDir ?? join(root, "dist"));
  return { root, outDir };
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await listFiles(path));
    else if (entry.isFile) found.push(path);
  }
  return found;
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data.slice());
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** SHA-256 over the paths and contents of everything the bundle is built from. */
export async function computeInputHash(
  root: string = DEFAULT_ROOT,
): Promise<string> {
  const sources = (await Promise.all(
    // A root without protocol/ (a test's scratch copy) hashes what it has.
    SOURCE_DIRS.map((dir) =>
      listFiles(join(root, dir)).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return [];
        throw error;
      })
    ),
  )).flat()
    .map((p) => relative(root, p))
    .filter((p) => !/_test\.tsx?$/.test(p));
  const inputs = [...sources, ...EXTRA_INPUTS].sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const path of inputs) {
    const contents = await readIfExists(join(root, path));
    // Path and length framing keep "a"+"bc" and "ab"+"c" from colliding.
    parts.push(encoder.encode(`${path}\0${contents?.length ?? -1}\0`));
    if (contents) parts.push(contents);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return await sha256Hex(all);
}

async function readManifest(outDir: string): Promise<BuildManifest | null> {
  try {
    const parsed: unknown = JSON.parse(
      await Deno.readTextFile(join(outDir, "build.json")),
    );
    if (typeof parsed !== "object" || parsed === null) return null;
    const m = parsed as Record<string, unknown>;
    const strings = (v: unknown): v is string[] =>
      Array.isArray(v) && v.every((f) => typeof f === "string");
    if (
      typeof m.inputHash !== "string" || !strings(m.files) ||
      !strings(m.compressed)
    ) return null;
    return {
      inputHash: m.inputHash,
      files: m.files,
      compressed: m.compressed,
      builtAt: String(m.builtAt),
    };
  } catch {
    return null; // missing or corrupt: treat as never built
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** True when dist needs a rebuild: no build.json, a missing output, or changed inputs. */
export async function isClientBuildStale(
  options: BuildOptions = {},
): Promise<boolean> {
  const { root, outDir } = paths(options);
  const manifest = await readManifest(outDir);
  if (manifest === null) return true;
  for (
    const file of new Set([
      "index.html",
      ...manifest.files,
      ...manifest.compressed,
    ])
  ) {
    if (!await exists(join(outDir, file))) return true;
  }
  return manifest.inputHash !== await computeInputHash(root);
}

/** Brotli at its best (quality 11, text mode): built once, sent many times. */
export function brotli(data: Uint8Array): Uint8Array {
  return brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
    },
  });
}

/**
 * Gzip by Zopfli, which finds a smaller deflate stream than zlib's level 9:
 * the main bundle is 15,870 B instead of 16,422 B (3.4 % less for every
 * gzip-only client) for about 0.15 s of build time per large file. The
 * header's time is 0, so a build is reproducible.
 */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  return await gzipAsync(data, { numiterations: ZOPFLI_ITERATIONS });
}

// Writes through a temporary name so a running server never serves half a file.
async function writeAtomic(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

// Write order: hashed assets (0), the files naming them (1), the shell (2).
function rank(path: string, assetsDir: string): number {
  return path.startsWith(assetsDir) ? 0 : path.endsWith("index.html") ? 2 : 1;
}

function toPosix(path: string): string {
  return path.split("\\").join("/");
}

/**
 * In the lazy chunks, `import css from "./x.css" with { type: "text" }`
 * (Deno's text import, so `deno check` knows it) is that file minified, as
 * a string (client/lazy_styles.ts adopts it), so their rules stay out of
 * the main stylesheet's budget.
 */
const cssAsText: esbuild.Plugin = {
  name: "css-as-text",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const source = await Deno.readTextFile(args.path);
      const { code } = await esbuild.transform(source, {
        loader: "css",
        minify: true,
      });
      return {
        contents: `export default ${JSON.stringify(code.trim())};`,
        loader: "js",
      };
    });
  },
};

/** Bundles client/ with esbuild and writes index.html, assets/ and build.json. */
export async function buildClient(
  options: BuildOptions = {},
): Promise<BuildResult> {
  const started = performance.now();
  const { root, outDir } = paths(options);
  const assetsDir = join(outDir, "assets");
  // Hash before bundling: a source edited during the build leaves it stale.
  const inputHash = await computeInputHash(root);

  const url = (abs: string) => `/${toPosix(relative(outDir, abs))}`;
  const written = new Map<string, Uint8Array>();
  let jsPath: string | undefined;
  let cssPath: string | undefined;
  let pwaPath: string | undefined;
  let extrasPath: string | undefined;
  let searchPath: string | undefined;
  let attachPath: string | undefined;
  let roomPath: string | undefined;
  const swPath = join(outDir, "sw.js");
  let cacheName = "";
  try {
    const common = {
      absWorkingDir: root,
      bundle: true,
      platform: "browser",
      minify: true,
      target: "es2022",
      charset: "utf8",
      metafile: true,
      write: false,
      logLevel: "warning",
    } as const;

    // The chunks first: the main bundle carries their hashed URLs. Each
    // bundles on its own (no splitting): they share nothing worth a third file.
    const chunk: esbuild.BuildOptions & typeof common = {
      ...common,
      format: "esm",
      // As the main bundle's, calling the h the host lends.
      jsx: "transform",
      jsxFactory: "h",
      jsxFragment: "Fragment",
      alias: { preact: "./client/extras/lent_preact.ts" },
      plugins: [cssAsText],
      entryNames: "[name]-[hash]",
      outdir: assetsDir,
    };
    // The pictures chunk before the others: the client/pwa chunk loads it,
    // so its URL costs the main bundle nothing.
    const attach = await esbuild.build({
      ...chunk,
      entryPoints: [ATTACH_ENTRY],
    });
    const attachOut = Object.keys(attach.metafile.outputs).find((out) =>
      attach.metafile.outputs[out].entryPoint === ATTACH_ENTRY
    );
    const attachUrl = attachOut && url(resolve(root, attachOut));
    const pwa = await esbuild.build({
      ...chunk,
      entryPoints: [PWA_ENTRY, EXTRAS_ENTRY, SEARCH_ENTRY, ROOM_ENTRY],
      define: { PLAZA_ATTACH_CHUNK: JSON.stringify(attachUrl) },
      external: attachUrl ? [attachUrl] : [],
    });
    const outputs = {
      ...attach.metafile.outputs,
      ...pwa.metafile.outputs,
    };
    for (const [out, meta] of Object.entries(outputs)) {
      if (meta.entryPoint === PWA_ENTRY) pwaPath = resolve(root, out);
      if (meta.entryPoint === EXTRAS_ENTRY) extrasPath = resolve(root, out);
      if (meta.entryPoint === SEARCH_ENTRY) searchPath = resolve(root, out);
      if (meta.entryPoint === ATTACH_ENTRY) attachPath = resolve(root, out);
      if (meta.entryPoint === ROOM_ENTRY) roomPath = resolve(root, out);
      const shared = Object.keys(meta.inputs).filter((i) =>
        NOT_IN_PWA_CHUNK.test(i)
      );
      if (shared.length > 0) {
        throw new Error(
          `${meta.entryPoint} must reach ${
            shared.join(", ")
          } through its host (client/pwa/host.ts), not import it`,
        );
      }
    }
    if (
      pwaPath === undefined || extrasPath === undefined ||
      searchPath === undefined || attachPath === undefined ||
      roomPath === undefined
    ) {
      throw new Error(
        `esbuild produced no bundle for ${PWA_ENTRY}, ${EXTRAS_ENTRY}, ${SEARCH_ENTRY}, ${ATTACH_ENTRY} or ${ROOM_ENTRY}`,
      );
    }
    for (const file of [...attach.outputFiles, ...pwa.outputFiles]) {
      written.set(file.path, file.contents);
    }

    const main = await esbuild.build({
      ...common,
      entryPoints: [ENTRY],
      format: "esm",
      // The classic runtime (h calls): about 150 B gzipped smaller than the
      // automatic one, which matters under the 14 KB budget.
      jsx: "transform",
      jsxFactory: "h",
      jsxFragment: "Fragment",
      entryNames: "[name]-[hash]",
      assetNames: "[name]-[hash]",
      outdir: assetsDir,
      define: {
        PLAZA_PWA_CHUNK: JSON.stringify(url(pwaPath)),
        PLAZA_EXTRAS_CHUNK: JSON.stringify(url(extrasPath)),
        PLAZA_SEARCH_CHUNK: JSON.stringify(url(searchPath)),
        PLAZA_ROOM_CHUNK: JSON.stringify(url(roomPath)),
      },
      // Loaded by URL at run time, not bundled.
      external: [
        url(pwaPath),
        url(extrasPath),
        url(searchPath),
        url(roomPath),
      ],
    });
    for (const [out, meta] of Object.entries(main.metafile.outputs)) {
      if (meta.entryPoint === ENTRY) {
        jsPath = resolve(root, out);
        if (meta.cssBundle) cssPath = resolve(root, meta.cssBundle);
      }
    }
    if (jsPath === undefined || cssPath === undefined) {
      throw new Error(`esbuild produced no JS or no CSS bundle for ${ENTRY}`);
    }
    for (const file of main.outputFiles) written.set(file.path, file.contents);

    // Icons are linked from HTML and the manifest, not imported, so esbuild
    // never sees them: they get content-hashed names here.
    const hashed = async (source: string): Promise<string | null> => {
      const data = await readIfExists(join(root, source));
      if (data === null) return null;
      const name = source.slice(source.lastIndexOf("/") + 1);
      const dot = name.lastIndexOf(".");
      const path = join(
        assetsDir,
        `${name.slice(0, dot)}-${(await sha256Hex(data)).slice(0, 8)}${
          name.slice(dot)
        }`,
      );
      written.set(path, data);
      return url(path);
    };
    const favicon = await hashed(ICON);
    const appleIcon = await hashed(`${ICONS_DIR}/${APPLE_ICON}`);
    const badge = await hashed(`${ICONS_DIR}/${BADGE_ICON}`);

    // The web app manifest names icons and screenshots relative to
    // client/; they become their hashed URLs. Its own URL stays put:
    // browsers key the installed app on it (and on its id).
    const webManifest = JSON.parse(
      await Deno.readTextFile(join(root, WEB_MANIFEST)),
    ) as { icons?: { src: string }[]; screenshots?: { src: string }[] };
    for (const icon of webManifest.icons ?? []) {
      const src = await hashed(`client/${icon.src}`);
      if (src === null) {
        throw new Error(`${WEB_MANIFEST} names a missing icon: ${icon.src}`);
      }
      icon.src = src;
    }
    // Only the install dialog shows the screenshots: served, but kept out
    // of the service worker's cache, which every page load would fill.
    const notInShell = new Set<string>();
    for (const shot of webManifest.screenshots ?? []) {
      const src = await hashed(`client/${shot.src}`);
      if (src === null) {
        throw new Error(
          `${WEB_MANIFEST} names a missing screenshot: ${shot.src}`,
        );
      }
      shot.src = src;
      notInShell.add(src);
    }
    const manifestText = JSON.stringify(webManifest, null, 2) + "\n";
    written.set(
      join(outDir, "manifest.webmanifest"),
      new TextEncoder().encode(manifestText),
    );

    const template = await Deno.readTextFile(join(root, TEMPLATE));
    if (!ASSETS_MARKER.test(template)) {
      throw new Error(`${TEMPLATE} lacks the <!-- plaza:assets --> marker`);
    }
    const tags = [
      favicon && `<link rel="icon" type="image/svg+xml" href="${favicon}">`,
      appleIcon && `<link rel="apple-touch-icon" href="${appleIcon}">`,
      `<link rel="stylesheet" href="${url(cssPath)}">`,
      `<script type="module" src="${url(jsPath)}"></script>`,
    ].filter((t) => t).join("\n    ");
    const html = template.replace(ASSETS_MARKER, () => tags);
    written.set(join(outDir, "index.html"), new TextEncoder().encode(html));

    // /embed: the same page marked "embed", with a script that runs before
    // it is drawn and a stylesheet of its own (client/embed/), so that
    // neither the room's page nor its main bundle carries any of it.
    const embed = await esbuild.build({
      ...common,
      entryPoints: EMBED_ENTRIES,
      format: "iife",
      entryNames: "[name]-[hash]",
      outdir: assetsDir,
    });
    const [script, style] = [".js", ".css"].map((ext) => {
      const file = embed.outputFiles.find((f) => f.path.endsWith(ext))!;
      written.set(file.path, file.contents);
      return url(file.path);
    });
    const embedTags = [
      `<script src="${script}"></script>`,
      tags,
      // After the room's stylesheet, which it adjusts.
      `<link rel="stylesheet" href="${style}">`,
    ].join("\n    ");
    written.set(
      join(outDir, "embed.html"),
      new TextEncoder().encode(
        template.replace("<html", '<html class="embed"')
          .replace(ASSETS_MARKER, () => embedTags),
      ),
    );

    // What the service worker keeps for offline starts: the shell, every
    // hashed asset and the manifest. Its cache is named after all of them,
    // so any change to the client makes a new cache (and a new sw.js, which
    // is how browsers notice a new version).
    const shell = [
      "/",
      "/manifest.webmanifest",
      ...[...written.keys()].filter((p) => p.startsWith(assetsDir)).map(url)
        .filter((u) => !notInShell.has(u)).sort(),
    ];
    cacheName = `plaza-${
      (await sha256Hex(
        new TextEncoder().encode(JSON.stringify([shell, html, manifestText])),
      )).slice(0, 16)
    }`;
    const sw = await esbuild.build({
      ...common,
      entryPoints: [SW_ENTRY],
      // A classic script: module service workers are not in every browser
      // that supports push.
      format: "iife",
      outfile: swPath,
      define: {
        PLAZA_CACHE: JSON.stringify(cacheName),
        PLAZA_SHELL: JSON.stringify(shell),
        PLAZA_ICONS: JSON.stringify({
          icon: webManifest.icons?.[0]?.src ?? "",
          badge: badge ?? "",
        }),
      },
    });
    for (const file of sw.outputFiles) {
      if (file.path.endsWith(".js")) written.set(swPath, file.contents);
    }
  } finally {
    // esbuild's service is a child process; under Deno it must be stopped.
    await esbuild.stop();
  }

  const served = [...written.keys()];
  const compressed: string[] = [];
  for (const path of served) {
    if (!COMPRESSIBLE.test(path)) continue;
    const data = written.get(path)!;
    written.set(path + COMPRESSED_SUFFIXES.br, brotli(data));
    written.set(path + COMPRESSED_SUFFIXES.gzip, await gzip(data));
    compressed.push(
      path + COMPRESSED_SUFFIXES.br,
      path + COMPRESSED_SUFFIXES.gzip,
    );
  }

  // Assets first, then the files that name them, index.html last: a running
  // server reading dist/ never sees a page that links a missing file.
  await Deno.mkdir(assetsDir, { recursive: true });
  const order = [...written.keys()].sort((a, b) =>
    rank(a, assetsDir) - rank(b, assetsDir)
  );
  for (const path of order) await writeAtomic(path, written.get(path)!);

  // Old hashed files go only after index.html points at the new ones.
  for await (const entry of Deno.readDir(assetsDir)) {
    const path = join(assetsDir, entry.name);
    if (entry.isFile && !written.has(path)) await Deno.remove(path);
  }

  const relativeTo = (paths: string[]) =>
    paths.map((p) => toPosix(relative(outDir, p))).sort();
  const manifest: BuildManifest = {
    inputHash,
    files: relativeTo(served),
    compressed: relativeTo(compressed),
    builtAt: new Date().toISOString(),
  };
  // Written last: an interrupted build leaves no manifest claiming freshness.
  await writeAtomic(
    join(outDir, "build.json"),
    JSON.stringify(manifest, null, 2) + "\n",
  );

  const asset = (abs: string): AssetInfo => ({
    path: toPosix(relative(outDir, abs)),
    bytes: written.get(abs)?.length ?? 0,
    gzipBytes: written.get(abs + COMPRESSED_SUFFIXES.gzip)?.length ?? 0,
    brotliBytes: written.get(abs + COMPRESSED_SUFFIXES.br)?.length ?? 0,
  });
  return {
    ...manifest,
    js: asset(jsPath!),
    css: asset(cssPath!),
    pwa: asset(pwaPath!),
    extras: asset(extrasPath!),
    search: asset(searchPath!),
    attach: asset(attachPath!),
    room: asset(roomPath!),
    sw: asset(swPath),
    cacheName,
    durationMs: Math.round(performance.now() - started),
  };
}

function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/** One line for the terminal: where the build went and how big it is. */
export function formatSummary(result: BuildResult, outDir: string): string {
  const size = (a: AssetInfo) =>
    `${a.path} ${kb(a.brotliBytes)} br, ${kb(a.gzipBytes)} gzip (${
      kb(a.bytes)
    })`;
  return `client built in ${result.durationMs} ms -> ${outDir}: ` +
    [
      result.js,
      result.css,
      result.pwa,
      result.extras,
      result.search,
      result.attach,
      result.room,
      result.sw,
    ]
      .map(size)
      .join(", ");
}

function parseArgs(args: string[]): { ifStale: boolean; outDir?: string } {
  let ifStale = false;
  let outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--if-stale") ifStale = true;
    else if (arg === "--out-dir" && i + 1 < args.length) outDir = args[++i];
    else if (arg.startsWith("--out-dir=")) {
      outDir = arg.slice("--out-dir=".length);
    } else {
      throw new Error(
        `unknown argument ${
          JSON.stringify(arg)
        }; usage: build_client.ts [--if-stale] [--out-dir DIR]`,
      );
    }
  }
  return { ifStale, outDir };
}

if (import.meta.main) {
  try {
    const { ifStale, outDir: given } = parseArgs(Deno.args);
    const outDir = given === undefined
      ? undefined
      : isAbsolute(given)
      ? given
      : resolve(Deno.cwd(), given);
    const shown = relative(Deno.cwd(), paths({ outDir }).outDir) || ".";
    if (ifStale && !await isClientBuildStale({ outDir })) {
      console.log(`client build in ${shown} is up to date`);
    } else {
      console.log(formatSummary(await buildClient({ outDir }), shown));
    }
  } catch (e) {
    console.error(`client build failed: ${e instanceof Error ? e.message : e}`);
    Deno.exitCode = 1;
  }
}
