import { DEFAULT_BODY_TIMEOUT_MS } from "../config.ts";

/** Outcome of reading a request body under a size limit and a deadline. */
export type BodyResult =
  | { ok: true; text: string }
  | {
    ok: false;
    reason: "too_large" | "bad_encoding" | "unreadable" | "timeout";
  };

// Set per request by whoever accepted it (plaza.ts, from the config): the
// routes that read bodies need not carry the setting.
const deadlines = new WeakMap<Request, number>();

/** Gives `request`'s body until `deadline` (a performance.now() time) to arrive in full. */
export function setBodyDeadline(request: Request, deadline: number): void {
  deadlines.set(request, deadline);
}

/** Outcome of reading a request body as bytes (readBodyBytes). */
export type BytesResult =
  | { ok: true; bytes: Uint8Array<ArrayBuffer> }
  | { ok: false; reason: "too_large" | "unreadable" | "timeout" };

/**
 * Reads the body as UTF-8, stopping as soon as it exceeds `maxBytes` (chunked
 * bodies included) or its deadline passes: without one, a client sending a
 * byte now and then would hold the handler for ever.
 */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<BodyResult> {
  const read = await readBodyBytes(request, maxBytes);
  if (!read.ok) return read;
  try {
    return {
      ok: true,
      text: new TextDecoder("utf-8", { fatal: true }).decode(read.bytes),
    };
  } catch {
    return { ok: false, reason: "bad_encoding" };
  }
}

/**
 * Reads the body's bytes under the same rules as readBody: never more than
 * `maxBytes` are held, so a large upload is refused while it streams.
 */
export async function readBodyBytes(
  request: Request,
  maxBytes: number,
): Promise<BytesResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return { ok: false, reason: "too_large" };
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const deadline = deadlines.get(request) ??
    performance.now() + DEFAULT_BODY_TIMEOUT_MS;
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(
      () => resolve("timeout"),
      Math.max(0, deadline - performance.now()),
    );
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array> | "timeout";
      try {
        chunk = await Promise.race([reader.read(), expired]);
      } catch {
        // The client cut its upload short, or the server began shutting down
        // (Deno then drops bodies still arriving): both raise the same error.
        return { ok: false, reason: "unreadable" };
      }
      if (chunk === "timeout") {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: "timeout" };
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
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return { ok: true, bytes };
}
