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
 * Streams past their maximum age are ended by one timer for all of them,
 * which runs at most this often (the age is jittered by ±20 % anyway).
 */
export const AGE_CHECK_MS = 1_000;

/**
 * Builds the body of `GET /stream`: subscribes to the hub first, then sends
 * the backlog (the changes after the resume point, or the latest messages),
 * then the live changes that arrived meanwhile, dropping numbers already
 * covered, so nothing is missed and nothing repeats.
 */
export function createSseStream(
  options: SseStreamOptions,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    new SseSource(options),
    new ByteLengthQueuingStrategy({ highWaterMark: options.maxBufferedBytes }),
  );
}

/**
 * One open stream: the stream's underlying source and the hub's subscriber
 * in one object. Its state is fields and its code prototype methods, so an
 * idle stream costs one small object here; as closures over one scope (an
 * earlier version) it kept 13 closures, their 224-byte context and a
 * subscriber object, about 1.2 KB of JavaScript heap per stream more
 * (bench/stream_memory.ts, docs/benchmarks.md "What an idle stream keeps").
 */
class SseSource implements UnderlyingDefaultSource<Uint8Array>, HubSubscriber {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private closed = false;
  private live = false;
  private lastSent: number;
  // Live events that arrive while the backlog is still being read; made
  // only when one does.
  private pending: HubEvent[] | null = null;
  private pendingBytes = 0;
  // Resolved by pull(): the backlog waits for the client to read.
  private wakeReader: (() => void) | null = null;
  /** When the stream ends for its age (performance.now()), or Infinity. */
  endsAt = Infinity;
  // Since when the queue has been over budget (see write), or -1.
  private overSince = -1;
  // The last presence event written (see sendPresence).
  private lastPresence: Uint8Array | null = null;

  /** The claim the stream was opened under, for the hub's tell(). */
  readonly nameId: number | null;

  constructor(private readonly options: SseStreamOptions) {
    this.lastSent = "since" in options.start ? options.start.since : 0;
    this.nameId = options.nameId ?? null;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>) {
    const options = this.options;
    this.controller = controller;
    options.hub.subscribe(this);
    if (options.maxAgeMs) {
      // Jittered, so streams opened together (after a deploy) do not
      // all reconnect at the same moment.
      this.endsAt = performance.now() +
        options.maxAgeMs * (0.8 + 0.4 * Math.random());
      watchAge(this);
    }
    controller.enqueue(opening(options.retryMs, options.heartbeatMs));
    this.sendBacklog().catch(() => {
      // The database went away mid-backlog: end the stream so the client
      // reconnects (with Last-Event-ID) once it is back.
      this.end();
    });
  }

  pull(): Promise<void> | void {
    // Called when the queue drops below the budget: the reader keeps up.
    this.wakeReader?.();
    this.wakeReader = null;
    // Live writes never wait for the reader (write() checks the budget
    // itself), so pull is not needed any more. A promise that never
    // settles keeps the stream from calling pull after every chunk:
    // at 10,000 streams that machinery was about a tenth of the
    // server's JavaScript time and made the hub's loop take about
    // twice as long (docs/benchmarks.md, "Profiles").
    if (this.live) return new Promise<void>(() => {});
  }

  cancel() {
    this.finish();
  }

  deliver(batch: HubBatch) {
    if (this.closed) return;
    if (!this.live) {
      for (const e of batch.events) {
        // An own event (a held message) told before ownEvents' read is
        // in that read; one told after is sent after it.
        if (e.id === 0 && !e.own) continue;
        (this.pending ??= []).push(e);
        this.pendingBytes += e.bytes.byteLength;
      }
      if (
        this.pendingBytes > this.options.maxBufferedBytes * HARD_LIMIT_FACTOR
      ) {
        this.drop();
      }
      return;
    }
    // The usual case: nothing in the batch was sent yet, one write. A
    // batch with presence (about once a second) goes event by event, in
    // case this stream has that count already.
    if (
      !batch.presence && (batch.firstId === 0 || batch.firstId > this.lastSent)
    ) {
      if (batch.lastId !== 0) this.lastSent = batch.lastId;
      this.write(batch.bytes);
      return;
    }
    // Else only right after the backlog can a batch overlap what was sent.
    for (const e of batch.events) this.sendLive(e);
  }

  end(farewell?: Uint8Array) {
    if (this.closed) return;
    this.finish();
    try {
      // After whatever is queued, backlog or live: the client reads it all.
      if (farewell) this.controller.enqueue(farewell);
      this.controller.close();
    } catch {
      // Already closed or errored by the runtime.
    }
  }

  private finish() {
    if (this.closed) return;
    this.closed = true;
    unwatchAge(this);
    this.options.hub.unsubscribe(this);
    this.pending = null;
    this.wakeReader?.();
    this.options.onClose?.();
  }

  // Over budget means the client stopped reading: drop it rather than buffer
  // without bound, and discard its queue (error, not close, which would keep
  // the bytes until they drain). It resumes with Last-Event-ID.
  private drop() {
    if (this.closed) return;
    this.options.onDrop?.();
    this.finish();
    this.controller.error(new Error("Client too slow: send buffer overflowed"));
  }

  // Over budget is not yet stalled: a burst (a big back-fill, a flood of
  // messages) briefly queues more than the budget for readers that keep up.
  // A reader is dropped when it stays over budget for STALL_GRACE_MS, or at
  // once beyond HARD_LIMIT_FACTOR times the budget, which bounds memory.
  private write(bytes: Uint8Array) {
    const controller = this.controller;
    // Within budget before this write: the reader has been keeping up, so a
    // stall (if this write starts one) is timed from now.
    if ((controller.desiredSize ?? 0) >= 0) this.overSince = -1;
    controller.enqueue(bytes);
    const room = controller.desiredSize ?? 0;
    if (room >= 0) {
      this.overSince = -1;
      return;
    }
    const options = this.options;
    const now = (options.now ?? Date.now)();
    if (this.overSince < 0) this.overSince = now;
    const queued = options.maxBufferedBytes - room;
    if (
      queued > options.maxBufferedBytes * HARD_LIMIT_FACTOR ||
      now - this.overSince > STALL_GRACE_MS
    ) {
      this.drop();
    }
  }

