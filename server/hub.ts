import {
  encodeMessageEvent,
  encodeText,
  formatComment,
  formatEvent,
} from "./sse_format.ts";
import type { Message } from "./message.ts";
import type { PlazaMetrics } from "./metrics.ts";

/** One open stream as the hub sees it; `deliver` must never block. */
export interface HubSubscriber {
  /** `id` is the message id, or 0 for heartbeats and other events without one. */
  deliver(id: number, bytes: Uint8Array): void;
  /** Ends the stream (shutdown). */
  end(): void;
}

/** The in-process fan-out from this instance's listener to its streams. */
export interface Hub {
  /** Adds a stream; returns the function that removes it. */
  subscribe(subscriber: HubSubscriber): () => void;
  /** Encodes the message once and hands the same bytes to every stream. */
  publish(message: Message): void;
  /** Sends an event that is not a stored message (no id: resumes skip it). */
  signal(event: string, data: unknown): void;
  /** Records how many streams other instances hold (from Postgres). */
  setRemoteOnline(count: number): void;
  /**
   * Tells every stream the room's total (other instances' streams plus this
   * one's, counted live) if it changed since last told. Called about once a
   * second, which is how often presence events may go out.
   */
  refreshPresence(): void;
  /** The presence event as of now, for a stream that just went live (it counts itself). */
  readonly presence: Uint8Array;
  /** Number of open streams. */
  readonly size: number;
  /** Ends every stream and stops the heartbeat. */
  close(): void;
}

/** Options for the hub. */
export interface HubOptions {
  heartbeatMs: number;
  /** Counts deliveries and the createdAt-to-publish delay when given. */
  metrics?: Pick<PlazaMetrics, "deliveries" | "notifyToDelivery">;
}

/** Creates a hub; its heartbeat timer runs only while a stream is open. */
export function createHub(options: HubOptions): Hub {
  const subscribers = new Set<HubSubscriber>();
  const ping = encodeText(formatComment("ping"));
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastId = 0;
  let remote = 0;
  let told = -1;
  let cached: { total: number; bytes: Uint8Array } = {
    total: -1,
    bytes: new Uint8Array(),
  };
  const encodeSignal = (event: string, data: unknown) =>
    encodeText(formatEvent({ event, data: JSON.stringify(data) }));
  const presenceNow = () => {
    const total = remote + subscribers.size;
    if (cached.total !== total) {
      cached = { total, bytes: encodeSignal("presence", { online: total }) };
    }
    return cached;
  };
  const broadcast = (bytes: Uint8Array) => {
    for (const s of subscribers) s.deliver(0, bytes);
  };

  const beat = () => broadcast(ping);
  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    subscribe(subscriber) {
      subscribers.add(subscriber);
      timer ??= setInterval(beat, options.heartbeatMs);
      return () => {
        subscribers.delete(subscriber);
        if (subscribers.size === 0) stopTimer();
      };
    },
    publish(message) {
      if (message.id <= lastId) return;
      lastId = message.id;
      const bytes = encodeMessageEvent(message);
      // A plain loop: deliver() only enqueues, so no client can hold up the
      // others; slow ones drop themselves.
      for (const s of subscribers) s.deliver(message.id, bytes);
      const metrics = options.metrics;
      if (metrics) {
        metrics.deliveries.inc({}, subscribers.size);
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
    setRemoteOnline(count) {
      remote = count;
    },
    refreshPresence() {
      const now = presenceNow();
      if (now.total === told) return;
      told = now.total;
      broadcast(now.bytes);
    },
    get presence() {
      return presenceNow().bytes;
    },
    get size() {
      return subscribers.size;
    },
    close() {
      stopTimer();
      for (const s of [...subscribers]) s.end();
      subscribers.clear();
    },
  };
}
