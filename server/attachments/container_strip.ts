/**
 * Metadata removed from a picture's container without touching its pixels:
 * a JPEG without APP1–APP15 (EXIF with GPS, XMP, ICC, IPTC in APP13, vendor
 * blocks) and COM segments; a PNG with only the chunks that draw it; a WebP
 * without EXIF, XMP and ICCP chunks. Lossless and cheap: the stored file
 * is then decoded, which proves it is still a whole picture.
 */

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `jpeg` keeping only SOI, APP0 (JFIF), the tables, frame and scan: null when its segments are broken. */
export function stripJpeg(jpeg: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) return null;
    const marker = jpeg[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = view.getUint16(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > jpeg.length) return null;
    if (marker === 0xda) {
      // Start of scan: the entropy-coded data and everything after it
      // (more scans of a progressive JPEG, EOI) is kept as it is. Metadata
      // segments come before the first scan in every writer we know; one
      // hidden after it is dropped below with the trailer's check.
      parts.push(jpeg.subarray(at));
      return dropAfterEnd(concat(parts));
    }
    // APP1..APP15 and COM go; APP0 (JFIF, which some decoders want) stays.
    const metadata = (marker >= 0xe1 && marker <= 0xef) || marker === 0xfe;
    if (!metadata) parts.push(jpeg.subarray(at, end));
    at = end;
  }
  return null;
}

/**
 * Anything after the last EOI (FF D9) is dropped: trailers carry data some
 * apps append. No EOI: the file was cut short (MozJPEG would decode it,
 * filling the rest with grey), so null.
 */
function dropAfterEnd(
  jpeg: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> | null {
  for (let i = jpeg.length - 2; i >= 2; i--) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xd9) {
      return jpeg.subarray(0, i + 2).slice();
    }
  }
  return null;
}

// Chunks that draw a PNG; everything else (tEXt, zTXt, iTXt, eXIf, tIME,
// iCCP, the APNG frames) goes, so an animated PNG keeps its still image.
const PNG_KEPT = new Set([
  "IHDR",
  "PLTE",
  "tRNS",
  "IDAT",
  "IEND",
  "gAMA",
  "cHRM",
  "sRGB",
]);

/** `png` with only the chunks that draw it; null when its chunks are broken. */
export function stripPng(png: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= png.length) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > png.length) return null;
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (PNG_KEPT.has(type)) parts.push(png.subarray(at, end));
    at = end;
    if (type === "IEND") return concat(parts);
  }
  return null;
}

// VP8X flags: ICC (0x20), EXIF (0x08), XMP (0x04) are cleared with their chunks.
const VP8X_METADATA_FLAGS = 0x20 | 0x08 | 0x04;
const WEBP_DROPPED = new Set(["EXIF", "XMP ", "ICCP"]);

/** `webp` without EXIF, XMP and ICC chunks (and their VP8X flags); null when its chunks are broken. */
export function stripWebp(webp: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  if (webp.length < 12) return null;
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > webp.length) return null;
  const parts: Uint8Array[] = [];
  let at = 12;
  while (at + 8 <= riffEnd) {
    const type = String.fromCharCode(...webp.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    // Chunks are padded to an even size.
    const end = at + 8 + size + (size & 1);
    if (end > riffEnd) return null;
    if (!WEBP_DROPPED.has(type)) {
      const chunk = webp.slice(at, end);
      if (type === "VP8X") chunk[8] &= ~VP8X_METADATA_FLAGS;
      parts.push(chunk);
    }
    at = end;
  }
  if (parts.length === 0) return null;
  const body = concat(parts);
  const head = new Uint8Array(12);
  head.set(webp.subarray(0, 4));
  new DataView(head.buffer).setUint32(4, body.length + 4, true);
  head.set(webp.subarray(8, 12), 8);
  return concat([head, body]);
}
