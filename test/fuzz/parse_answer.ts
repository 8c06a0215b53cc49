/** Reads an HTTP/1.1 answer off raw bytes, as far as the checks need. */
import { bytesOf, decoder, encoder, indexOfBytes, latin1 } from "./bytes.ts";
import type { Answer } from "./outcome.ts";

/** Parses one HTTP/1.1 answer from `data` if complete; interim 1xx answers are skipped. */
export function parseAnswer(
  data: Uint8Array,
  head: boolean,
  ended: boolean,
): Answer | "incomplete" | "malformed" {
  let start = 0;
  for (;;) {
    const rest = data.subarray(start);
    const end = indexOfBytes(rest, encoder.encode("\r\n\r\n"));
    if (end === -1) return ended ? "malformed" : "incomplete";
    const lines = latin1(rest.subarray(0, end)).split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!match) return "malformed";
    const status = Number(match[1]);
    if (status >= 100 && status < 200) {
      start += end + 4;
      continue;
    }
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        try {
          headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
        } catch {
          // A header Headers refuses: irrelevant to what is checked.
        }
      }
    }
    const body = rest.subarray(end + 4);
    const done = (bytes: Uint8Array): Answer => ({
      status,
      headers,
      body: decoder.decode(bytes),
    });
    if (head || status === 204 || status === 304) return done(body);
    if (headers.get("content-type")?.startsWith("text/event-stream")) {
      // An open stream: its first chunk is enough (without the chunk-size
      // line of the chunked encoding).
      const first = /^[0-9a-f]+\r\n/i.exec(latin1(body.subarray(0, 16)));
      if (first === null) return ended ? done(body) : "incomplete";
      return done(body.subarray(first[0].length));
    }
    const length = headers.get("content-length");
    if (length !== null) {
      return body.byteLength >= Number(length)
        ? done(body.subarray(0, Number(length)))
        : ended
        ? "malformed"
        : "incomplete";
    }
    if (headers.get("transfer-encoding")?.includes("chunked")) {
      const tail = latin1(body.subarray(Math.max(0, body.byteLength - 7)));
      if (!tail.endsWith("0\r\n\r\n")) {
        return ended ? "malformed" : "incomplete";
      }
      const parts: Uint8Array[] = [];
      let at = 0;
      for (;;) {
        const lineEnd = indexOfBytes(body.subarray(at), encoder.encode("\r\n"));
        const size = parseInt(latin1(body.subarray(at, at + lineEnd)), 16);
        if (!(size > 0)) break;
        parts.push(body.subarray(at + lineEnd + 2, at + lineEnd + 2 + size));
        at += lineEnd + 2 + size + 2;
      }
      return done(bytesOf(...parts));
    }
    return ended ? done(body) : "incomplete";
  }
}
