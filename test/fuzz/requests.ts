/** Turns a body or a head into a case: raw HTTP/1.1 bytes, chunked framing, or a fetch. */
import { MAX_BODY_BYTES } from "../../server/http/request_fields.ts";
import { type Bytes, bytesOf, encoder } from "./bytes.ts";
import type { Case, GenContext, Kind, Route } from "./cases.ts";
import { predictPost } from "./oracle_post.ts";
import type { Rng } from "./rng.ts";

/** An HTTP/1.1 request with Host, the given headers, Content-Length when there is a body, and Connection: close. */
export function rawRequest(
  ctx: GenContext,
  method: string,
  target: string,
  headers: [string, string][],
  body?: Uint8Array,
): Bytes {
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${ctx.host}`];
  for (const [k, v] of headers) head.push(`${k}: ${v}`);
  if (body !== undefined) head.push(`Content-Length: ${body.byteLength}`);
  head.push("Connection: close");
  return bytesOf(head.join("\r\n"), "\r\n\r\n", body ?? new Uint8Array());
}

/** A chunked-encoded body (sizes in hex, as on the wire), optionally without its last chunk. */
export function chunkedBody(
  body: Uint8Array,
  sizes: number[],
  finish = true,
): Bytes {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    const piece = body.subarray(offset, offset + size);
    if (piece.byteLength === 0) break;
    parts.push(bytesOf(`${piece.byteLength.toString(16)}\r\n`, piece, "\r\n"));
    offset += piece.byteLength;
  }
  if (finish) parts.push(encoder.encode("0\r\n\r\n"));
  return bytesOf(...parts);
}

/** Random chunk sizes (1 byte to 64 KiB) that add up to `total`. */
export function chunkSizes(g: Rng, total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(left, g.int(1, g.pick([16, 1024, 8192, 65536])));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** A POST of `body` to `path`, by fetch or raw socket, with its predicted answer. */
export function postCase(
  g: Rng,
  ctx: GenContext,
  kind: Kind,
  path: "/messages" | "/typing",
  contentType: string | null,
  body: Bytes,
  options: { raw?: boolean; origin?: string; chunked?: boolean } = {},
): Case {
  const prediction = predictPost(path, contentType, body, ctx.pool, {
    header: options.origin,
    host: ctx.host,
  });
  const headers: [string, string][] = [];
  if (contentType !== null) headers.push(["Content-Type", contentType]);
  if (options.origin !== undefined) headers.push(["Origin", options.origin]);
  const route: Route = path === "/messages" ? "POST /messages" : "POST /typing";
  const bigBody = body.byteLength > MAX_BODY_BYTES;
  // The app answers 403/413/415 without reading the body; a client still
  // sending then sees the connection reset instead of the answer.
  const mayDrop = bigBody || (options.chunked === true &&
    prediction.expect !== undefined &&
    prediction.expect.some((s) => s === 403 || s === 413 || s === 415));
  if (options.raw) {
    if (options.chunked) {
      headers.push(["Transfer-Encoding", "chunked"]);
      const req = rawRequest(ctx, "POST", path, headers);
      return {
        via: "raw",
        kind,
        route,
        ...prediction,
        mayDrop,
        mode: "read",
        bytes: bytesOf(
          req,
          chunkedBody(body, chunkSizes(g, body.byteLength)),
        ),
      };
    }
    return {
      via: "raw",
      kind,
      route,
      ...prediction,
      mayDrop,
      mode: "read",
      bytes: rawRequest(ctx, "POST", path, headers, body),
    };
  }
  return {
    via: "fetch",
    kind,
    route,
    ...prediction,
    mayDrop,
    method: "POST",
    target: path,
    headers,
    body,
    chunks: options.chunked ? chunkSizes(g, body.byteLength) : undefined,
  };
}
