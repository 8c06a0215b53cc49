/**
 * The live stream, read with fetch() and a small SSE parser rather than
 * EventSource: EventSource hides the server's `: ping` comments, so a watchdog
 * could not tell a quiet room from a dead connection, and it gives up for good
 * on an HTTP error such as a 502. Reading the bytes ourselves sees every
 * heartbeat, and each reconnect resumes with `?since=<last id>`.
 */

import { HELLO_EVENT, MESSAGE_EVENT } from "../protocol/events.ts";

/** How the live connection to the server is doing, as shown to the reader. */
export type ConnectionStatus = "connecting" | "live" | "reconnecting";

/** Handle returned by connectEventStream. */
export interface EventStreamHandle {
  /** Skips a waiting backoff, e.g. when the browser says it is back online. */
  retryNow(): void;
  /** Ends the connection and opens a new one at once (the URL's name changed). */
  restart(): void;
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

/**
 * Opens the server's SSE stream and keeps it open until close(). Every event
 * goes to onEvent with its type and data, in order (repeats possible after a
 * reconnect); so does each change of the stream's own status, as a "status"
 * event whose data is `[status, retryAt]` in JSON, retryAt being when the next
 * attempt starts (epoch ms) while one is waiting, else null. The stream starts
 * after message id `since` (0: with the latest history). The last three
 * arguments are for tests: the HTTP client, a timer that returns its
 * canceller, and a source of jitter in [0, 1).
 */
export function connectEventStream(
  onEvent: (type: string, data: string) => void,
  since = 0,
  get: (url: string, init: RequestInit) => Promise<Response> = fetch,
  setTimer: (fn: () => void, ms: number) => () => void = defaultTimer,
  random: () => number = Math.random,
): EventStreamHandle {
  const report = (status: ConnectionStatus, retryAt: number | null) =>
    onEvent("status", JSON.stringify([status, retryAt]));
  let heartbeatMs = DEFAULT_HEARTBEAT_MS;
  let failures = 0;
  let closed = false;
  let waiting = false;
  let again = false;
  let ctl: AbortController;
  // One timer serves both waits, which never overlap: the watchdog while
  // connected, the backoff while waiting to reconnect.
  let cancel = () => {};
  const wait = (fn: () => void, ms: number) => {
    cancel();
    cancel = setTimer(fn, ms);
  };

  async function open(): Promise<void> {
    waiting = false;
    ctl = new AbortController();
    // Anything from the server, heartbeats included, proves the link alive;
    // two missed heartbeats mean a dead connection nobody told us about.
    const feed = () => wait(() => ctl.abort(), 2 * heartbeatMs);
    feed();
    try {
      const res = await get(
        since ? `/stream?since=${since}` : "/stream",
        // Low: a stream never finishes, so at high priority it holds the
        // page's load (and Lighthouse's idle wait) open.
        { signal: ctl.signal, priority: "low" },
      );
      if (!res.ok) throw res.status;
      const reader = res.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      report("live", null);
      let rest = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Plaza's server sends "\n" line ends and one data line per event,
        // so an event is a block up to a blank line; comments carry no data.
        const blocks = (rest + value).split("\n\n");
        rest = blocks.pop()!;
        for (const block of blocks) {
          // "name: value" lines; a comment's name is "".
          const { data, event = MESSAGE_EVENT, id = since } = Object
            .fromEntries(
              block.split("\n").map((line) => line.split(/: ?(.*)/, 2)),
            );
          if (data === undefined) continue;
          const hb = /"heartbeatMs":(\d+)/.exec(data);
          if (event === HELLO_EVENT && hb) heartbeatMs = +hb[1] || heartbeatMs;
          // The hello comes before the server reads anything; only what
          // follows proves the stream works (a server whose database is
          // down says hello, then ends the stream).
          if (event !== HELLO_EVENT) failures = 0;
          onEvent(event, data);
          // Only a whole event moves the resume point.
          since = +id;
        }
        feed();
      }
    } catch {
      // Network error, HTTP error or the watchdog: all mean reconnect.
    }
    if (closed) return;
    if (again) {
      again = false;
      return open();
    }
    // Doubling with jitter in [half, full] so that thousands of clients
    // dropped at once by a restart do not come back in lockstep.
    const delay = Math.round(
      Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** failures++) *
        (0.5 + random() / 2),
    );
    report("reconnecting", Date.now() + delay);
    waiting = true;
    wait(open, delay);
  }

  void open();
  return {
    retryNow() {
      if (closed || !waiting) return;
      failures = 0;
      void open();
    },
    restart() {
      if (closed) return;
      failures = 0;
      if (waiting) return void open();
      again = true;
      ctl.abort();
    },
    close() {
      closed = true;
      cancel();
      ctl.abort();
    },
  };
}
