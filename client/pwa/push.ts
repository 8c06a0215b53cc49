/**
 * The client side of Web Push: the "Notify me" switch's states and
 * what each click does, and the visibility reports that let the server skip
 * readers who are looking at the room. Browser objects come in through
 * PushEnv so that tests can pass fakes. The HTTP contract:
 *
 * - `GET /push/key` → `{"publicKey": <base64url>}` (404: the server does not
 *   send notifications);
 * - `POST /push/subscriptions` `{"subscription", "name"}` → `{"ok": true}`,
 *   again whenever the name changes; `DELETE /push/subscriptions`
 *   `{"endpoint"}`;
 * - `POST /push/visibility` `{"endpoint", "tab", "visible"}`.
 */

/** What the switch shows: hidden (unsupported, checking), off, on, blocked by the browser, or unavailable on this server. */
export type NotifyState =
  | "unsupported"
  | "checking"
  | "off"
  | "on"
  | "blocked"
  | "unavailable";

/** The part of a PushSubscription used here. */
export interface SubscriptionLike {
  readonly endpoint: string;
  readonly options?: { readonly applicationServerKey: ArrayBuffer | null };
  toJSON(): unknown;
  unsubscribe(): Promise<boolean>;
}

/** The part of a PushManager used here. */
export interface PushManagerLike {
  getSubscription(): Promise<SubscriptionLike | null>;
  subscribe(options: {
    userVisibleOnly: boolean;
    applicationServerKey: Uint8Array<ArrayBuffer>;
  }): Promise<SubscriptionLike>;
}

/** What the push control needs from the browser. */
export interface PushEnv {
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** The service worker registration's push manager, once it is ready. */
  pushManager(): Promise<PushManagerLike>;
  /** Notification.permission now. */
  permission(): NotificationPermission;
  /** Notification.requestPermission(): call only from a click. */
  requestPermission(): Promise<NotificationPermission>;
}

/** The "Notify me" switch's logic. */
export interface PushControl {
  /** The subscription's endpoint while notifications are on, else null. */
  endpoint(): string | null;
  /** Finds the current state (and re-sends a live subscription with the current name). */
  init(): Promise<void>;
  /** Turns notifications on, asking for permission first: call from a click. */
  turnOn(): Promise<void>;
  /** Turns notifications off: forgets the subscription here and on the server. */
  turnOff(): Promise<void>;
  /** Sends the subscription again while there is one: the name changed, or the server lost it. */
  resend(): Promise<void>;
}

/** A sentence for the reader about the last attempt, or undefined. */
export type Note = string | undefined;

/** A base64url string (padding optional) as bytes. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Bytes as base64url without padding. */
export function toBase64Url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const JSON_HEADERS = { "Content-Type": "application/json" };
// The server does not know push (yet): nothing to offer.
const ABSENT = "absent";

/**
 * Creates the control. `name` reads the reader's current name; `show`
 * receives every change of state, with a sentence when something failed.
 */
