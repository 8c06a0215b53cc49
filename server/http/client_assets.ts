import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

/** Content-Encodings the build precompresses text files in (tools/build_client.ts). */
export type ContentCoding = "br" | "gzip";

/** The file names of the precompressed copies, by Content-Encoding. */
export const COMPRESSED_SUFFIXES: Readonly<Record<ContentCoding, string>> = {
  br: ".br",
  gzip: ".gz",
};

/** One encoding of a built file: its bytes and the strong ETag of those bytes. */
export interface Encoded {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/** One built file, held in memory with the headers it is served with. */
export interface Asset {
  /** The file as built (identity). */
  body: Uint8Array<ArrayBuffer>;
  /** Content-Type and Cache-Control; once loaded, the ETag of `body`. */
  headers: Record<string, string>;
  /** The build's precompressed copies; none for files not worth it (images). */
  encoded?: Partial<Record<ContentCoding, Encoded>>;
}

/** The built client: the HTML shell and its other files by URL path. */
export interface ClientAssets {
  index: Asset;
  /** The shell for /embed (dist/embed.html); null in a build without it. */
  embed?: Asset | null;
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
      if (!entry.isFile || isCompressedCopy(entry.name)) continue;
      const path = `${dir}/assets/${entry.name}`;
      files.set(
        `/assets/${entry.name}`,
        await withEncodings(path, await Deno.readFile(path), {
          "Content-Type": contentType(entry.name),
          // Names carry a content hash, so a URL never changes meaning.
          "Cache-Control": "public, max-age=31536000, immutable",
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const path of ROOT_FILES) {
    const body = await readIfExists(`${dir}${path}`);
    if (body === null) continue;
    files.set(
      path,
      await withEncodings(`${dir}${path}`, body, {
        "Content-Type": contentType(path),
        "Cache-Control": "no-cache",
      }),
    );
  }
  const shell = (path: string, body: Uint8Array<ArrayBuffer>) =>
    withEncodings(path, body, {
      "Content-Type": "text/html; charset=utf-8",
      // The shell names the current hashed assets: always revalidate it.
      "Cache-Control": "no-cache",
    });
  const embed = await readIfExists(`${dir}/embed.html`);
  return {
    index: await shell(`${dir}/index.html`, index),
    embed: embed && await shell(`${dir}/embed.html`, embed),
    files,
  };
}

function isCompressedCopy(name: string): boolean {
  return Object.values(COMPRESSED_SUFFIXES).some((s) => name.endsWith(s));
}

const DECODE: Record<ContentCoding, (data: Uint8Array) => Uint8Array> = {
  br: brotliDecompressSync,
  gzip: gunzipSync,
};

/**
 * The built file `body` (read from `path`) with its precompressed copies,
 * each with its ETag. A copy that does not decode to the file (left by
 * another build of an unhashed file, e.g. an older build tool's index.html)
 * is not used: that encoding is then not offered.
 */
async function withEncodings(
  path: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
): Promise<Asset> {
  const encoded: Partial<Record<ContentCoding, Encoded>> = {};
  for (const coding of Object.keys(COMPRESSED_SUFFIXES) as ContentCoding[]) {
    const copy = await readIfExists(path + COMPRESSED_SUFFIXES[coding]);
    if (copy === null || !decodesTo(DECODE[coding], copy, body)) continue;
    encoded[coding] = { body: copy, etag: await etagOf(copy) };
  }
  return {
    body,
    headers: { ...headers, ETag: await etagOf(body) },
    encoded,
  };
}

function decodesTo(
  decode: (data: Uint8Array) => Uint8Array,
  copy: Uint8Array,
  original: Uint8Array,
): boolean {
  let decoded: Uint8Array;
  try {
    decoded = decode(copy);
  } catch {
    return false;
  }
  if (decoded.byteLength !== original.byteLength) return false;
  for (let i = 0; i < decoded.byteLength; i++) {
    if (decoded[i] !== original[i]) return false;
  }
  return true;
}

/** A strong ETag: the first 128 bits of the bytes' SHA-256, in hex. */
async function etagOf(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `"${digest.subarray(0, 16).toHex()}"`;
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
