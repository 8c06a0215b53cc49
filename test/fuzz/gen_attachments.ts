/**
 * The generator of picture requests: POST /attachments with valid, broken
 * and hostile images (truncated, bytes flipped, a header declaring a bomb,
 * SVG, HTML, a type the magic numbers contradict), odd names and content
 * types, multipart forms; GET /attachments/<id>[/thumb] for ids that are not
 * there; and POST /messages naming pictures that are not the author's.
 */
import { bytesOf, encoder } from "./bytes.ts";
import type { Case, GenContext } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** A valid 1 x 1 RGBA PNG. */
const PNG_1X1 = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);
/** Starts of other formats: a JPEG SOI with nothing after, GIF and WebP headers, SVG, HTML. */
// deno-fmt-ignore
const OTHER_STARTS = [
  [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0],
  [...encoder.encode("GIF89a"), 1, 0, 1, 0, 0x80, 0, 0],
  [...encoder.encode("RIFF"), 30, 0, 0, 0, ...encoder.encode("WEBPVP8X"), 10, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0, 0xff, 0xff, 0],
  [...encoder.encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
  [...encoder.encode("<!doctype html><script>alert(1)</script>")],
  [],
];
// deno-fmt-ignore
const TYPES = [
  "image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml",
  "text/html", "application/octet-stream", "image/PNG", "image/png; charset=x",
  "image/", "", "application/json",
];
// deno-fmt-ignore
const NAMES = [
  "fz-pic", "fz pic", "", "x".repeat(33), "a\u0007b", "%00", "日本", "\u202eevil",
];
/** Ids GET may ask for: the right shape but never uploaded, and wrong shapes. */
// deno-fmt-ignore
const IDS = [
  "AAAAAAAAAAAAAAAAAAAAAA", "zzzzzzzzzzzzzzzzzzzzz_", "x", "%00", "..%2F..",
  "A".repeat(500), "-", "1", "AAAAAAAAAAAAAAAAAAAAAA.png",
];

/** A picture body: the valid PNG, or it broken one of several ways. */
function pictureBytes(
  g: Rng,
): { bytes: Uint8Array<ArrayBuffer>; valid: boolean } {
  const png = PNG_1X1.slice();
  switch (
    g.weighted(
      [["valid", 3], ["cut", 2], ["flip", 2], ["bomb", 2], ["other", 3], [
        "noise",
        1,
      ]] as const,
    )
  ) {
    case "valid":
      return { bytes: png, valid: true };
    case "cut":
      return { bytes: png.slice(0, g.int(0, png.length - 1)), valid: false };
    case "flip": {
      const at = g.int(0, png.length - 1);
      png[at] ^= 1 << g.int(0, 7);
      return { bytes: png, valid: false };
    }
    case "bomb": {
      // IHDR width and height (the CRC no longer matches either).
      new DataView(png.buffer).setUint32(16, g.int(1, 0xffffffff));
      new DataView(png.buffer).setUint32(20, g.int(1, 0xffffffff));
      return { bytes: png, valid: false };
    }
    case "other":
      return { bytes: Uint8Array.from(g.pick(OTHER_STARTS)), valid: false };
    default:
      return {
        bytes: Uint8Array.from({ length: g.int(0, 600) }, () => g.int(0, 255)),
        valid: false,
      };
  }
}

/** One request to the picture routes, with the statuses it may get. */
export function genAttachment(g: Rng, _ctx: GenContext): Case {
  const op = g.weighted([["upload", 6], ["get", 3], ["post", 2]] as const);
  if (op === "get") {
    const thumb = g.chance(0.4);
    return {
      via: "fetch",
      kind: "attachment",
      route: "GET /attachments/:id",
      method: g.chance(0.8) ? "GET" : "HEAD",
      target: `/attachments/${g.pick(IDS)}${thumb ? "/thumb" : ""}`,
      headers: [],
      expect: [404],
    };
  }
  if (op === "post") {
    const attachments = g.pick<unknown>([
      [{ id: g.pick(IDS) }],
      [{ id: "AAAAAAAAAAAAAAAAAAAAAA", alt: 5 }],
      [{ id: "AAAAAAAAAAAAAAAAAAAAAA", alt: "x".repeat(1001) }],
      Array.from({ length: 5 }, () => ({ id: "AAAAAAAAAAAAAAAAAAAAAA" })),
      "AAAAAAAAAAAAAAAAAAAAAA",
      [null],
      {},
    ]);
    return {
      via: "fetch",
      kind: "attachment",
      route: "POST /messages",
      method: "POST",
      target: "/messages",
      headers: [["Content-Type", "application/json"]],
      body: encoder.encode(
        JSON.stringify({ author: "fz-pic", text: "", attachments }),
      ),
      expect: [400],
    };
  }
  const { bytes, valid } = pictureBytes(g);
  const name = g.chance(0.85) ? "fz-pic" : g.pick(NAMES);
  const query = g.chance(0.1) ? "" : `?name=${encodeURIComponent(name)}`;
  const multipart = g.chance(0.25);
  const headers: [string, string][] = [];
  let body: Uint8Array<ArrayBuffer>;
  let type = "image/png";
  if (multipart) {
    const boundary = "fzboundary" + g.int(0, 1e6);
    type = g.pick(["image/png", "application/octet-stream", "image/gif"]);
    const field = g.chance(0.85) ? "file" : "picture";
    headers.push([
      "Content-Type",
      `multipart/form-data; boundary=${g.chance(0.9) ? boundary : "other"}`,
    ]);
    body = bytesOf(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: ${type}\r\n\r\n`,
      bytes,
      g.chance(0.9) ? `\r\n--${boundary}--\r\n` : "",
    );
  } else {
    type = valid ? g.pick(["image/png", "image/png", ...TYPES]) : g.pick(TYPES);
    if (type !== "") headers.push(["Content-Type", type]);
    body = bytes;
  }
  return {
    via: "fetch",
    kind: "attachment",
    route: "POST /attachments",
    method: "POST",
    target: `/attachments${query}`,
    headers,
    body,
    expect: [201, 400, 413, 415],
  };
}
