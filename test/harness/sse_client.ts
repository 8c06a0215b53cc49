import type { Message } from "../../protocol/message.ts";

import { createSseParser, type SseEvent } from "./sse_parser.ts";

export type { SseEvent };

/** A test-side SSE reader over fetch, parsing the stream as EventSource would. */
export interface SseClient {
  /** Response status and headers. */
  response: Response;
  /** Every event received so far (comments and retry lines excluded). */
  events: SseEvent[];
  /** Comment lines received so far (heartbeats). */
  comments: string[];
  /** The last `retry:` value seen. */
  retry: number | null;
  /** Resolves once `predicate` holds for the events received, or rejects when the stream ends first. */
  until(predicate: (events: SseEvent[]) => boolean): Promise<void>;
  /** Resolves once at least `count` message events have arrived. */
  untilMessages(count: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Disconnects (cancels the body reader itself: see shared notes). */
  close(): Promise<void>;
}

/** Opens `url` as an event stream; `lastEventId` is sent as the Last-Event-ID header. */
export async function openSse(
  url: string,
  options: {
    lastEventId?: string | number;
    headers?: HeadersInit;
    /** E.g. one with its own localAddress, to connect as another client. */
    client?: Deno.HttpClient;
  } = {},
): Promise<SseClient> {
  const headers = new Headers(options.headers);
  headers.set("Accept", "text/event-stream");
  if (options.lastEventId !== undefined) {
    headers.set("Last-Event-ID", String(options.lastEventId));
  }
  const response = await fetch(url, { headers, client: options.client });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<
    {
      predicate: (e: SseEvent[]) => boolean;
      resolve: () => void;
      reject: (e: Error) => void;
    }
  >();
  let finished = false;
  const check = () => {
    for (const w of waiters) {
      if (w.predicate(events)) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };

  const client: SseClient = {
    response,
    events,
    comments,
    retry: null,
    until(predicate) {
      if (predicate(events)) return Promise.resolve();
      if (finished) {
        return Promise.reject(
          new Error("stream ended before the condition held"),
        );
      }
      return new Promise((resolve, reject) =>
        waiters.add({ predicate, resolve, reject })
      );
    },
    untilMessages(count) {
      return client.until((e) =>
        e.filter((x) => x.event === "message").length >= count
      );
    },
    ended: Promise.resolve(),
    async close() {
      finished = true;
      await reader?.cancel().catch(() => {});
      await pump;
    },
  };

  const reader = response.body?.getReader();
  const pump = (async () => {
    if (!reader) return;
    const decoder = new TextDecoder();
    const parser = createSseParser({
      onEvent: (e) => events.push(e),
      onComment: (text) => comments.push(text),
      onRetry: (ms) => (client.retry = ms),
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        check();
      }
    } catch {
      // Cancelled by close() or the connection dropped: both end the stream.
    } finally {
      finished = true;
      for (const w of waiters) {
        w.reject(new Error("stream ended before the condition held"));
      }
      waiters.clear();
    }
  })();
  client.ended = pump;
  return client;
}

/** The raw `message` events of a client (with their ids). */
export function messageEvents(client: SseClient): SseEvent[] {
  return client.events.filter((e) => e.event === "message");
}

/** The `message` events of a client, parsed. */
export function messagesOf(client: SseClient): Message[] {
  return messageEvents(client).map((e) => JSON.parse(e.data));
}
