/** Sends a case's bytes on its own TCP connection and reads (or does not read) the answer. */
import { type Bytes, bytesOf, preview } from "./bytes.ts";
import type { RawCase } from "./cases.ts";
import { errorText, type Outcome, REQUEST_TIMEOUT_MS } from "./outcome.ts";
import { parseAnswer } from "./parse_answer.ts";

/** Writes a case's bytes on a new connection, then reads the answer, half-closes first, or just closes, as the case says. */
export async function sendRaw(port: number, c: RawCase): Promise<Outcome> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    return { dropped: `connect failed: ${errorText(error)}` };
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, REQUEST_TIMEOUT_MS);
  let writeError: string | null = null;
  try {
    try {
      for (let offset = 0; offset < c.bytes.byteLength;) {
        offset += await conn.write(c.bytes.subarray(offset));
      }
    } catch (error) {
      // The server may answer and close before reading everything; the
      // answer may still be readable.
      writeError = errorText(error);
    }
    if (c.mode === "close") return { sentOnly: true };
    if (c.mode === "half-close" && writeError === null) {
      await conn.closeWrite().catch(() => {});
    }
    const buffer = new Uint8Array(64 * 1024);
    let data: Bytes = new Uint8Array();
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (timedOut) return { timedOut: true };
        const parsed = parseAnswer(data, c.head === true, true);
        return typeof parsed === "string"
          ? { dropped: `read failed: ${errorText(error)}` }
          : { answer: parsed };
      }
      if (n !== null) data = bytesOf(data, buffer.subarray(0, n));
      const parsed = parseAnswer(data, c.head === true, n === null);
      if (typeof parsed !== "string") return { answer: parsed };
      if (parsed === "malformed") {
        return {
          dropped: data.byteLength === 0
            ? `closed without an answer${
              writeError ? ` (write: ${writeError})` : ""
            }`
            : `unparseable answer: ${preview(data, 200)}`,
        };
      }
      if (n === null) return { dropped: "closed mid-answer" };
      if (data.byteLength > 8 * 1024 * 1024) {
        return { dropped: "answer over 8 MiB" };
      }
    }
  } finally {
    clearTimeout(timer);
    close();
  }
}
