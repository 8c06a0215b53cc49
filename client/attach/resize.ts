/**
 * Shrinks a picture in the browser before it is uploaded: a phone's 12 MP
 * photo becomes a few hundred KB, which uploads faster and stays under the
 * server's caps (which the server still enforces on everything).
 */

/** The longest side a picture is uploaded with, in pixels. */
export const MAX_SIDE = 2048;
/** JPEG and WebP quality of a shrunk picture. */
const QUALITY = 0.9;
// Types kept when shrinking; others (and GIF, whose animation a canvas would
// lose) are left as they are for the server to judge.
const KEPT_TYPES = ["image/jpeg", "image/png", "image/webp"];

/** The size a w × h picture is drawn at so its longest side is at most `max`. */
export function fitted(
  w: number,
  h: number,
  max = MAX_SIDE,
): { width: number; height: number } {
  const k = Math.min(1, max / Math.max(w, h));
  return {
    width: Math.max(1, Math.round(w * k)),
    height: Math.max(1, Math.round(h * k)),
  };
}

/**
 * The picture to upload: `file` itself when it is small enough (or cannot be
 * decoded or redrawn here: the server then answers with a clear refusal),
 * else a copy whose longest side is MAX_SIDE, in the same type.
 */
export async function shrink(file: Blob): Promise<Blob> {
  if (!KEPT_TYPES.includes(file.type)) return file;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file;
  }
  try {
    const { width, height } = fitted(bitmap.width, bitmap.height);
    if (width === bitmap.width && height === bitmap.height) return file;
    const options = { type: file.type, quality: QUALITY };
    if (typeof OffscreenCanvas === "function") {
      const canvas = new OffscreenCanvas(width, height);
      canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
      return await canvas.convertToBlob(options);
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
    return await new Promise<Blob>((resolve) =>
      canvas.toBlob(
        (blob) => resolve(blob ?? file),
        options.type,
        options.quality,
      )
    );
  } catch {
    return file;
  } finally {
    bitmap.close();
  }
}
