import {
  type EventName,
  PRESENCE_EVENT,
  type PresenceEvent,
  ROOM_EVENT,
  type RoomEvent,
} from "../../protocol/events.ts";
import {
  encodeChangeEvent,
  encodeText,
  formatComment,
  formatEvent,
} from "./sse_format.ts";
import type { Change } from "../store/change_feed.ts";
import type { PlazaMetrics } from "../observe/metrics.ts";
import {
  createStreamNames,
  type PresentName,
  type StreamNames,
} from "./stream_names.ts";

/** Most names a presence event lists (the first by key); `online` stays exact. */
export const MAX_PRESENCE_NAMES = 200;

/**
 * The least time from one hand-out's start to the next, as a multiple of how
 * long the last one kept the thread (its loop, then the runtime's socket
 * writes). Until then new events wait and go out together, one write per
 * stream: a saturated instance makes fewer, larger writes instead of
 * queueing requests and database replies behind them (docs/fanout.md, "The
 * fix"). At 1.5, hand-outs take at most two thirds of the thread.
 */
export const HAND_OUT_SPACING = 1.5;
/**
 * A hand-out whose loop took less (a few hundred streams) is not timed or
 * spaced: it cannot crowd the thread, and holding events back would only
 * add latency.
 */
export const SPACED_FROM_MS = 1;

/** One event in a batch: `id` is the change's number (for a message, its id), or 0 for events without one. */
export interface HubEvent {
  id: number;
  bytes: Uint8Array;
  /** Set on presence events: a stream skips one equal to the last it sent. */
  presence?: true;
  /** Set on events for one claim's streams (its held messages): kept while the stream catches up. */
  own?: true;
}

/**
 * What one hand-out gives every stream: the events published in the same
 * tick (or, under load, since the last hand-out), in order, and all of their
 * bytes joined so a stream that is up to date writes them in one go.
 */
export interface HubBatch {
  events: readonly HubEvent[];
  /** `events`' bytes concatenated (the same array when there is one event). */
  bytes: Uint8Array;
  /** The smallest change number in the batch, 0 when it holds no change. */
  firstId: number;
  /** The largest change number in the batch, 0 when it holds no change. */
  lastId: number;
  /** Whether an event in the batch is a presence event. */
  presence: boolean;
}

/** One open stream as the hub sees it; `deliver` must never block. */
export interface HubSubscriber {
  deliver(batch: HubBatch): void;
  /** The claim the stream was opened under (a verified name), if any: it gets that claim's own events. */
  readonly nameId?: number | null;
  /** Ends the stream (shutdown), after sending `farewell` when given. */
  end(farewell?: Uint8Array): void;
}

