/**
 * Turns an upload into what is stored: checked against its declared type
 * and the caps from its header alone, stripped of metadata at the container
 * level (container_strip.ts, gif_strip.ts: EXIF with GPS, XMP, IPTC, ICC,
 * comments; lossless, the pixels are not encoded again), then decoded,
 * which proves the stored file is a whole picture and gives the thumbnail.
 * A JPEG whose EXIF asked for a rotation is encoded again upright, since
 * the tag that asked is gone.
 */
import type { AttachmentType } from "../../protocol/attachments.ts";
import { ATTACHMENT_TYPES, THUMB_MAX_SIDE } from "../../protocol/limits.ts";
import { readHeader } from "./image_header.ts";
import { stripGif } from "./gif_strip.ts";
import { stripJpeg, stripPng, stripWebp } from "./container_strip.ts";
import { decode, encode, type Pixels } from "./codecs.ts";

/** JPEG quality of a photo encoded again (only those EXIF asked to rotate). */
export const STORED_JPEG_QUALITY = 85;
/** Quality of JPEG and WebP thumbnails. */
export const THUMB_QUALITY = 78;

/** A picture ready to store. */
export interface ProcessedImage {
  type: AttachmentType;
  width: number;
  height: number;
  bytes: Uint8Array<ArrayBuffer>;
  /** Null when the picture is small enough to be its own thumbnail. */
  thumb: Uint8Array<ArrayBuffer> | null;
  thumbType: AttachmentType | null;
}

/** The outcome: the picture, or the 4xx to answer. */
export type ProcessResult =
  | { ok: true; image: ProcessedImage }
  | { ok: false; status: 400 | 413 | 415; error: string };

type Refused = Extract<ProcessResult, { ok: false }>;

const corrupt = (detail: string): Refused => ({
  ok: false,
  status: 400,
  error: `The picture is truncated or corrupt: ${detail}.`,
});

/**
 * Checks and strips `bytes`. `declared` is the Content-Type the client gave
 * (null when it named no type, e.g. a multipart part sent as
 * application/octet-stream); a type we do not take, or one the magic
 * numbers contradict, is refused.
 */
export async function processImage(
  bytes: Uint8Array,
  declared: string | null,
  maxPixels: number,
): Promise<ProcessResult> {
  if (declared !== null && !isAccepted(declared)) {
    return {
      ok: false,
      status: 415,
      error: `Pictures must be JPEG, PNG, WebP or GIF; ${
        declared === "image/svg+xml" ? "SVG is" : `"${declared}" is`
      } not accepted.`,
    };
  }
  const read = readHeader(bytes);
  if (!read.ok) {
    return read.reason === "unknown_type"
      ? {
        ok: false,
        status: 415,
        error:
          "The file is not a JPEG, PNG, WebP or GIF picture (by its content).",
      }
      : corrupt(read.detail);
  }
  const header = read.header;
  if (declared !== null && declared !== header.type) {
    return {
      ok: false,
      status: 415,
      error:
        `The file was sent as ${declared} but its content is ${header.type}.`,
    };
  }
  if (header.width * header.height > maxPixels) {
    return tooManyPixels(header.width, header.height, maxPixels);
  }
  if (header.animated) {
    return {
      ok: false,
      status: 415,
      error: "Animated WebP is not accepted; send a GIF or a still picture.",
    };
  }
  let stored: Uint8Array<ArrayBuffer> | null;
  if (header.type === "image/gif") {
    const walk = stripGif(bytes);
    if (!walk.ok) return corrupt(walk.detail);
    if (walk.framePixels > maxPixels) {
      return tooManyPixels(header.width, header.height, maxPixels);
    }
    stored = walk.bytes;
  } else {
    stored = header.type === "image/jpeg"
      ? stripJpeg(bytes)
      : header.type === "image/png"
      ? stripPng(bytes)
      : stripWebp(bytes);
    if (stored === null) return corrupt("its structure is broken");
  }
  let pixels: Pixels;
  try {
    pixels = await decode(stored, header.type);
  } catch {
    return corrupt("it could not be decoded");
  }
  if (pixels.width !== header.width || pixels.height !== header.height) {
    return corrupt("its header and its data disagree on its size");
  }
  if (header.orientation > 1) {
    pixels = upright(pixels, header.orientation);
    stored = await encode(pixels, "image/jpeg", STORED_JPEG_QUALITY);
  }
  return {
    ok: true,
    image: {
      type: header.type,
      width: pixels.width,
      height: pixels.height,
      bytes: stored,
      ...await thumbnail(pixels, header.type),
    },
  };
}

