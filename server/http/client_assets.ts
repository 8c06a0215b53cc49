import { fileURLToPath } from "node:url";

/** One built file, held in memory with the headers it is served with. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

/** The built client: the HTML shell and its other files by URL path. */
export interface ClientAssets {
  index: Asset;
  /** Hashed assets under /assets/, plus the unhashed ROOT_FILES. */
  files: Map<string, Asset>;
}

/**
 * Files served from the root under fixed names: the service worker (its
 * scope is the directory it is served from, so it must be /sw.js) and the
 * web app manifest (browsers key an installed app on its URL). Both are
 * revalidated on every use, so a deploy reaches installed apps.
 */
export const ROOT_FILES = ["/sw.js", "/manifest.webmanifest"] as const;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return TYPES[dot === -1 ? "" : name.slice(dot)] ??
    "application/octet-stream";
}

// The repository root as this module sees it. In a `deno compile` binary
// (`deno task compile`) that is the root of the embedded files, where
// `--include dist/…` put the built client.
const EMBEDDED_ROOT = new URL("../../", import.meta.url);

/**
 * Loads dist/ into memory; returns null when the client has not been built.
 * In a compiled binary a relative `distDir` not found in the working
 * directory is looked up among the embedded files, so the binary serves its
 * own client wherever it is started from.
 */
export async function loadClientAssets(
  distDir: string,
): Promise<ClientAssets | null> {
  let dir = distDir;
  let index = await readIndex(dir);
  if (index === null && Deno.build.standalone && !dir.startsWith("/")) {
    dir = fileURLToPath(new URL(dir.replace(/\/*$/, "/"), EMBEDDED_ROOT));
    index = await readIndex(dir);
  }
  if (index === null) return null;
  const files = new Map<string, Asset>();
  try {
    for await (const entry of Deno.readDir(`${dir}/assets`)) {
      if (!entry.isFile) continue;
      files.set(`/assets/${entry.name}`, {
        body: await Deno.readFile(`${dir}/assets/${entry.name}`),
        headers: {
          "Content-Type": contentType(entry.name),
          // Names carry a content hash, so a URL never changes meaning.
          "Cache-Control": "public, max-age=31536000, immutable",
        },
      });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const path of ROOT_FILES) {
    const body = await readIfExists(`${dir}${path}`);
    if (body === null) continue;
    files.set(path, {
      body,
      headers: {
        "Content-Type": contentType(path),
        "Cache-Control": "no-cache",
      },
    });
  }
  return {
    index: {
      body: index,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        // The shell names the current hashed assets: always revalidate it.
        "Cache-Control": "no-cache",
      },
    },
    files,
  };
}

function readIndex(distDir: string): Promise<Uint8Array<ArrayBuffer> | null> {
  return readIfExists(`${distDir}/index.html`);
}

async function readIfExists(
  path: string,
): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
