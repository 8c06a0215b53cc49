/**
 * What the service worker does with a push and with a click on the
 * notification it showed. Plain functions over the parts of the worker's
 * globals they use, so unit tests can run them with fakes (a notification
 * click cannot be simulated in headless Chromium, see
 * notifications_test.ts).
 */

/** The message a Plaza window receives when a notification click brings it forward: scroll to `url`'s message. */
export const OPEN_MESSAGE = "plaza:open";

/** The JSON a push from the server carries (server/push_*.ts). */
export interface PushPayload {
  title?: unknown;
  body?: unknown;
  tag?: unknown;
  url?: unknown;
  messageId?: unknown;
}

/** A notification ready for `registration.showNotification(title, options)`. */
export interface NotificationSpec {
  title: string;
  options: NotificationOptions & { data: { url: string } };
}

/** The part of a WindowClient used on a click. */
export interface WindowLike {
  readonly url: string;
  readonly focused?: boolean;
  postMessage(message: unknown): void;
  focus(): Promise<unknown>;
}

/** The part of the worker's `clients` used on a click. */
export interface ClientsLike {
  matchAll(
    options: { type: "window"; includeUncontrolled: boolean },
  ): Promise<readonly WindowLike[]>;
  openWindow(url: string): Promise<unknown>;
}

/** Longest body shown; the server already cuts message text to 120 characters. */
const MAX_BODY = 200;

const text = (value: unknown, fallback: string, max: number) =>
  typeof value === "string" && value.trim() ? value.slice(0, max) : fallback;

/**
 * A path on this origin for `url`, or "/" for anything else: a push names the
 * page to open, and only Plaza's own pages are opened.
 */
export function sameOriginPath(url: unknown, origin: string): string {
  try {
    const u = new URL(typeof url === "string" ? url : "/", origin);
    if (u.origin === origin) return u.pathname + u.search + u.hash;
  } catch {
    // Not a URL at all: the room itself.
  }
  return "/";
}

/**
 * The notification for a push payload (parsed JSON, or null when the push
 * had none or it was not JSON). Browsers require every push to show
 * something, so a missing or malformed payload still gives one.
 */
export function notificationFromPush(
  payload: unknown,
  origin: string,
  icons: { icon: string; badge: string },
): NotificationSpec {
  const p: PushPayload = typeof payload === "object" && payload !== null
    ? payload
    : {};
  const id = Number.isSafeInteger(p.messageId) ? p.messageId : null;
  const options: NotificationSpec["options"] = {
    body: text(p.body, "", MAX_BODY),
    icon: icons.icon || undefined,
    badge: icons.badge || undefined,
    lang: "en",
    data: {
      url: sameOriginPath(p.url ?? (id ? `/m/${id}` : "/"), origin),
    },
  };
  // Same tag: the newer notification replaces the older one.
  if (typeof p.tag === "string" && p.tag) options.tag = p.tag;
  return { title: text(p.title, "New messages in Plaza", 120), options };
}

/**
 * What a click on a notification does: an open Plaza window is told which
 * message to show and brought forward; with none open, a new one opens at
 * the message. `data` is the notification's data ({url}).
 */
export async function openFromNotification(
  clients: ClientsLike,
  data: unknown,
  origin: string,
): Promise<void> {
  const url = sameOriginPath((data as { url?: unknown } | null)?.url, origin);
  const windows = (await clients.matchAll({
    type: "window",
    includeUncontrolled: true,
  })).filter((w) => new URL(w.url).origin === origin);
  const win = windows.find((w) => w.focused) ?? windows[0];
  if (win) {
    // Told first: focus() may be refused, the scroll still happens.
    win.postMessage({ type: OPEN_MESSAGE, url });
    await win.focus();
  } else {
    await clients.openWindow(url);
  }
}
