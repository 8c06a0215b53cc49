import { HELLO_EVENT, type HelloEvent } from "../../protocol/events.ts";
import type { Hub, HubBatch, HubEvent, HubSubscriber } from "./hub.ts";
import {
  type Change,
  type ChangeFeed,
  messageChange,
} from "../store/change_feed.ts";
import {
  encodeChangeEvent,
  encodeText,
  formatEvent,
  formatRetry,
} from "./sse_format.ts";

/** Where a new stream starts: after a known change number, or with the latest `history` messages. */
export type StreamStart = { since: number } | { history: number };

/** What one SSE response needs. */
export interface SseStreamOptions {
  hub: Hub;
  changes: ChangeFeed;
  start: StreamStart;
  retryMs: number;
  /** Announced in the opening `hello` event so clients can run a watchdog. */
  heartbeatMs: number;
  /** Queued bytes a client may fall behind by (see STALL_GRACE_MS, HARD_LIMIT_FACTOR). */
  maxBufferedBytes: number;
  /** The stream ends after about this long (±20 %), so clients spread over instances again; 0 = never. */
  maxAgeMs?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
  /** Called once when the stream ends, whatever the reason. */
  onClose?: () => void;
  /** Called (before onClose) when the client is dropped for falling too far behind. */
  onDrop?: () => void;
  /** The claim the stream was opened under (a verified name): it gets that claim's own events (hub.tell). */
  nameId?: number | null;
  /** That claim's held messages as events, read as the stream goes live (after its backlog). */
  ownEvents?: () => Promise<Uint8Array | null>;
}

/** Headers every event stream is sent with; no-transform keeps proxies from buffering or compressing. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
};

const BACKLOG_PAGE = 500;

/** How long a stream may stay over its buffer budget before it counts as stalled. */
export const STALL_GRACE_MS = 5_000;
/** A stream is dropped at once when its queue exceeds this many budgets. */
export const HARD_LIMIT_FACTOR = 4;

/**
 * Builds the body of `GET /stream`: subscribes to the hub first, then sends
 * the backlog (the changes after the resume point, or the latest messages),
 * then the live changes that arrived meanwhile, dropping numbers already
 * covered, so nothing is missed and nothing repeats.
 */
