/** Outcome of reading a request body under a size limit. */
export type BodyResult =
  | { ok: true; text: string }
  | {
    ok: false;
    reason: "too_large" | "bad_encoding" | "unreadable";
  };

/** Reads the body as UTF-8, stopping as soon as it exceeds `maxBytes` (chunked bodies included). */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return { ok: false, reason: "too_large" };
  if (request.body === null) return { ok: true, text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client cut its upload short, or the server began shutting down
      // (Deno then drops bodies still arriving): both raise the same error.
      return { ok: false, reason: "unreadable" };
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { ok: false, reason: "too_large" };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return {
      ok: true,
      text: new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    };
  } catch {
    return { ok: false, reason: "bad_encoding" };
  }
}