/** Wraps events into a batch (joining their bytes once for every stream). */
export function hubBatch(events: readonly HubEvent[]): HubBatch {
  let firstId = 0;
  let lastId = 0;
  let size = 0;
  let presence = false;
  for (const e of events) {
    if (e.id !== 0) {
      if (firstId === 0) firstId = e.id;
      lastId = e.id;
    }
    if (e.presence) presence = true;
    size += e.bytes.byteLength;
  }
  if (events.length === 1) {
    return { events, bytes: events[0].bytes, firstId, lastId, presence };
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const e of events) {
    bytes.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return { events, bytes, firstId, lastId, presence };
}

/** The in-process fan-out from this instance's listener to its streams. */
export interface Hub {
  /** Adds a stream. */
  subscribe(subscriber: HubSubscriber): void;
  /** Removes a stream (nothing if it is not subscribed). */
  unsubscribe(subscriber: HubSubscriber): void;
  /**
   * Encodes the change once; at the end of the tick (later under load, see
   * HAND_OUT_SPACING) every stream gets the events in one write. Changes
   * must come in increasing order; earlier numbers are ignored.
   */
  publish(change: Change): void;
  /** Queues an event that is not a stored message (no id: resumes skip it). */
  signal(event: EventName, data: unknown): void;
  /** Sends `bytes` (an event without an id) to the streams opened under claim `nameId` alone, at once. */
  tell(nameId: number, bytes: Uint8Array): void;
  /** Whether a stream here was opened under claim `nameId`. */
  hasName(nameId: number): boolean;
  /** Records how many streams other instances hold (from Postgres). */
  setRemoteOnline(count: number): void;
  /** Records the names other instances' streams hold (from Postgres, sorted by key). */
  setRemoteNames(names: readonly PresentName[]): void;
  /** The names this instance's streams were opened under. */
  readonly names: StreamNames;
  /**
   * Tells every stream the room's total (other instances' streams plus this
   * one's, counted live) and the names present if either changed since last
   * told. Called about once a
   * second, which is how often presence events may go out.
   */
  refreshPresence(): void;
  /**
   * The presence event as of now, for a stream that just went live (it
   * counts itself). The next refreshPresence may broadcast the same count:
   * the stream skips a presence equal to the last one it sent.
   */
  readonly presence: Uint8Array;
  /**
   * Records the room's state (slow mode) and tells every stream when it
   * differs from the last one recorded. Not a change: never replayed.
   */
  setRoom(room: RoomEvent): void;
  /** The room event as of now, for a stream that just went live; null until setRoom. */
  readonly room: Uint8Array | null;
  /** Number of open streams. */
  readonly size: number;
  /**
   * Ends every stream and stops the heartbeat. `farewell` is each stream's
   * last bytes, e.g. a short `retry:` so clients come back at once (to
   * another instance) rather than after the usual delay.
   */
  close(farewell?: Uint8Array): void;
}

/** Options for the hub. */
export interface HubOptions {
  heartbeatMs: number;
  /** Counts deliveries and the createdAt-to-publish delay when given. */
  metrics?: Pick<PlazaMetrics, "deliveries" | "notifyToDelivery">;
  /** Milliseconds for spacing hand-outs (tests); performance.now by default. */
  now?: () => number;
}

/** Creates a hub; its heartbeat timer runs only while a stream is open. */
export function createHub(options: HubOptions): Hub {
  const subscribers = new Set<HubSubscriber>();
  const ping = encodeText(formatComment("ping"));
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastId = 0;
  let remote = 0;
  let room: { json: string; bytes: Uint8Array } | null = null;
  const names = createStreamNames();
  let remoteNames: readonly PresentName[] = [];
  let remoteVersion = 0;
  let told = "";
  let cached: {
    total: number;
    version: string;
    text: string;
    bytes: Uint8Array;
  } = {
    total: -1,
    version: "",
    text: "",
    bytes: new Uint8Array(),
  };
  let list: string[] = [];
  let listVersion = "";
  const encodeSignal = (event: EventName, data: unknown) =>
    encodeText(formatEvent({ event, data: JSON.stringify(data) }));
  // Merged and sorted only when a key came or went here or elsewhere, not
  // for every stream that opens.
  const presentNames = (version: string) => {
    if (version === listVersion) return list;
    const merged = new Map<string, string>();
    for (const n of remoteNames) merged.set(n.key, n.name);
    // This instance's display form wins: it is the one its streams gave.
    for (const [key, name] of names.current()) merged.set(key, name);
    list = [...merged.keys()].sort().slice(0, MAX_PRESENCE_NAMES).map((
      key,
    ) => merged.get(key)!);
    listVersion = version;
    return list;
  };
  const presenceNow = () => {
    const total = remote + subscribers.size;
    const version = `${names.version}/${remoteVersion}`;
    if (cached.total !== total || cached.version !== version) {
      const text = JSON.stringify(
        {
          online: total,
          names: presentNames(version),
        } satisfies PresenceEvent,
      );
      cached = {
        total,
        version,
        text,
        bytes: encodeText(formatEvent({ event: PRESENCE_EVENT, data: text })),
      };
    }
    return cached;
  };
  // Events of the current tick. Messages committed together (a batch of
  // POSTs, a back-fill) arrive as one burst of notifications; sending them as
  // one write per stream instead of one each is what makes bursts cheap.
  let queued: HubEvent[] = [];
  let queuedMessages = 0;
  const now = options.now ?? (() => performance.now());
  // The last hand-out: when it started, and how long it kept the thread. A
  // zero-delay timer runs only once the runtime has made its socket writes,
  // which is what measures it; until then its loop's time stands in.
  let lastStart = 0;
  let lastMs = 0;
  let measuring: ReturnType<typeof setTimeout> | undefined;
  let spacing: ReturnType<typeof setTimeout> | undefined;
  const measured = () => {
    measuring = undefined;
    lastMs = now() - lastStart;
  };
  const spaced = () => {
    spacing = undefined;
    flush();
  };
  const handOut = () => {
    const events = queued;
    const messages = queuedMessages;
    queued = [];
    queuedMessages = 0;
    if (events.length === 0) return;
    const batch = hubBatch(events);
    const start = now();
    // A plain loop: deliver() only enqueues, so no client can hold up the
    // others; slow ones drop themselves.
    for (const s of subscribers) s.deliver(batch);
    const loopMs = now() - start;
    lastStart = start;
    lastMs = loopMs < SPACED_FROM_MS ? 0 : loopMs;
    if (lastMs > 0) measuring ??= setTimeout(measured, 0);
    if (messages > 0) {
      options.metrics?.deliveries.inc({}, messages * subscribers.size);
    }
  };
  const flush = () => {
    if (queued.length === 0 || spacing !== undefined) return;
    const wait = lastStart + HAND_OUT_SPACING * lastMs - now();
    if (wait > 0) spacing = setTimeout(spaced, wait);
    else handOut();
  };
  const queue = (event: HubEvent) => {
    if (queued.length === 0) queueMicrotask(flush);
    queued.push(event);
  };
  const broadcast = (bytes: Uint8Array) => queue({ id: 0, bytes });

  const beat = () => broadcast(ping);
  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    subscribe(subscriber) {
      subscribers.add(subscriber);
      timer ??= setInterval(beat, options.heartbeatMs);
    },
    // Not a closure returned by subscribe: that was one more object and
    // scope kept per open stream.
    unsubscribe(subscriber) {
      if (!subscribers.delete(subscriber)) return;
      if (subscribers.size === 0) stopTimer();
    },
    publish(change) {
      if (change.seq <= lastId) return;
      lastId = change.seq;
      const bytes = encodeChangeEvent(change);
      if (bytes === null) return;
      queue({ id: change.seq, bytes });
      if (change.kind !== "message") return;
      const message = change.message;
      queuedMessages++;
      const metrics = options.metrics;
      if (metrics) {
        // createdAt is the database's clock at insert, in whole ms: the
        // figure includes clock skew and, after an outage, back-fill delay.
        const delay = (Date.now() - Date.parse(message.createdAt)) / 1000;
        if (Number.isFinite(delay)) {
          metrics.notifyToDelivery.observe(Math.max(0, delay));
        }
      }
    },
    signal(event, data) {
      broadcast(encodeSignal(event, data));
    },
    tell(nameId, bytes) {
      const batch = hubBatch([{ id: 0, bytes, own: true }]);
      for (const s of subscribers) if (s.nameId === nameId) s.deliver(batch);
    },
    hasName(nameId) {
      for (const s of subscribers) if (s.nameId === nameId) return true;
      return false;
    },
    setRemoteOnline(count) {
      remote = count;
    },
    setRemoteNames(list) {
      const same = list.length === remoteNames.length &&
        list.every((n, i) =>
          n.key === remoteNames[i].key && n.name === remoteNames[i].name
        );
      if (same) return;
      remoteNames = list;
      remoteVersion++;
    },
    names,
    refreshPresence() {
      const now = presenceNow();
      if (now.text === told) return;
      told = now.text;
      queue({ id: 0, bytes: now.bytes, presence: true });
    },
    get presence() {
      return presenceNow().bytes;
    },
    setRoom(event) {
      const json = JSON.stringify(event);
      if (room?.json === json) return;
      room = {
        json,
        bytes: encodeText(formatEvent({ event: ROOM_EVENT, data: json })),
      };
      broadcast(room.bytes);
    },
    get room() {
      return room?.bytes ?? null;
    },
    get size() {
      return subscribers.size;
    },
    close(farewell) {
      stopTimer();
      // What waits for its turn goes out now, before the streams end.
      clearTimeout(spacing);
      spacing = undefined;
      handOut();
      clearTimeout(measuring);
      measuring = undefined;
      for (const s of [...subscribers]) s.end(farewell);
      subscribers.clear();
    },
  };
}
