/**
 * A worker that checks and strips pictures (image_process.ts) off the
 * instance's event loop: decoding a photo takes a third of a second, during
 * which an instance doing it inline would serve no one.
 */
import { processImage } from "./image_process.ts";

/** A job: the upload, its declared type, the pixel cap. */
export interface ImageJob {
  job: number;
  bytes: Uint8Array<ArrayBuffer>;
  declared: string | null;
  maxPixels: number;
}

// A worker's global, typed here: `/// <reference lib="deno.worker" />` would
// change the globals of everything type-checked with this file (the
// client's DOM events among them).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ImageJob>) => void) | null;
  postMessage(message: unknown, options?: { transfer: Transferable[] }): void;
};

scope.onmessage = async (event: MessageEvent<ImageJob>) => {
  const { job, bytes, declared, maxPixels } = event.data;
  try {
    const result = await processImage(bytes, declared, maxPixels);
    const transfer = result.ok
      ? [
        result.image.bytes.buffer,
        ...(result.image.thumb ? [result.image.thumb.buffer] : []),
      ]
      : [];
    scope.postMessage({ job, result }, { transfer });
  } catch (error) {
    scope.postMessage({ job, error: String(error) });
  }
};
