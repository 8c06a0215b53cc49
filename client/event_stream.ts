import type { Message } from "../server/message.ts";
import { parseMessage } from "./message_shape.ts";

/** How the live connection to the server is doing, as shown to the reader. */
export type ConnectionStatus = "connecting" | "live" | "reconnecting";

/** The part of EventSource this module uses, so tests can pass a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** Options for connectEventStream; only the callbacks are required. */
export interface EventStreamOptions {
  /** Called for every message event, in arrival order (duplicates possible). */
  onMessage(message: Message): void;
  /** Called whenever the connection status changes. */
  onStatus(status: ConnectionStatus): void;
  /** Stream endpoint; defaults to "/stream". */
  url?: string;
  /** EventSource constructor; defaults to the browser's. */
  EventSourceImpl?: new (url: string) => EventSourceLike;
  /** Runs fn after ms and returns a canceller; injectable for tests. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Handle returned by connectEventStream. */
export interface EventStreamHandle {
  /** Stops the stream and any pending reconnect for good. */
  close(): void;
}

/** First delay before reconnecting a stream the browser gave up on. */
export const BASE_RETRY_MS = 1_000;
/** Longest delay between our own reconnect attempts. */
export const MAX_RETRY_MS = 30_000;

// EventSource.CLOSED; spelled out because a fake constructor may lack statics.
const CLOSED = 2;

function defaultTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}

/**
 * Opens the server's SSE stream and keeps it open. The browser already retries
 * (sending Last-Event-ID) after network errors, but gives up for good when the
 * server answers with an HTTP error (e.g. a 502/503 during a deploy); then we
 * reconnect ourselves with `?since=<last id>` so no message is missed.
 */
export function connectEventStream(
  options: EventStreamOptions,
): EventStreamHandle {
  const {
    onMessage,
    onStatus,
    url = "/stream",
    EventSourceImpl = EventSource,
    setTimer = defaultTimer,
    random = Math.random,
  } = options;
  let lastSeenId: number | null = null;
  let source: EventSourceLike | null = null;
  let cancelTimer: (() => void) | null = null;
  let failures = 0;
  let closed = false;

  function streamUrl(): string {
    if (lastSeenId === null) return url;
    return `${url}${url.includes("?") ? "&" : "?"}since=${lastSeenId}`;
  }

  function open(): void {
    cancelTimer = null;
    const es = new EventSourceImpl(streamUrl());
    source = es;
    es.addEventListener("open", () => {
      failures = 0;
      onStatus("live");
    });
    es.addEventListener("message", (event) => {
      const message = typeof event.data === "string"
        ? parseMessage(event.data)
        : null;
      if (message === null) return;
      if (lastSeenId === null || message.id > lastSeenId) {
        lastSeenId = message.id;
      }
      onMessage(message);
    });
    es.addEventListener("error", () => {
      if (closed || source !== es) return;
      onStatus("reconnecting");
      if (es.readyState !== CLOSED) return; // the browser is retrying itself
      es.close();
      source = null;
      // Full doubling with jitter in [half, full] so that thousands of
      // clients dropped at once by a restart do not come back in lockstep.
      const ceiling = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** failures);
      failures++;
      cancelTimer = setTimer(open, Math.round(ceiling * (0.5 + random() / 2)));
    });
  }

  onStatus("connecting");
  open();
  return {
    close() {
      closed = true;
      cancelTimer?.();
      cancelTimer = null;
      source?.close();
      source = null;
    },
  };
}
