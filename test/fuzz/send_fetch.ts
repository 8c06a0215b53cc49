/** Sends a case with fetch. */
import { decoder } from "./bytes.ts";
import type { FetchCase } from "./cases.ts";
import { errorText, type Outcome, REQUEST_TIMEOUT_MS } from "./outcome.ts";

/** Sends a case with fetch (a chunked body as a stream); an event stream is read to its first chunk. */
export async function sendFetch(base: string, c: FetchCase): Promise<Outcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, REQUEST_TIMEOUT_MS);
  try {
    let body: BodyInit | undefined = c.body;
    if (c.body !== undefined && c.chunks !== undefined) {
      const whole = c.body;
      const sizes = [...c.chunks];
      let offset = 0;
      body = new ReadableStream<Uint8Array>({
        pull(stream) {
          const size = sizes.shift();
          if (size === undefined) return stream.close();
          stream.enqueue(whole.subarray(offset, offset + size));
          offset += size;
        },
      });
    }
    const res = await fetch(base + c.target, {
      method: c.method,
      headers: c.headers,
      body,
      redirect: "manual",
      signal: controller.signal,
    });
    let text: string;
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      // A stream stays open: its first chunk (retry line and hello) is
      // enough, then hang up.
      const reader = res.body?.getReader();
      const first = await reader?.read();
      await reader?.cancel();
      text = decoder.decode(first?.value ?? new Uint8Array());
    } else {
      text = await res.text();
    }
    return { answer: { status: res.status, headers: res.headers, body: text } };
  } catch (error) {
    return timedOut ? { timedOut: true } : { dropped: errorText(error) };
  } finally {
    clearTimeout(timer);
  }
}
