/** Generators of broken HTTP framing: bodies cut short and junk on the socket. */
import { type Bytes, bytesOf, encoder, latin1ToBytes } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import { KNOWN_PATHS } from "./gen_targets.ts";
import { chunkedBody, chunkSizes, rawRequest } from "./requests.ts";
import type { Rng } from "./rng.ts";
import { FORM_TYPES, formOf, JSON_TYPES, messageFields } from "./text_pools.ts";

/** A post whose body stops short of its Content-Length or last chunk; never a whole valid post. */
export function genTruncated(g: Rng, ctx: GenContext): Case {
  const path = g.chance(0.8) ? "/messages" : "/typing";
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.3);
  const whole = encoder.encode(
    asForm ? formOf(fields) : JSON.stringify(fields),
  );
  const contentType = g.pick(asForm ? FORM_TYPES : JSON_TYPES);
  // Never the whole body: a complete valid post on a socket we close
  // unread could be stored without our seeing its 201.
  const sent = g.int(0, whole.byteLength - 1);
  const mode = g.chance(0.5) ? "close" : "half-close";
  const route: Route = path === "/messages" ? "POST /messages" : "POST /typing";
  if (g.chance(0.3)) {
    const sizes = chunkSizes(g, whole.byteLength);
    const chunked = chunkedBody(whole, sizes, false);
    return {
      via: "raw",
      kind: "truncated-body",
      route,
      mode,
      mayDrop: true,
      bytes: bytesOf(
        rawRequest(ctx, "POST", path, [
          ["Content-Type", contentType],
          ["Transfer-Encoding", "chunked"],
        ]),
        chunked.subarray(0, g.int(0, chunked.byteLength - 1)),
      ),
    };
  }
  const declared = g.chance(0.5)
    ? whole.byteLength
    : whole.byteLength + g.int(1, 1000);
  return {
    via: "raw",
    kind: "truncated-body",
    route,
    mode,
    mayDrop: true,
    bytes: bytesOf(
      rawRequest(ctx, "POST", path, [
        ["Content-Type", contentType],
        ["Content-Length", String(declared)],
      ]),
      whole.subarray(0, sent),
    ),
  };
}

/** Broken HTTP: request lines, framing, header syntax. Bodies are never valid posts. */
export function genRawJunk(g: Rng, ctx: GenContext): Case {
  const h = `Host: ${ctx.host}\r\n`;
  const junk = [
    "GARBAGE\r\n\r\n",
    "\r\n\r\n",
    "GET / HTTP/2.0\r\n" + h + "\r\n",
    "GET /healthz HTTP/1.0\r\n\r\n",
    "GET /healthz\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + h + "\r\n",
    "GET /healthz HTTP/1.1\r\n" + h,
    "GET /healthz HTTP/1.1\r\n" + h + "X-No-Colon\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Space : v\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Fold: a\r\n b\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "X-Nul: a\u0000b\r\n\r\n",
    "GET /healthz HTTP/1.1\n" + "Host: x\n\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\nTrailer: x\r\n\r\n",
    "POST /messages HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{}",
    "POST /typing HTTP/1.1\r\n" + h +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "GET /healthz HTTP/1.1\r\n" + h + "\r\nGET /nope HTTP/1.1\r\n" + h +
    "\r\n",
  ];
  let bytes: Bytes;
  const roll = g.int(0, 9);
  if (roll < 6) {
    bytes = latin1ToBytes(g.pick(junk));
  } else if (roll < 8) {
    // A well-formed request with a few bytes flipped, dropped or inserted.
    // Its body ("{}") can never be a valid post, however the head breaks.
    bytes = latin1ToBytes(
      `${g.pick(["GET", "POST"])} ${g.pick(KNOWN_PATHS)} HTTP/1.1\r\n${h}` +
        "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    for (let i = 0, n = g.int(1, 4); i < n; i++) {
      const at = g.int(0, bytes.length - 1);
      const action = g.int(0, 2);
      const insert = g.pick([0x00, 0x0a, 0x0d, 0x3a, 0x20, 0xff, 0x7f]);
      bytes = action === 0
        ? bytesOf(bytes.subarray(0, at), bytes.subarray(at + 1))
        : action === 1
        ? bytesOf(bytes.subarray(0, at), [insert], bytes.subarray(at))
        : bytesOf(bytes.subarray(0, at), [insert], bytes.subarray(at + 1));
    }
  } else {
    bytes = Uint8Array.from(
      { length: g.int(1, 2000) },
      () => g.int(0, 255),
    );
  }
  return {
    via: "raw",
    kind: "raw-junk",
    mode: "half-close",
    mayDrop: true,
    bytes,
  };
}
