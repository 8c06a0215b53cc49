/**
 * GIFs keep their animation: instead of decoding every frame (a long GIF is
 * hundreds of full-size bitmaps), the file is walked block by block and
 * written again with only what draws it: the header, colour tables, graphic
 * control blocks, frames and the NETSCAPE2.0 loop count. Comments, plain-text
 * blocks and every other application block (XMP, ICC profiles, vendor data)
 * are dropped. The walk also finds a file cut short.
 */

/** What the walk found: the stripped file and the summed pixels of its frames, or why it is broken. */
export type GifStrip =
  | {
    ok: true;
    bytes: Uint8Array<ArrayBuffer>;
    frames: number;
    framePixels: number;
  }
  | { ok: false; detail: string };

// The only application block kept: how many times the animation loops.
const LOOP_BLOCKS = new Set(["NETSCAPE2.0", "ANIMEXTS1.0"]);

/** Walks a GIF and returns it without metadata blocks. */
export function stripGif(bytes: Uint8Array): GifStrip {
  const out: Uint8Array[] = [];
  const fail = (detail: string): GifStrip => ({ ok: false, detail });
  if (bytes.length < 13) return fail("the GIF header is cut short");
  const tableSize = (packed: number) =>
    (packed & 0x80) !== 0 ? 3 * (1 << ((packed & 0x07) + 1)) : 0;
  let at = 13 + tableSize(bytes[10]);
  if (at > bytes.length) return fail("the GIF colour table is cut short");
  out.push(bytes.subarray(0, at));
  // Sub-blocks: a length byte then that many bytes, until a zero length.
  const subBlocksEnd = (from: number): number => {
    let p = from;
    while (p < bytes.length) {
      const n = bytes[p];
      if (n === 0) return p + 1;
      p += 1 + n;
    }
    return -1;
  };
  let frames = 0;
  let framePixels = 0;
  for (;;) {
    if (at >= bytes.length) return fail("the GIF ends before its trailer");
    const block = bytes[at];
    if (block === 0x3b) {
      out.push(Uint8Array.of(0x3b));
      break;
    }
    if (block === 0x21) {
      if (at + 2 > bytes.length) return fail("the GIF ends in an extension");
      const label = bytes[at + 1];
      const end = subBlocksEnd(at + 2);
      if (end < 0) return fail("the GIF ends in an extension");
      const name = bytes[at + 2] === 11
        ? String.fromCharCode(
          ...bytes.subarray(at + 3, at + 14),
        )
        : "";
      const keep = label === 0xf9 || (label === 0xff && LOOP_BLOCKS.has(name));
      if (keep) out.push(bytes.subarray(at, end));
      at = end;
      continue;
    }
    if (block === 0x2c) {
      if (at + 10 > bytes.length) return fail("the GIF ends in a frame");
      const w = bytes[at + 5] | bytes[at + 6] << 8;
      const h = bytes[at + 7] | bytes[at + 8] << 8;
      frames++;
      framePixels += w * h;
      // Descriptor, local colour table, LZW code size, then the data.
      const data = at + 10 + tableSize(bytes[at + 9]) + 1;
      if (data > bytes.length) return fail("the GIF ends in a frame");
      const end = subBlocksEnd(data);
      if (end < 0) return fail("the GIF ends in a frame");
      out.push(bytes.subarray(at, end));
      at = end;
      continue;
    }
    return fail("the GIF has an unknown block");
  }
  if (frames === 0) return fail("the GIF has no frame");
  const size = out.reduce((n, part) => n + part.length, 0);
  const result = new Uint8Array(size);
  let offset = 0;
  for (const part of out) {
    result.set(part, offset);
    offset += part.length;
  }
  return { ok: true, bytes: result, frames, framePixels };
}
