/**
 * Builds the browser client into dist/: hashed JS and CSS bundles, an
 * index.html that references them (no inline script or style, so a strict CSP
 * can forbid both) and build.json, whose input hash lets `--if-stale` skip a
 * rebuild when nothing the bundle depends on has changed.
 *
 *   deno run -A server/build_client.ts [--if-stale] [--out-dir DIR]
 */
import * as esbuild from "esbuild";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where to build from and to; both default to this repository's layout. */
export interface BuildOptions {
  /** Repository root holding client/, server/message.ts and deno.lock. */
  root?: string;
  /** Output directory; defaults to `<root>/dist`. */
  outDir?: string;
}

/** One emitted bundle and its size. */
export interface AssetInfo {
  /** Path relative to outDir, e.g. "assets/main-AB12CD34.js". */
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** Contents of `<outDir>/build.json`. */
export interface BuildManifest {
  inputHash: string;
  /** Every file of the build, relative to outDir. */
  files: string[];
  builtAt: string;
}

/** What buildClient produced. */
export interface BuildResult extends BuildManifest {
  js: AssetInfo;
  css: AssetInfo;
  durationMs: number;
}

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = "client/main.tsx";
const ICON = "client/favicon.svg";
const TEMPLATE = "client/index.html";
const ASSETS_MARKER = /<!--\s*plaza:assets\b[\s\S]*?-->/;
// Inputs outside client/ that change the bundle: the shared Message type,
// the pinned dependency versions, and this build recipe itself.
const EXTRA_INPUTS = [
  "server/message.ts",
  "deno.lock",
  "server/build_client.ts",
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
  const clientFiles = (await listFiles(join(root, "client")))
    .map((p) => relative(root, p))
    .filter((p) => !/_test\.tsx?$/.test(p));
  const inputs = [...clientFiles, ...EXTRA_INPUTS].sort();
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
    if (
      typeof m.inputHash !== "string" || !Array.isArray(m.files) ||
      !m.files.every((f) => typeof f === "string")
    ) return null;
    return {
      inputHash: m.inputHash,
      files: m.files,
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
  for (const file of new Set(["index.html", ...manifest.files])) {
    if (!await exists(join(outDir, file))) return true;
  }
  return manifest.inputHash !== await computeInputHash(root);
}

async function gzipSize(data: Uint8Array): Promise<number> {
  const stream = new Blob([data.slice()]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  let size = 0;
  for await (const chunk of stream) size += chunk.length;
  return size;
}

// Writes through a temporary name so a running server never serves half a file.
async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, data);
  await Deno.rename(tmp, path);
}

function toPosix(path: string): string {
  return path.split("\\").join("/");
}

/** Bundles client/ with esbuild and writes index.html, assets/ and build.json. */
export async function buildClient(
  options: BuildOptions = {},
): Promise<BuildResult> {
  const started = performance.now();
  const { root, outDir } = paths(options);
  const assetsDir = join(outDir, "assets");
  // Hash before bundling: a source edited during the build leaves it stale.
  const inputHash = await computeInputHash(root);

  let result: esbuild.BuildResult<{ metafile: true; write: false }>;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [ENTRY],
      bundle: true,
      platform: "browser",
      format: "esm",
      // The classic runtime (h calls): about 150 B gzipped smaller than the
      // automatic one, which matters under the 14 KB budget.
      jsx: "transform",
      jsxFactory: "h",
      jsxFragment: "Fragment",
      minify: true,
      target: "es2022",
      charset: "utf8",
      entryNames: "[name]-[hash]",
      assetNames: "[name]-[hash]",
      outdir: assetsDir,
      metafile: true,
      write: false,
      logLevel: "warning",
    });
  } finally {
    // esbuild's service is a child process; under Deno it must be stopped.
    await esbuild.stop();
  }

  let jsPath: string | undefined;
  let cssPath: string | undefined;
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint === ENTRY) {
      jsPath = resolve(root, out);
      if (meta.cssBundle) cssPath = resolve(root, meta.cssBundle);
    }
  }
  if (jsPath === undefined || cssPath === undefined) {
    throw new Error(`esbuild produced no JS or no CSS bundle for ${ENTRY}`);
  }

  await Deno.mkdir(assetsDir, { recursive: true });
  const written = new Map<string, Uint8Array>();
  for (const file of result.outputFiles) {
    await Deno.writeFile(file.path, file.contents);
    written.set(file.path, file.contents);
  }

  // The icon is linked from HTML, not imported, so esbuild never sees it.
  const iconSource = await readIfExists(join(root, ICON));
  let iconTag = "";
  if (iconSource !== null) {
    const name = `favicon-${(await sha256Hex(iconSource)).slice(0, 8)}.svg`;
    const iconPath = join(assetsDir, name);
    await Deno.writeFile(iconPath, iconSource);
    written.set(iconPath, iconSource);
    iconTag = `<link rel="icon" type="image/svg+xml" href="/assets/${name}">`;
  }

  const url = (abs: string) => `/${toPosix(relative(outDir, abs))}`;
  const template = await Deno.readTextFile(join(root, TEMPLATE));
  if (!ASSETS_MARKER.test(template)) {
    throw new Error(`${TEMPLATE} lacks the <!-- plaza:assets --> marker`);
  }
  const tags = [
    iconTag,
    `<link rel="stylesheet" href="${url(cssPath)}">`,
    `<script type="module" src="${url(jsPath)}"></script>`,
  ].filter((t) => t !== "").join("\n    ");
  await writeAtomic(
    join(outDir, "index.html"),
    template.replace(ASSETS_MARKER, () => tags),
  );

  // Old hashed files go only after index.html points at the new ones.
  for await (const entry of Deno.readDir(assetsDir)) {
    const path = join(assetsDir, entry.name);
    if (entry.isFile && !written.has(path)) await Deno.remove(path);
  }

  const files = [
    "index.html",
    ...[...written.keys()].map((p) => toPosix(relative(outDir, p))).sort(),
  ];
  const manifest: BuildManifest = {
    inputHash,
    files,
    builtAt: new Date().toISOString(),
  };
  // Written last: an interrupted build leaves no manifest claiming freshness.
  await writeAtomic(
    join(outDir, "build.json"),
    JSON.stringify(manifest, null, 2) + "\n",
  );

  const asset = async (abs: string): Promise<AssetInfo> => {
    const data = written.get(abs) ?? new Uint8Array();
    return {
      path: toPosix(relative(outDir, abs)),
      bytes: data.length,
      gzipBytes: await gzipSize(data),
    };
  };
  return {
    ...manifest,
    js: await asset(jsPath),
    css: await asset(cssPath),
    durationMs: Math.round(performance.now() - started),
  };
}

function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/** One line for the terminal: where the build went and how big it is. */
export function formatSummary(result: BuildResult, outDir: string): string {
  const { js, css } = result;
  return `client built in ${result.durationMs} ms -> ${outDir}: ` +
    `${js.path} ${kb(js.gzipBytes)} gzip (${kb(js.bytes)}), ` +
    `${css.path} ${kb(css.gzipBytes)} gzip (${kb(css.bytes)})`;
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
