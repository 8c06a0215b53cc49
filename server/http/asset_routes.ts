/**
 * The built client's files, served from memory in the encoding the client
 * prefers: the build's brotli or gzip copy, or the file as built.
 *
 * Not Hono's serveStatic (hono/deno with `precompressed: true`), read and
 * measured on Hono 4.13.19. Speed does not decide it: fetching the 35 KB
 * main bundle as brotli with 32 clients on 127.0.0.1 (a busy 2-core
 * machine, the clients in the same process), serveStatic served 1,000–2,200
 * requests/s and this 900–1,800 over three alternating runs, ahead in each
 * by less than the spread between runs. What it lacks decides: it opens the file (and its .br/.gz) on every request, costing
 * descriptors that resilient_serve.ts and the stream cap ration; it sends
 * no Content-Length and no ETag; it adds `Vary: Accept-Encoding` only to
 * compressed answers, so a shared cache may hand an identity answer to
 * everyone; it weighs no q-values (any q > 0 counts the same); per-file
 * Cache-Control would need its onFound hook; and hono/deno is deprecated in
 * favour of @hono/deno, which is on JSR (out of reach here). Files in
 * memory also serve unchanged from a `deno compile` binary.
 */
import type { Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { etag } from "hono/etag";
import type { AppEnv } from "./app_env.ts";
import {
  type Asset,
  type ClientAssets,
  type ContentCoding,
  ROOT_FILES,
} from "./client_assets.ts";
import { errorResponse } from "./http_error.ts";
import { EMBED_PATH } from "./security_headers.ts";

/** A message's permalink: the page, which opens the room at that message (client/pwa/message_target.ts). */
export const PERMALINK_PATH = "/m/:id";

/** One coding of a parsed Accept-Encoding, as hono/accepts hands it over. */
export interface AcceptedCoding {
  type: string;
  q: number;
}

// Between encodings the client rates equally, the smaller one.
const PREFERENCE: readonly ContentCoding[] = ["br", "gzip"];

/**
 * The encoding to send `asset` in: of the copies it has, the one the
 * client's Accept-Encoding rates highest (q > 0; `*` covers codings it does
 * not name), brotli before gzip on a tie; else the file as built.
 */
export function chooseEncoding(
  asset: Asset,
  acceptEncoding: readonly AcceptedCoding[],
): ContentCoding | "identity" {
  const q = (coding: string) =>
    (acceptEncoding.find((a) => a.type.toLowerCase() === coding) ??
      acceptEncoding.find((a) => a.type === "*"))?.q ?? 0;
  let best: ContentCoding | "identity" = "identity";
  let bestQ = 0;
  for (const coding of PREFERENCE) {
    if (asset.encoded?.[coding] === undefined) continue;
    if (q(coding) > bestQ) {
      best = coding;
      bestQ = q(coding);
    }
  }
  return best;
}

/** The response for `asset` in the encoding the request prefers. */
export function assetResponse(c: Context<AppEnv>, asset: Asset): Response {
  const encodings = Object.keys(asset.encoded ?? {});
  const coding = encodings.length === 0 ? "identity" : accepts(c, {
    header: "Accept-Encoding",
    supports: encodings,
    default: "identity",
    match: (parsed) => chooseEncoding(asset, parsed),
  }) as ContentCoding | "identity";
  const chosen = coding === "identity" ? null : asset.encoded?.[coding];
  const body = chosen?.body ?? asset.body;
  const headers: Record<string, string> = {
    ...asset.headers,
    // Set here so that HEAD carries it too (Hono drops HEAD's body).
    "Content-Length": String(body.byteLength),
  };
  if (encodings.length > 0) headers["Vary"] = "Accept-Encoding";
  if (chosen) {
    headers["Content-Encoding"] = coding;
    headers["ETag"] = chosen.etag;
  }
  return new Response(body, { headers });
}

/**
 * Adds GET / and PERMALINK_PATH (the HTML shell), EMBED_PATH (the compact
 * shell for iframes), /assets/:file and the ROOT_FILES (see client_assets.ts).
 */
export function registerAssetRoutes(
  app: Hono<AppEnv>,
  assets: ClientAssets | null,
): void {
  // If-None-Match against each encoding's own ETag: 304 without a body.
  const pages = ["/", PERMALINK_PATH, EMBED_PATH];
  for (const path of [...pages, "/assets/:file", ...ROOT_FILES]) {
    app.use(path, etag());
  }
  // Any id gets the page: one that names no message (not a number, deleted,
  // never posted) gets a quiet line there rather than an error page.
  for (const path of pages) {
    app.get(path, (c) => {
      const page = path === EMBED_PATH ? assets?.embed : assets?.index;
      if (!page) {
        return new Response(
          "Plaza's client is not built yet: run `deno task build`, then reload.\n",
          {
            status: 503,
            headers: { "Content-Type": "text/plain; charset=utf-8" },
          },
        );
      }
      return assetResponse(c, page);
    });
  }
  const serveFile = (c: Context<AppEnv>) => {
    const asset = assets?.files.get(c.req.path);
    if (!asset) return errorResponse(404, "No such asset.");
    return assetResponse(c, asset);
  };
  app.get("/assets/:file", serveFile);
  for (const path of ROOT_FILES) app.get(path, serveFile);
}
