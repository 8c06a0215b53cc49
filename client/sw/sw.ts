/**
 * Plaza's service worker, served as /sw.js (root scope) and built by
 * tools/build_client.ts, which fills in the constants below.
 *
 * - Offline: the app shell (index.html, every hashed asset but the install
 *   dialog's screenshots, the manifest and icons) is cached at install in a cache named after all their hashes, so a
 *   new deploy gets a new cache and the old ones are deleted on activate. The
 *   page itself (/, and a message's permalink /m/<id>, which is the same
 *   page) is fetched network first (a fresh shell whenever the server
 *   answers), hashed assets cache first. Nothing else is touched: /stream,
 *   /messages, /push/… always go to the network and are never cached.
 * - Push: shows the server's notification; a click brings Plaza forward at
 *   the message (client/sw/notifications.ts).
 */
import {
  notificationFromPush,
  openFromNotification,
  type WindowLike,
} from "./notifications.ts";

/** This build's cache name: "plaza-" and a hash of the whole shell. */
declare const PLAZA_CACHE: string;
/** URL paths of the app shell. */
declare const PLAZA_SHELL: string[];
/** Hashed URLs of the notification icon and the monochrome status-bar badge. */
declare const PLAZA_ICONS: { icon: string; badge: string };

// The worker's globals, typed here: the project compiles against the DOM
// library, which does not describe service workers.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WorkerEvents {
  install: ExtendableEvent;
  activate: ExtendableEvent;
  fetch: FetchEvent;
  push: PushEvent;
  notificationclick: NotificationEvent;
}
interface WorkerScope {
  readonly location: Location;
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    claim(): Promise<void>;
    matchAll(
      options: { type: "window"; includeUncontrolled: boolean },
    ): Promise<readonly WindowLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  skipWaiting(): Promise<void>;
  addEventListener<K extends keyof WorkerEvents>(
    type: K,
    listener: (event: WorkerEvents[K]) => void,
  ): void;
}

const worker = self as unknown as WorkerScope;
const origin = worker.location.origin;
const shell = new Set(PLAZA_SHELL);
// The paths that are the page: the room, and a message's permalink (the
// server answers any /m/<one segment> with it).
const PAGE_PATH = /^\/(m\/[^/]+)?$/;
// How long the page waits for the network before an offline start from the
// cache: a connection that answers nothing is as good as none.
const NETWORK_WAIT_MS = 3_000;

worker.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(PLAZA_CACHE).then((cache) => cache.addAll(PLAZA_SHELL))
      // The new version takes over at once; the open pages keep running
      // their code and get the new shell on their next load.
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("plaza-") && name !== PLAZA_CACHE) {
        await caches.delete(name);
      }
    }
    await worker.clients.claim();
  })());
});

async function page(request: Request): Promise<Response> {
  const network = fetch(request);
  // Settled later than the race below, or never awaited: not an error.
  network.catch(() => {});
  try {
    const response = await Promise.race([
      network,
      new Promise<never>((_, reject) =>
        setTimeout(reject, NETWORK_WAIT_MS, new Error("slow network"))
      ),
    ]);
    if (response.ok) return response;
  } catch {
    // Offline, or too slow: the cached shell below.
  }
  const cached = await caches.match("/", { cacheName: PLAZA_CACHE });
  return cached ?? network;
}

async function asset(request: Request): Promise<Response> {
  return await caches.match(request, { cacheName: PLAZA_CACHE }) ??
    await fetch(request);
}

worker.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== origin) return;
  if (request.mode === "navigate" && PAGE_PATH.test(url.pathname)) {
    event.respondWith(page(request));
  } else if (url.pathname !== "/" && shell.has(url.pathname)) {
    event.respondWith(asset(request));
  }
  // Anything else (the stream, the API) is left to the network, uncached.
});

worker.addEventListener("push", (event) => {
  let payload: unknown = null;
  try {
    payload = event.data?.json() ?? null;
  } catch {
    // Not JSON: the generic notification.
  }
  const { title, options } = notificationFromPush(payload, origin, PLAZA_ICONS);
  event.waitUntil(worker.registration.showNotification(title, options));
});

worker.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    openFromNotification(worker.clients, event.notification.data, origin),
  );
});
