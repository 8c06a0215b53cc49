/**
 * One live stream per browser, not per tab: over HTTP/1.1 a browser opens at
 * most six connections to a host, so a seventh tab holding its own stream
 * would hang, and so would every POST. Tabs elect a leader with a Web Lock
 * held for the tab's life; the leader holds the stream and relays what it
 * hears to the other tabs over a BroadcastChannel. When the leader closes, the
 * browser grants the lock to a waiting tab, which takes over.
 */

/** The part of LockManager used here, so tests can pass a fake. */
export interface LocksLike {
  request(
    name: string,
    options: { ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown>;
}

/** The part of BroadcastChannel used here, so tests can pass a fake. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** Lock whose holder is the tab that holds the stream. */
export const LEADER_LOCK = "plaza-stream";

/**
 * Joins this browser's tabs; returns the function that relays to the others.
 * onRelay receives what other tabs relay; onLead runs once, when this tab
 * becomes the leader; onFollow runs at start when another tab leads. locks
 * defaults to navigator.locks (absent outside secure contexts; null for none),
 * channel to a BroadcastChannel named "plaza".
 */
export function joinTabs(
  onRelay: (type: string, data: string) => void,
  onLead: () => void,
  onFollow: () => void,
  locks: LocksLike | null = navigator.locks,
  channel?: ChannelLike,
): (type: string, data: string) => void {
  // Web Locks exist only on https and localhost; elsewhere each tab streams
  // for itself (later, so the caller has the relay function first).
  if (!locks) {
    queueMicrotask(onLead);
    return () => {};
  }
  const bus = channel ?? new BroadcastChannel("plaza");
  bus.onmessage = ({ data }) => onRelay(data[0], data[1]);
  // The callback's promise never settles: the lock is held for the tab's life.
  const lead = () => {
    onLead();
    return new Promise<void>(() => {});
  };
  locks.request(LEADER_LOCK, { ifAvailable: true }, (lock) => {
    if (lock) return lead();
    onFollow();
    void locks.request(LEADER_LOCK, {}, lead);
    // Refused where the browser blocks a framing site's storage (/embed on
    // another site): this tab streams for itself.
  }).catch(onLead);
  return (type, data) => bus.postMessage([type, data]);
}
