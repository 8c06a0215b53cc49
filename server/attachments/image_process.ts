/**
 * Turns an upload into what is stored: checked against its declared type
 * and the caps, decoded (which finds truncated and corrupt files), turned
 * upright by its EXIF orientation, and encoded again from pixels, so no
 * metadata (EXIF and GPS, XMP, IPTC, ICC, comments) can survive. GIFs keep
 * their animation and lose their metadata blocks (gif_strip.ts). A thumbnail
 * is made at the same time. Codecs: imagescript (JPEG, PNG, GIF; WASM) and
 * @jsquash/webp for decoding WebP; docs/attachments.md says why.
 */
import { GIF, Image } from "imagescript";
import decodeWebp from "@jsquash/webp/decode.js";
import type { AttachmentType } from "../../protocol/attachments.ts";
import { ATTACHMENT_TYPES, THUMB_MAX_SIDE } from "../../protocol/limits.ts";
import { type ImageHeader, readHeader } from "./image_header.ts";
import { stripGif } from "./gif_strip.ts";
import { stripPngText } from "./png_chunks.ts";

/** JPEG quality of a stored photo: visually lossless for the screen, smaller than most cameras' output. */
export const STORED_JPEG_QUALITY = 85;
/** WebP quality of a stored WebP. */
export const STORED_WEBP_QUALITY = 85;
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

/**
 * Checks and re-encodes `bytes`. `declared` is the Content-Type the client
 * gave (null when it gave none that names a type, e.g. a multipart part sent
 * as application/octet-stream); a type we do not take, or one the magic
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
      : {
        ok: false,
        status: 400,
        error: `The picture is truncated or corrupt: ${read.detail}.`,
      };
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
  try {
    return { ok: true, image: await encodeAgain(bytes, header, maxPixels) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, ...error.answer };
    return {
      ok: false,
      status: 400,
      error: "The picture is truncated or corrupt: it could not be decoded.",
    };
  }
}

function isAccepted(type: string): type is AttachmentType {
  return (ATTACHMENT_TYPES as readonly string[]).includes(type);
}

function tooManyPixels(width: number, height: number, maxPixels: number) {
  return {
    ok: false as const,
    status: 413 as const,
    error: `The picture is ${width} x ${height} pixels; at most ${
      (maxPixels / 1e6).toFixed(1)
    } megapixels are accepted.`,
  };
}

class Refusal extends Error {
  constructor(
    readonly answer: { status: 400 | 413 | 415; error: string },
  ) {
    super(answer.error);
  }
}

async function encodeAgain(
  bytes: Uint8Array,
  header: ImageHeader,
  maxPixels: number,
): Promise<ProcessedImage> {
  if (header.type === "image/gif") {
    const walk = stripGif(bytes);
    if (!walk.ok) {
      throw new Refusal({
        status: 400,
        error: `The picture is truncated or corrupt: ${walk.detail}.`,
      });
    }
    if (walk.framePixels > maxPixels) {
      throw new Refusal(
        tooManyPixels(header.width, header.height, maxPixels),
      );
    }
    // The first frame checks that the data decodes and makes the thumbnail.
    const [first] = await GIF.decode(walk.bytes, true);
    const still = new Image(header.width, header.height);
    // A Frame is an Image at an offset (its typings miss that it extends it).
    still.composite(first as unknown as Image, first.xOffset, first.yOffset);
    return {
      type: "image/gif",
      width: header.width,
      height: header.height,
      bytes: walk.bytes,
      ...await thumbnail(still, "image/png"),
    };
  }
  let image: Image;
  if (header.type === "image/webp") {
    const copy = bytes.slice();
    const data = await decodeWebp(copy.buffer);
    image = new Image(data.width, data.height);
    image.bitmap.set(data.data);
  } else {
    image = await Image.decode(bytes);
  }
  if (image.width !== header.width || image.height !== header.height) {
    throw new Refusal({
      status: 400,
      error: "The picture's header and its data disagree on its size.",
    });
  }
  image = upright(image, header.orientation);
  const stored = header.type === "image/jpeg"
    ? await image.encodeJPEG(STORED_JPEG_QUALITY)
    : header.type === "image/webp"
    ? await image.encodeWEBP(STORED_WEBP_QUALITY)
    : stripPngText(await image.encode(1));
  return {
    type: header.type,
    width: image.width,
    height: image.height,
    bytes: copyOf(stored),
    ...await thumbnail(image, header.type),
  };
}

function copyOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** The thumbnail of `image` as `type` (JPEG and WebP stay, PNG and GIF become PNG), or null when it is small already. */
async function thumbnail(
  image: Image,
  type: AttachmentType,
): Promise<Pick<ProcessedImage, "thumb" | "thumbType">> {
  const long = Math.max(image.width, image.height);
  if (long <= THUMB_MAX_SIDE) return { thumb: null, thumbType: null };
  const scale = THUMB_MAX_SIDE / long;
  const small = downscale(
    image,
    Math.max(1, Math.round(image.width * scale)),
    Math.max(1, Math.round(image.height * scale)),
  );
  if (type === "image/jpeg") {
    return {
      thumb: copyOf(await small.encodeJPEG(THUMB_QUALITY)),
      thumbType: type,
    };
  }
  if (type === "image/webp") {
    return {
      thumb: copyOf(await small.encodeWEBP(THUMB_QUALITY)),
      thumbType: type,
    };
  }
  return {
    thumb: copyOf(stripPngText(await small.encode(1))),
    thumbType: "image/png",
  };
}

/**
 * Area-average downscaling: each thumbnail pixel is the mean of the source
 * pixels it covers (imagescript only resizes by nearest neighbour, which
 * makes a thumbnail shimmer). Colour is weighted by alpha.
 */
export function downscale(image: Image, width: number, height: number): Image {
  const src = image.bitmap;
  const sw = image.width;
  const sh = image.height;
  const out = new Image(width, height);
  const dst = out.bitmap;
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
          const alpha = src[i + 3];
          r += src[i] * alpha;
          g += src[i + 1] * alpha;
          b += src[i + 2] * alpha;
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
  return out;
}

/** `image` turned as EXIF orientation `o` (1–8) asks, so that no viewer needs the tag. */
export function upright(image: Image, o: number): Image {
  if (o <= 1 || o > 8) return image;
  const w = image.width;
  const h = image.height;
  const swap = o >= 5;
  const out = new Image(swap ? h : w, swap ? w : h);
  const ow = out.width;
  const src = new Uint32Array(image.bitmap.slice().buffer);
  const dst = new Uint32Array(out.bitmap.length / 4);
  for (let dy = 0; dy < out.height; dy++) {
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
          break;
      }
      dst[dy * ow + dx] = src[sy * w + sx];
    }
  }
  out.bitmap.set(new Uint8Array(dst.buffer));
  return out;
}