export function createPushControl(
  env: PushEnv,
  name: () => string | null,
  show: (state: NotifyState, note?: Note) => void,
): PushControl {
  let key: string | null = null;
  let sub: SubscriptionLike | null = null;

  // The server's public key; ABSENT on 404, null when it could not be asked.
  async function fetchKey(): Promise<string | null> {
    try {
      const res = await env.fetch("/push/key");
      if (res.status === 404) return ABSENT;
      const body: { publicKey?: unknown } = await res.json();
      return res.ok && typeof body.publicKey === "string"
        ? body.publicKey
        : null;
    } catch {
      return null;
    }
  }

  // Stores the subscription on the server: true when it did, ABSENT on 404.
  async function save(s: SubscriptionLike): Promise<boolean | typeof ABSENT> {
    try {
      const res = await env.fetch("/push/subscriptions", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ subscription: s.toJSON(), name: name() }),
      });
      await res.body?.cancel();
      return res.status === 404 ? ABSENT : res.ok;
    } catch {
      return false;
    }
  }

  async function drop(): Promise<void> {
    const s = sub;
    sub = null;
    await s?.unsubscribe().catch(() => false);
  }

  // Subscribes with the server's key and stores it there: the end of both
  // a click on "Notify me" and a start that found a stale subscription.
  async function subscribe(): Promise<void> {
    key ??= await fetchKey();
    if (key === ABSENT) return show("unavailable");
    if (key === null) return show("off", "Could not reach the server.");
    try {
      const manager = await env.pushManager();
      sub = await manager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: fromBase64Url(key),
      });
    } catch {
      return show("off", "This browser could not turn notifications on.");
    }
    const saved = await save(sub);
    if (saved === true) return show("on");
    await drop();
    if (saved === ABSENT) return show("unavailable");
    show("off", "Could not reach the server.");
  }

  return {
    endpoint: () => sub?.endpoint ?? null,
    async init() {
      show("checking");
      if (env.permission() === "denied") return show("blocked");
      try {
        sub = await (await env.pushManager()).getSubscription();
      } catch {
        return show("unsupported");
      }
      key = await fetchKey();
      if (key === ABSENT) return show("unavailable");
      const current = sub?.options?.applicationServerKey;
      if (sub && key && current && toBase64Url(current) !== key) {
        // The server has a new key pair: the old subscription is useless.
        await drop();
        if (env.permission() === "granted") return subscribe();
      }
      if (sub) {
        // The server may have dropped it (or never heard of it): cheap to
        // say again, and it keeps the name fresh.
        const saved = await save(sub);
        if (saved === ABSENT) return show("unavailable");
      }
      show(sub ? "on" : "off");
    },
    async turnOn() {
      // First thing in the click: Safari grants the prompt only there.
      const permission = await env.requestPermission();
      if (permission === "denied") return show("blocked");
      if (permission !== "granted") {
        return show("off", "Notifications need your permission.");
      }
      await subscribe();
    },
    async turnOff() {
      const endpoint = sub?.endpoint;
      if (endpoint) {
        await env.fetch("/push/subscriptions", {
          method: "DELETE",
          headers: JSON_HEADERS,
          body: JSON.stringify({ endpoint }),
        }).then((res) => res.body?.cancel(), () => {});
      }
      // Unsubscribed here, the push service refuses the server's next send
      // (410) and the server forgets it even if the DELETE was lost.
      await drop();
      show("off");
    },
    async resend() {
      if (sub && await save(sub) === ABSENT) show("unavailable");
    },
  };
}

/** How often a visible tab says it still is. */
export const VISIBLE_EVERY_MS = 20_000;

/**
 * Reports this tab's visibility to the server while subscribed: on every
 * change, every VISIBLE_EVERY_MS while visible, and as hidden when the page
 * goes away. `tab` identifies this tab; `hidden` reads document.hidden;
 * `lost` runs when the server says it has no such subscription (404).
 * Returns `report`, for a report right away (e.g. just subscribed).
 */
export function reportVisibility(
  env: Pick<PushEnv, "fetch">,
  endpoint: () => string | null,
  tab: string,
  hidden: () => boolean,
  lost: () => void,
  target: Pick<EventTarget, "addEventListener"> = globalThis,
  doc: Pick<EventTarget, "addEventListener"> = document,
  every: (fn: () => void, ms: number) => unknown = setInterval,
): () => void {
  function send(visible: boolean): void {
    const e = endpoint();
    if (!e) return;
    // keepalive: a report sent as the page closes still goes out.
    env.fetch("/push/visibility", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ endpoint: e, tab, visible }),
      keepalive: true,
    }).then((res) => {
      if (res.status === 404 && visible) lost();
      return res.body?.cancel();
    }, () => {});
  }
  const report = () => send(!hidden());
  doc.addEventListener("visibilitychange", report);
  target.addEventListener("pagehide", () => send(false));
  every(() => {
    if (!hidden()) send(true);
  }, VISIBLE_EVERY_MS);
  return report;
}