function isAccepted(type: string): type is AttachmentType {
  return (ATTACHMENT_TYPES as readonly string[]).includes(type);
}

function tooManyPixels(
  width: number,
  height: number,
  maxPixels: number,
): Refused {
  return {
    ok: false,
    status: 413,
    error: `The picture is ${width} x ${height} pixels; at most ${
      (maxPixels / 1e6).toFixed(1)
    } megapixels are accepted.`,
  };
}

/** The thumbnail (JPEG and WebP stay, PNG and GIF become PNG), or null when the picture is small already. */
async function thumbnail(
  pixels: Pixels,
  type: AttachmentType,
): Promise<Pick<ProcessedImage, "thumb" | "thumbType">> {
  const long = Math.max(pixels.width, pixels.height);
  if (long <= THUMB_MAX_SIDE) return { thumb: null, thumbType: null };
  const scale = THUMB_MAX_SIDE / long;
  const small = downscale(
    pixels,
    Math.max(1, Math.round(pixels.width * scale)),
    Math.max(1, Math.round(pixels.height * scale)),
  );
  const thumbType = type === "image/gif" ? "image/png" : type;
  return {
    thumb: await encode(small, thumbType, THUMB_QUALITY),
    thumbType,
  };
}

/**
 * Area-average downscaling: each thumbnail pixel is the mean of the source
 * pixels it covers, colour weighted by alpha (sampling instead would make a
 * thumbnail shimmer).
 */
export function downscale(src: Pixels, width: number, height: number): Pixels {
  const s = src.data;
  const sw = src.width;
  const sh = src.height;
  const dst = new Uint8ClampedArray(width * height * 4);
  for (let dy = 0; dy < height; dy++) {
    const y0 = Math.floor(dy * sh / height);
    const y1 = Math.max(y0 + 1, Math.floor((dy + 1) * sh / height));
    for (let dx = 0; dx < width; dx++) {
      const x0 = Math.floor(dx * sw / width);
      const x1 = Math.max(x0 + 1, Math.floor((dx + 1) * sw / width));
      let r = 0, g = 0, b = 0, a = 0, n = 0;
      for (let y = y0; y < y1; y++) {
        let i = (y * sw + x0) * 4;
        for (let x = x0; x < x1; x++, i += 4) {
          const alpha = s[i + 3];
          r += s[i] * alpha;
          g += s[i + 1] * alpha;
          b += s[i + 2] * alpha;
          a += alpha;
          n++;
        }
      }
      const o = (dy * width + dx) * 4;
      if (a > 0) {
        dst[o] = r / a;
        dst[o + 1] = g / a;
        dst[o + 2] = b / a;
      }
      dst[o + 3] = a / n;
    }
  }
  return { width, height, data: dst };
}

/** `pixels` turned as EXIF orientation `o` (2–8) asks, so that no viewer needs the tag. */
export function upright(pixels: Pixels, o: number): Pixels {
  const w = pixels.width;
  const h = pixels.height;
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const src = new Uint32Array(pixels.data.slice().buffer);
  const dst = new Uint32Array(ow * oh);
  for (let dy = 0; dy < oh; dy++) {
    for (let dx = 0; dx < ow; dx++) {
      let sx: number, sy: number;
      switch (o) {
        case 2:
          [sx, sy] = [w - 1 - dx, dy];
          break;
        case 3:
          [sx, sy] = [w - 1 - dx, h - 1 - dy];
          break;
        case 4:
          [sx, sy] = [dx, h - 1 - dy];
          break;
        case 5:
          [sx, sy] = [dy, dx];
          break;
        case 6:
          [sx, sy] = [dy, h - 1 - dx];
          break;
        case 7:
          [sx, sy] = [w - 1 - dy, h - 1 - dx];
          break;
        default:
          [sx, sy] = [w - 1 - dy, dx];
      }
      dst[dy * ow + dx] = src[sy * w + sx];
    }
  }
  return { width: ow, height: oh, data: new Uint8ClampedArray(dst.buffer) };
}
