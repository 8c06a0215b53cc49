import {
  createSseParser,
  type SseEvent,
} from "../../test/harness/sse_parser.ts";
import { describeError } from "./describe_error.ts";

/** Connecting to /stream (headers only) must finish within this. */
const CONNECT_TIMEOUT_MS = 10_000;

/** How a stream ended: closed by us, ended by the server, or broken. */
export type StreamEnd = "closed" | "ended" | "failed";

/** An open GET /stream response being read. */
export interface StreamSession {
  finished: Promise<StreamEnd>;
  close(): Promise<void>;
}

/** A session, or why there is none (`status` null when no answer came). */
export type OpenResult =
  | { ok: true; session: StreamSession }
  | { ok: false; status: number | null; detail: string };

/** Opens /stream and feeds each event to `onEvent` as it arrives. */
export async function openStream(
  url: string,
  lastEventId: number | null,
  onEvent: (event: SseEvent) => void,
  stop: AbortSignal,
): Promise<OpenResult> {
  const abort = new AbortController();
  const onStop = () => abort.abort();
  stop.addEventListener("abort", onStop, { once: true });
  const timer = setTimeout(() => abort.abort(), CONNECT_TIMEOUT_MS);
  const headers = new Headers({ Accept: "text/event-stream" });
  if (lastEventId !== null) headers.set("Last-Event-ID", String(lastEventId));
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: abort.signal });
  } catch (error) {
    return { ok: false, status: null, detail: describeError(error) };
  } finally {
    clearTimeout(timer);
    // From here on the session is ended by close(), not by the signal.
    stop.removeEventListener("abort", onStop);
  }
  if (response.status !== 200 || response.body === null) {
    const detail = await response.text().catch(() => "");
    return { ok: false, status: response.status, detail: detail.slice(0, 300) };
  }
  // The reader itself is cancelled on close: aborting the fetch does not stop
  // a body whose Response was collected (see the shared Deno notes).
  const reader = response.body.getReader();
  let closing = false;
  const finished = (async (): Promise<StreamEnd> => {
    const decoder = new TextDecoder();
    const parser = createSseParser({ onEvent });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return closing ? "closed" : "ended";
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch {
      return closing ? "closed" : "failed";
    }
  })();
  return {
    ok: true,
    session: {
      finished,
      async close() {
        closing = true;
        await reader.cancel().catch(() => {});
        abort.abort();
        await finished;
      },
    },
  };
}
