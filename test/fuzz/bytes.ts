/** Byte helpers for building HTTP requests by hand and showing them in reports. */

/** Bytes backed by a plain ArrayBuffer, as fetch and Deno.Conn want them. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** The fuzzer's one UTF-8 encoder. */
export const encoder = new TextEncoder();
/** The fuzzer's one (lenient) UTF-8 decoder. */
export const decoder = new TextDecoder();

/** Concatenates text (as UTF-8), byte arrays and byte lists into one array. */
export function bytesOf(
  ...parts: (string | Uint8Array | readonly number[])[]
): Bytes {
  const chunks = parts.map((p) =>
    typeof p === "string"
      ? encoder.encode(p)
      : p instanceof Uint8Array
      ? p
      : Uint8Array.from(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Bytes as one byte per char: for HTTP heads, which are not UTF-8 text. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** A readable, bounded rendering of request bytes for reports. */
export function preview(bytes: Uint8Array, max = 300): string {
  let s = "";
  for (const b of bytes.subarray(0, max)) {
    if (b === 0x0d) s += "\\r";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x5c) s += "\\\\";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

/** Cuts a string for a report, saying how long it was. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

/** Where `needle` first occurs in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** A string of chars below 256 as the same bytes (for raw heads). */
export function latin1ToBytes(s: string): Bytes {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);
}