  // Backlog writes wait for the reader instead of dropping it: a client
  // catching up on many changes is slow by design, not stalled.
  private async sendBacklogChange(change: Change) {
    if (change.seq <= this.lastSent) return;
    const bytes = encodeChangeEvent(change);
    if (bytes !== null) {
      if ((this.controller.desiredSize ?? 0) <= 0) await this.waitForReader();
      if (this.closed) return;
      this.controller.enqueue(bytes);
    }
    this.lastSent = change.seq;
  }

  // A stream starts with the count as of going live (hub.presence, which
  // counts it), while the hub tells every stream the total only at its next
  // presence tick, when that total changed since the previous tick: for the
  // new stream it is often the count it already has. Equal bytes mean equal
  // counts (same encoder).
  private sendPresence(bytes: Uint8Array) {
    if (this.lastPresence !== null && sameBytes(this.lastPresence, bytes)) {
      return;
    }
    this.lastPresence = bytes;
    this.write(bytes);
  }

  private sendLive(e: HubEvent) {
    if (this.closed) return;
    if (e.presence) {
      this.sendPresence(e.bytes);
      return;
    }
    if (e.id !== 0) {
      if (e.id <= this.lastSent) return;
      this.lastSent = e.id;
    }
    this.write(e.bytes);
  }

  private waitForReader(): Promise<void> {
    if ((this.controller.desiredSize ?? 0) > 0 || this.closed) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (this.wakeReader = resolve));
  }

  private async sendBacklog() {
    const { start, changes, hub } = this.options;
    if ("history" in start) {
      if (start.history > 0) {
        const { messages, lastSeq } = await changes.latest(start.history);
        for (const m of messages) {
          await this.sendBacklogChange(messageChange(m));
        }
        // The messages are as of change lastSeq: live changes up to it are
        // in them already (an edit, a reaction, a delete of an older one).
        this.lastSent = Math.max(this.lastSent, lastSeq);
      }
    } else {
      // Every change after the resume point, once and in order, each with
      // its message as it is now; changes about messages deleted since are
      // skipped, their delete is among the changes.
      for (;;) {
        const page = await changes.after(this.lastSent, BACKLOG_PAGE);
        for (const change of page) await this.sendBacklogChange(change);
        if (page.length < BACKLOG_PAGE || this.closed) break;
      }
    }
    if (this.closed) return;
    const own = await this.options.ownEvents?.();
    if (this.closed) return;
    this.live = true;
    this.sendPresence(hub.presence);
    // Room state broadcast during the backlog was not kept (events without
    // an id are not queued): the current state covers it.
    const room = hub.room;
    if (room !== null) this.write(room);
    if (own) this.write(own);
    const caughtUp = this.pending;
    this.pending = null;
    this.pendingBytes = 0;
    if (caughtUp !== null) { for (const e of caughtUp) this.sendLive(e); }
  }
}

// Streams with a maximum age, ended by one timer: a timer per stream was
// about 0.8 KB of JavaScript heap per open stream (a Timeout, its closure
// and the runtime's timer entry; bench/stream_memory.ts with
// STREAM_MAX_AGE_MS at its default), for an event that comes once in 30
// minutes.
const ageing = new Set<SseSource>();
let ageTimer: ReturnType<typeof setTimeout> | undefined;
// When the timer fires, or Infinity when none is armed.
let ageTimerAt = Infinity;
let lastAgeCheck = -Infinity;

function watchAge(stream: SseSource) {
  ageing.add(stream);
  armAgeTimer(stream.endsAt);
}

function unwatchAge(stream: SseSource) {
  if (!ageing.delete(stream) || ageing.size > 0) return;
  clearTimeout(ageTimer);
  ageTimer = undefined;
  ageTimerAt = Infinity;
}

// Armed for the earliest end, but not sooner than AGE_CHECK_MS after the
// last check, so each check ends every stream due by then.
function armAgeTimer(at: number) {
  const when = Math.max(at, lastAgeCheck + AGE_CHECK_MS);
  if (when >= ageTimerAt) return;
  clearTimeout(ageTimer);
  ageTimerAt = when;
  ageTimer = setTimeout(checkAges, Math.max(0, when - performance.now()));
}

function checkAges() {
  ageTimer = undefined;
  ageTimerAt = Infinity;
  const now = performance.now();
  lastAgeCheck = now;
  let next = Infinity;
  // end() removes the stream from the set, which a Set's loop allows.
  for (const stream of ageing) {
    if (stream.endsAt <= now) stream.end();
    else if (stream.endsAt < next) next = stream.endsAt;
  }
  if (next !== Infinity) armAgeTimer(next);
}

// The opening bytes (retry, then hello) of the last settings asked for:
// every stream of an instance has the same, so they are encoded once.
let openingFor = "";
let openingBytes: Uint8Array = new Uint8Array();

function opening(retryMs: number, heartbeatMs: number): Uint8Array {
  const key = `${retryMs}/${heartbeatMs}`;
  if (key !== openingFor) {
    openingBytes = encodeText(
      formatRetry(retryMs) + formatEvent({
        event: HELLO_EVENT,
        data: JSON.stringify({ heartbeatMs } satisfies HelloEvent),
      }),
    );
    openingFor = key;
  }
  return openingBytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
