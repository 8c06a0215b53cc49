/**
 * The live stream, read with fetch() and a small SSE parser rather than
 * EventSource: EventSource hides the server's `: ping` comments, so a watchdog
 * could not tell a quiet room from a dead connection, and it gives up for good
 * on an HTTP error such as a 502. Reading the bytes ourselves sees every
 * heartbeat, and each reconnect resumes with `?since=<last id>`.
 */

/** How the live connection to the server is doing, as shown to the reader. */
export type ConnectionStatus = "connecting" | "live" | "reconnecting";

/** Options for connectEventStream; only the callbacks are required. */
export interface EventStreamOptions {
  /** Called for every event with its type and data, in order (repeats possible after a reconnect). */
  onEvent(type: string, data: string): void;
  /** Called on each change; retryAt is when the next attempt starts (epoch ms), if one is waiting. */
  onStatus(status: ConnectionStatus, retryAt: number | null): void;
  /** Last message id already seen: the stream starts after it. */
  since?: number | null;
  /** HTTP client; defaults to the browser's fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Runs fn after ms and returns a canceller; injectable for tests. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Handle returned by connectEventStream. */
export interface EventStreamHandle {
  /** Skips a waiting backoff, e.g. when the browser says it is back online. */
  retryNow(): void;
  /** Stops the stream and any pending reconnect for good. */
  close(): void;
}

/** First delay before reconnecting. */
export const BASE_RETRY_MS = 1_000;
/** Longest delay between reconnect attempts. */
export const MAX_RETRY_MS = 30_000;
/** Heartbeat interval assumed until the server's hello event names its own. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

function defaultTimer(fn: () => void, ms: number): () => void {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
}

/** Opens the server's SSE stream and keeps it open until close(). */
export function connectEventStream(
  options: EventStreamOptions,
): EventStreamHandle {
  const {
    onEvent,
    onStatus,
    fetch: get = fetch,
    setTimer = defaultTimer,
    random = Math.random,
  } = options;
  let lastId = options.since ?? null;
  let heartbeatMs = DEFAULT_HEARTBEAT_MS;
  let failures = 0;
  let closed = false;
  let abort = () => {};
  let waiting: (() => void) | null = null;

  async function open(): Promise<void> {
    waiting = null;
    const ctl = new AbortController();
    abort = () => ctl.abort();
    let watchdog = () => {};
    // Anything from the server, heartbeats included, proves the link alive;
    // two missed heartbeats mean a dead connection nobody told us about.
    const feed = () => {
      watchdog();
      watchdog = setTimer(abort, 2 * heartbeatMs);
    };
    feed();
    try {
      const res = await get(
        lastId === null ? "/stream" : `/stream?since=${lastId}`,
        { signal: ctl.signal },
      );
      if (!res.ok || !res.body) throw new Error();
      onStatus("live", null);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Plaza's server sends "\n" line ends and one data line per event,
        // so an event is a block up to a blank line; comments carry no data.
        const blocks = (rest + value).split("\n\n");
        rest = blocks.pop() ?? "";
        for (const block of blocks) {
          const get = (field: string) =>
            new RegExp(`^${field}: ?(.*)`, "m").exec(block)?.[1];
          const data = get("data");
          if (data === undefined) continue;
          const type = get("event") ?? "message";
          const hb = /"heartbeatMs":(\d+)/.exec(data);
          if (type === "hello" && hb) heartbeatMs = +hb[1] || heartbeatMs;
          failures = 0;
          onEvent(type, data);
          // Only a whole event moves the resume point.
          const id = get("id");
          if (id) lastId = +id;
        }
        feed();
      }
    } catch {
      // Network error, HTTP error or the watchdog: all mean reconnect.
    }
    watchdog();
    if (closed) return;
    // Doubling with jitter in [half, full] so that thousands of clients
    // dropped at once by a restart do not come back in lockstep.
    const delay = Math.round(
      Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** failures++) *
        (0.5 + random() / 2),
    );
    onStatus("reconnecting", Date.now() + delay);
    waiting = setTimer(open, delay);
  }

  void open();
  return {
    retryNow() {
      if (closed || !waiting) return;
      waiting();
      failures = 0;
      void open();
    },
    close() {
      closed = true;
      waiting?.();
      abort();
    },
  };
}
