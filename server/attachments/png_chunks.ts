/**
 * imagescript writes tEXt chunks (its name, the time of encoding) into every
 * PNG it makes: that is metadata, and a time makes the same picture hash
 * differently each time. Only the chunks that draw the picture are kept.
 */

// Everything else (tEXt, zTXt, iTXt, eXIf, tIME, iCCP…) goes.
const KEPT = new Set(["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]);

/** `png` with only the chunks that draw it; a malformed file comes back as it was. */
export function stripPngText(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= png.length) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > png.length) return png;
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (KEPT.has(type)) parts.push(png.subarray(at, end));
    at = end;
    if (type === "IEND") break;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