export function createSseStream(
  options: SseStreamOptions,
): ReadableStream<Uint8Array> {
  const { hub, changes } = options;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let unsubscribe: (() => void) | null = null;
  let closed = false;
  let live = false;
  let lastSent = "since" in options.start ? options.start.since : 0;
  // Live events that arrive while the backlog is still being read.
  let pending: HubEvent[] = [];
  // Resolved by pull(): the backlog waits for the client to read.
  let wakeReader: (() => void) | null = null;

  let ageTimer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearTimeout(ageTimer);
    unsubscribe?.();
    pending = [];
    wakeReader?.();
    options.onClose?.();
  };
  const end = (farewell?: Uint8Array) => {
    if (closed) return;
    finish();
    try {
      // After whatever is queued, backlog or live: the client reads it all.
      if (farewell) controller.enqueue(farewell);
      controller.close();
    } catch {
      // Already closed or errored by the runtime.
    }
  };
  // Over budget means the client stopped reading: drop it rather than buffer
  // without bound, and discard its queue (error, not close, which would keep
  // the bytes until they drain). It resumes with Last-Event-ID.
  const drop = () => {
    if (closed) return;
    options.onDrop?.();
    finish();
    controller.error(new Error("Client too slow: send buffer overflowed"));
  };
  // Over budget is not yet stalled: a burst (a big back-fill, a flood of
  // messages) briefly queues more than the budget for readers that keep up.
  // A reader is dropped when it stays over budget for STALL_GRACE_MS, or at
  // once beyond HARD_LIMIT_FACTOR times the budget, which bounds memory.
  let overSince: number | null = null;
  const write = (bytes: Uint8Array) => {
    // Within budget before this write: the reader has been keeping up, so a
    // stall (if this write starts one) is timed from now.
    if ((controller.desiredSize ?? 0) >= 0) overSince = null;
    controller.enqueue(bytes);
    const room = controller.desiredSize ?? 0;
    if (room >= 0) {
      overSince = null;
      return;
    }
    const now = (options.now ?? Date.now)();
    overSince ??= now;
    const queued = options.maxBufferedBytes - room;
    if (
      queued > options.maxBufferedBytes * HARD_LIMIT_FACTOR ||
      now - overSince > STALL_GRACE_MS
    ) {
      drop();
    }
  };
  // Backlog writes wait for the reader instead of dropping it: a client
  // catching up on many changes is slow by design, not stalled.
  const sendBacklogChange = async (change: Change) => {
    if (change.seq <= lastSent) return;
    const bytes = encodeChangeEvent(change);
    if (bytes !== null) {
      if ((controller.desiredSize ?? 0) <= 0) await waitForReader();
      if (closed) return;
      controller.enqueue(bytes);
    }
    lastSent = change.seq;
  };
  let pendingBytes = 0;
  // The last presence event written. A stream starts with the count as of
  // going live (hub.presence, which counts it), while the hub tells every
  // stream the total only at its next presence tick, when that total changed
  // since the previous tick: for the new stream it is often the count it
  // already has. Equal bytes mean equal counts (same encoder).
  let lastPresence: Uint8Array | null = null;
  const sendPresence = (bytes: Uint8Array) => {
    if (lastPresence !== null && sameBytes(lastPresence, bytes)) return;
    lastPresence = bytes;
    write(bytes);
  };

  const subscriber: HubSubscriber = {
    nameId: options.nameId ?? null,
    deliver(batch: HubBatch) {
      if (closed) return;
      if (!live) {
        for (const e of batch.events) {
          // An own event (a held message) told before ownEvents' read is
          // in that read; one told after is sent after it.
          if (e.id === 0 && !e.own) continue;
          pending.push(e);
          pendingBytes += e.bytes.byteLength;
        }
        if (pendingBytes > options.maxBufferedBytes * HARD_LIMIT_FACTOR) drop();
        return;
      }
      // The usual case: nothing in the batch was sent yet, one write. A
      // batch with presence (about once a second) goes event by event, in
      // case this stream has that count already.
      if (
        !batch.presence && (batch.firstId === 0 || batch.firstId > lastSent)
      ) {
        if (batch.lastId !== 0) lastSent = batch.lastId;
        write(batch.bytes);
        return;
      }
      // Else only right after the backlog can a batch overlap what was sent.
      for (const e of batch.events) sendLive(e);
    },
    end,
  };
  function sendLive(e: HubEvent) {
    if (closed) return;
    if (e.presence) {
      sendPresence(e.bytes);
      return;
    }
    if (e.id !== 0) {
      if (e.id <= lastSent) return;
      lastSent = e.id;
    }
    write(e.bytes);
  }

  function waitForReader(): Promise<void> {
    if ((controller.desiredSize ?? 0) > 0 || closed) return Promise.resolve();
    return new Promise<void>((resolve) => (wakeReader = resolve));
  }

  const sendBacklog = async () => {
    if ("history" in options.start) {
      if (options.start.history > 0) {
        const { messages, lastSeq } = await changes.latest(
          options.start.history,
        );
        for (const m of messages) await sendBacklogChange(messageChange(m));
        // The messages are as of change lastSeq: live changes up to it are
        // in them already (an edit, a reaction, a delete of an older one).
        lastSent = Math.max(lastSent, lastSeq);
      }
    } else {
      // Every change after the resume point, once and in order, each with
      // its message as it is now; changes about messages deleted since are
      // skipped, their delete is among the changes.
      for (;;) {
        const page = await changes.after(lastSent, BACKLOG_PAGE);
        for (const change of page) await sendBacklogChange(change);
        if (page.length < BACKLOG_PAGE || closed) break;
      }
    }
    if (closed) return;
    const own = await options.ownEvents?.();
    if (closed) return;
    live = true;
    sendPresence(hub.presence);
    // Room state broadcast during the backlog was not kept (events without
    // an id are not queued): the current state covers it.
    const room = hub.room;
    if (room !== null) write(room);
    if (own) write(own);
    const caughtUp = pending;
    pending = [];
    pendingBytes = 0;
    for (const e of caughtUp) sendLive(e);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        unsubscribe = hub.subscribe(subscriber);
        if (options.maxAgeMs) {
          // Jittered, so streams opened together (after a deploy) do not
          // all reconnect at the same moment.
          ageTimer = setTimeout(
            end,
            options.maxAgeMs * (0.8 + 0.4 * Math.random()),
          );
        }
        controller.enqueue(encodeText(
          formatRetry(options.retryMs) + formatEvent({
            event: HELLO_EVENT,
            data: JSON.stringify(
              { heartbeatMs: options.heartbeatMs } satisfies HelloEvent,
            ),
          }),
        ));
        sendBacklog().catch(() => {
          // The database went away mid-backlog: end the stream so the client
          // reconnects (with Last-Event-ID) once it is back.
          end();
        });
      },
      pull() {
        // Called when the queue drops below the budget: the reader keeps up.
        wakeReader?.();
        wakeReader = null;
        // Live writes never wait for the reader (write() checks the budget
        // itself), so pull is not needed any more. A promise that never
        // settles keeps the stream from calling pull after every chunk:
        // at 10,000 streams that machinery was about a tenth of the
        // server's JavaScript time and made the hub's loop take about
        // twice as long (docs/benchmarks.md, "Profiles").
        if (live) return new Promise<void>(() => {});
      },
      cancel() {
        finish();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.maxBufferedBytes }),
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
