/**
 * The WASM codecs pictures go through, behind plain functions on RGBA
 * pixels. All are pure WebAssembly (no native addon), so they load on Deno
 * Deploy: @jsquash (Squoosh's MozJPEG, libwebp and Rust png builds) and
 * imagescript's GIF decoder (its wasm module alone: imagescript's main
 * module loads a native addon for JPEG and WebP encoding). docs/attachments.md
 * compares the options.
 */
import decodeJpegWasm from "@jsquash/jpeg/decode.js";
import encodeJpegWasm from "@jsquash/jpeg/encode.js";
import decodePngWasm from "@jsquash/png/decode.js";
import encodePngWasm from "@jsquash/png/encode.js";
import decodeWebpWasm from "@jsquash/webp/decode.js";
import encodeWebpWasm from "@jsquash/webp/encode.js";
import gifWasm from "imagescript/wasm/node/gif.js";
import type { AttachmentType } from "../../protocol/attachments.ts";

/** Decoded pixels, 4 bytes (RGBA) each, row by row. */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** What imagescript's GIF wasm module exposes (it ships no typings). */
interface GifModule {
  init(): Promise<{
    Decoder: new (bytes: Uint8Array) => {
      width: number;
      height: number;
      frame(): {
        x: number;
        y: number;
        width: number;
        height: number;
        buffer: Uint8Array;
      } | null;
      free(): void;
    };
  }>;
}

const arrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.slice().buffer as ArrayBuffer;

// The encoders take an ImageData; a plain object of the same shape does.
const imageData = (p: Pixels) => p as unknown as ImageData;

/** Decodes a JPEG, PNG or WebP (a GIF's first frame), throwing when it cannot. */
export async function decode(
  bytes: Uint8Array,
  type: AttachmentType,
): Promise<Pixels> {
  switch (type) {
    case "image/jpeg":
      // Orientation is applied by upright() from the header's EXIF.
      return await decodeJpegWasm(arrayBuffer(bytes), {
        preserveOrientation: true,
      });
    case "image/png":
      return await decodePngWasm(arrayBuffer(bytes));
    case "image/webp":
      return await decodeWebpWasm(arrayBuffer(bytes));
    case "image/gif":
      return await firstGifFrame(bytes);
  }
}

/** The first frame of a GIF drawn on its canvas (transparent elsewhere). */
async function firstGifFrame(bytes: Uint8Array): Promise<Pixels> {
  const { Decoder } = await (gifWasm as unknown as GifModule).init();
  const decoder = new Decoder(bytes);
  try {
    const frame = decoder.frame();
    if (frame === null) throw new Error("gif: no frame");
    const width = decoder.width;
    const height = decoder.height;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < frame.height && y + frame.y < height; y++) {
      const from = y * frame.width * 4;
      const row = frame.buffer.subarray(
        from,
        from + Math.min(frame.width, width - frame.x) * 4,
      );
      data.set(row, ((y + frame.y) * width + frame.x) * 4);
    }
    return { width, height, data };
  } finally {
    decoder.free();
  }
}

/** Encodes pixels as a JPEG, PNG or WebP. */
export async function encode(
  pixels: Pixels,
  type: Exclude<AttachmentType, "image/gif">,
  quality: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = type === "image/jpeg"
    ? await encodeJpegWasm(imageData(pixels), { quality })
    : type === "image/webp"
    ? await encodeWebpWasm(imageData(pixels), { quality })
    : await encodePngWasm(imageData(pixels));
  return new Uint8Array(out);
}
