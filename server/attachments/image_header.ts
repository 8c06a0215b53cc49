/**
 * What an upload is, read from its first bytes before any pixel is decoded:
 * the type from its magic numbers, the dimensions from its header, and (for
 * JPEG) the EXIF orientation. A decompression bomb (a tiny file declaring
 * 20,000 x 20,000 pixels) is refused from this alone.
 */
import type { AttachmentType } from "../../protocol/attachments.ts";

/** What the header says. */
export interface ImageHeader {
  type: AttachmentType;
  width: number;
  height: number;
  /** EXIF orientation (1–8) of a JPEG; 1 when absent or not a JPEG. */
  orientation: number;
  /** True for a WebP with the animation flag. */
  animated: boolean;
}

/** Why a header could not be read: not a picture type we take, or cut short / malformed. */
export type HeaderResult =
  | { ok: true; header: ImageHeader }
  | { ok: false; reason: "unknown_type" | "corrupt"; detail: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

/** The type the magic numbers say, or null. */
export function sniffType(bytes: Uint8Array): AttachmentType | null {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "image/jpeg";
  }
  const gif = ascii(bytes, 0, 6);
  if (gif === "GIF87a" || gif === "GIF89a") return "image/gif";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
    return "image/webp";
  }
  return null;
}

const corrupt = (detail: string): HeaderResult => ({
  ok: false,
  reason: "corrupt",
  detail,
});

/** Reads type, dimensions and orientation from the header of `bytes`. */
export function readHeader(bytes: Uint8Array): HeaderResult {
  const type = sniffType(bytes);
  if (type === null) {
    return {
      ok: false,
      reason: "unknown_type",
      detail: "not a JPEG, PNG, WebP or GIF",
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = (width: number, height: number, orientation = 1) =>
    width > 0 && height > 0
      ? {
        ok: true as const,
        header: { type, width, height, orientation, animated: false },
      }
      : corrupt("the header gives no size");
  switch (type) {
    case "image/png":
      if (bytes.length < 33 || ascii(bytes, 12, 4) !== "IHDR") {
        return corrupt("the PNG has no IHDR");
      }
      return header(view.getUint32(16), view.getUint32(20));
    case "image/gif":
      if (bytes.length < 13) return corrupt("the GIF header is cut short");
      return header(view.getUint16(6, true), view.getUint16(8, true));
    case "image/webp":
      return webpHeader(bytes, view);
    case "image/jpeg":
      return jpegHeader(bytes, view);
  }
}

function webpHeader(bytes: Uint8Array, view: DataView): HeaderResult {
  if (bytes.length < 30) return corrupt("the WebP header is cut short");
  const chunk = ascii(bytes, 12, 4);
  const at = 20;
  const base = { type: "image/webp" as const, orientation: 1 };
  let width = 0;
  let height = 0;
  let animated = false;
  if (chunk === "VP8X") {
    animated = (bytes[at] & 0x02) !== 0;
    width = 1 + (bytes[at + 4] | bytes[at + 5] << 8 | bytes[at + 6] << 16);
    height = 1 + (bytes[at + 7] | bytes[at + 8] << 8 | bytes[at + 9] << 16);
  } else if (chunk === "VP8 ") {
    if (bytes[at + 3] !== 0x9d || bytes[at + 4] !== 0x01) {
      return corrupt("the WebP frame has no start code");
    }
    width = view.getUint16(at + 6, true) & 0x3fff;
    height = view.getUint16(at + 8, true) & 0x3fff;
  } else if (chunk === "VP8L") {
    if (bytes[at] !== 0x2f) return corrupt("the WebP has no VP8L signature");
    const bits = view.getUint32(at + 1, true);
    width = 1 + (bits & 0x3fff);
    height = 1 + ((bits >>> 14) & 0x3fff);
  } else {
    return corrupt("the WebP has no image chunk");
  }
  if (width <= 0 || height <= 0) return corrupt("the header gives no size");
  return { ok: true, header: { ...base, width, height, animated } };
}

// Start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC).
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
  marker !== 0xcc;

function jpegHeader(bytes: Uint8Array, view: DataView): HeaderResult {
  let at = 2;
  let orientation = 1;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return corrupt("the JPEG's segments are broken");
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = view.getUint16(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) break;
    if (marker === 0xe1 && ascii(bytes, at + 4, 6) === "Exif\0\0") {
      orientation = exifOrientation(bytes, at + 10, at + 2 + length);
    }
    if (isStartOfFrame(marker)) {
      if (length < 7) return corrupt("the JPEG frame header is cut short");
      const height = view.getUint16(at + 5);
      const width = view.getUint16(at + 7);
      if (width === 0 || height === 0) {
        return corrupt("the header gives no size");
      }
      return {
        ok: true,
        header: {
          type: "image/jpeg",
          width,
          height,
          orientation,
          animated: false,
        },
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + length;
  }
  return corrupt("the JPEG ends before its frame header");
}

/** The Orientation tag (0x0112) of IFD0 in the TIFF block at [start, end), or 1. */
function exifOrientation(bytes: Uint8Array, start: number, end: number) {
  if (end - start < 8) return 1;
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + start,
    end - start,
  );
  const order = ascii(bytes, start, 2);
  if (order !== "II" && order !== "MM") return 1;
  const little = order === "II";
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > view.byteLength) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > view.byteLength) return 1;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
