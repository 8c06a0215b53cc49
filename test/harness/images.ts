/**
 * Pictures for tests, made here so that no binary file sits in the repo:
 * plain ones from imagescript, and hostile ones built byte by byte (a JPEG
 * with GPS EXIF, XMP, IPTC and a comment; a PNG declaring 20,000 x 20,000
 * pixels; an SVG; a GIF with comment and XMP blocks).
 */
import { Frame, GIF, Image, type JPEGQuality } from "imagescript";
import type { createApp } from "../../server/http/app.ts";

/** A string every metadata block below carries, so a test can look for it in stored bytes. */
export const SECRET = "PLAZA-SECRET-METADATA";

const ascii = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A picture of `width` x `height` with some gradient, so encoders have work; `noise` (0–255) adds grain, as a photo has. */
export function testImage(width: number, height: number, noise = 0): Image {
  const image = new Image(width, height);
  const px = image.bitmap;
  let seed = 1;
  const grain = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed / 0x7fffffff) * noise;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const n = noise === 0 ? 0 : grain();
      px[i] = (x * 255) / width + n;
      px[i + 1] = (y * 255) / height + n;
      px[i + 2] = ((x + y) * 7) % 256 + n;
      px[i + 3] = 255;
    }
  }
  return image;
}

/** A PNG of the given size. */
export async function pngBytes(
  width = 64,
  height = 48,
): Promise<Uint8Array<ArrayBuffer>> {
  return concat(await testImage(width, height).encode(1));
}

/** A JPEG of the given size (with grain and at a quality when given). */
export async function jpegBytes(
  width = 64,
  height = 48,
  { noise = 0, quality = 90 }: { noise?: number; quality?: JPEGQuality } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  return concat(await testImage(width, height, noise).encodeJPEG(quality));
}

/** A WebP of the given size. */
export async function webpBytes(
  width = 64,
  height = 48,
): Promise<Uint8Array<ArrayBuffer>> {
  return concat(await testImage(width, height).encodeWEBP(80));
}

function segment(marker: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(4);
  head[0] = 0xff;
  head[1] = marker;
  new DataView(head.buffer).setUint16(2, payload.length + 2);
  return concat(head, payload);
}

/** A big-endian TIFF block: IFD0 with Orientation, Make (SECRET) and a GPS IFD with latitude N 48°51'. */
function exifTiff(orientation: number): Uint8Array {
  const b = new Uint8Array(200);
  const v = new DataView(b.buffer);
  b.set(ascii("MM\0*"), 0);
  v.setUint32(4, 8);
  // IFD0 at 8: 3 entries.
  v.setUint16(8, 3);
  const entry = (at: number, tag: number, type: number, count: number) => {
    v.setUint16(at, tag);
    v.setUint16(at + 2, type);
    v.setUint32(at + 4, count);
  };
  entry(10, 0x010f, 2, SECRET.length + 1); // Make, ASCII at 100
  v.setUint32(18, 100);
  entry(22, 0x0112, 3, 1); // Orientation
  v.setUint16(30, orientation);
  entry(34, 0x8825, 4, 1); // GPS IFD at 60
  v.setUint32(42, 60);
  v.setUint32(46, 0);
  // GPS IFD at 60: GPSLatitudeRef "N", GPSLatitude 48/1 51/1 0/1 at 140.
  v.setUint16(60, 2);
  entry(62, 0x0001, 2, 2);
  b.set(ascii("N\0"), 70);
  entry(74, 0x0002, 5, 3);
  v.setUint32(82, 140);
  v.setUint32(86, 0);
  b.set(ascii(SECRET + "\0"), 100);
  [48, 1, 51, 1, 0, 1].forEach((n, i) => v.setUint32(140 + i * 4, n));
  return b.subarray(0, 164);
}

/**
 * `jpeg` with metadata after its SOI: EXIF (GPS, Make, `orientation`), XMP,
 * IPTC (Photoshop APP13) and a comment, each carrying SECRET.
 */
export function withMetadata(
  jpeg: Uint8Array,
  orientation = 1,
): Uint8Array<ArrayBuffer> {
  return concat(
    jpeg.subarray(0, 2),
    segment(0xe1, concat(ascii("Exif\0\0"), exifTiff(orientation))),
    segment(
      0xe1,
      ascii(
        `http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/">${SECRET}</x:xmpmeta>`,
      ),
    ),
    segment(
      0xed,
      ascii(`Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x20${SECRET}`),
    ),
    segment(0xfe, ascii(`comment ${SECRET}`)),
    jpeg.subarray(2),
  );
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(ascii(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A tiny PNG whose IHDR declares `width` x `height` (a decompression bomb's header) and whose data is one compressed row of zeros. */
export function pngBomb(
  width = 20_000,
  height = 20_000,
): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return concat(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    // zlib of nothing much: a real bomb would be a few kB of deflate.
    pngChunk(
      "IDAT",
      Uint8Array.of(0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01),
    ),
    pngChunk("IEND", new Uint8Array(0)),
  );
}

/** `png` with a tEXt chunk carrying SECRET before its IEND. */
export function pngWithText(png: Uint8Array): Uint8Array<ArrayBuffer> {
  const iend = png.length - 12;
  return concat(
    png.subarray(0, iend),
    pngChunk("tEXt", ascii(`Comment\0${SECRET}`)),
    png.subarray(iend),
  );
}

/** An SVG with a script: what must never be served from Plaza's origin. */
export const SVG = ascii(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
);

/** A two-frame GIF with a comment block and an XMP application block carrying SECRET. */
export async function gifWithMetadata(): Promise<Uint8Array<ArrayBuffer>> {
  const a = new Frame(40, 30, 100);
  a.fill(0xff0000ff);
  const b = new Frame(40, 30, 100);
  b.fill(0x0000ffff);
  const gif = await new GIF([a, b]).encode();
  // After the header and global colour table (if any), before the first block.
  const packed = gif[10];
  const start = 13 + ((packed & 0x80) ? 3 * (1 << ((packed & 7) + 1)) : 0);
  const comment = concat(
    Uint8Array.of(0x21, 0xfe, SECRET.length),
    ascii(SECRET),
    Uint8Array.of(0),
  );
  const xmp = concat(
    Uint8Array.of(0x21, 0xff, 11),
    ascii("XMP DataXMP"),
    Uint8Array.of(SECRET.length),
    ascii(SECRET),
    Uint8Array.of(0),
  );
  return concat(gif.subarray(0, start), comment, xmp, gif.subarray(start));
}

/** Whether `needle` occurs in `bytes`. */
export function contains(
  bytes: Uint8Array,
  needle: string | number[],
): boolean {
  const n = typeof needle === "string"
    ? ascii(needle)
    : Uint8Array.from(needle);
  outer: for (let i = 0; i + n.length <= bytes.length; i++) {
    for (let j = 0; j < n.length; j++) {
      if (bytes[i + j] !== n[j]) continue outer;
    }
    return true;
  }
  return false;
}

/** Uploads `bytes` as `type` under `name`. */
export function upload(
  app: ReturnType<typeof createApp>,
  bytes: Uint8Array<ArrayBuffer>,
  type: string,
  name = "Ada",
  token?: string,
): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": type };
  if (token) headers.Authorization = `Bearer ${token}`;
  return Promise.resolve(app.request(
    `/attachments?name=${encodeURIComponent(name)}`,
    { method: "POST", headers, body: bytes },
  ));
}
