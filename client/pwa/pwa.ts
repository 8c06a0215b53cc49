/**
 * Plaza as an installed app, loaded by main.tsx after the chat has started
 * (its own small chunk, so the main bundle keeps its budget): the service
 * worker (client/sw/sw.ts), the copy of the latest messages for offline
 * starts, the install button and iOS hint, "Notify me" with its visibility
 * reports and its settings (notify_settings.ts), opening at a message (its
 * permalink, a notification, a reply's quote), and fitting the page
 * above a phone's keyboard. Also what the chat does without at first paint:
 * typing notices (typing.ts), the mark after a look-alike name
 * (name_mark.ts) and the unread count in a hidden tab's title.
 */
import type { ComponentChild } from "preact";
import type { Message } from "../../protocol/message.ts";
import { OPEN_MESSAGE } from "../sw/notifications.ts";
import {
  createTools,
  type InstallPrompt,
  type ToolsModel,
} from "./controls.ts";
import type { Host, PwaModule } from "./host.ts";
import { createNameMark } from "./name_mark.ts";
import { sendTypingNotices, showTyping } from "./typing.ts";
import { openMessage, permalink, targetMessageId } from "./message_target.ts";
import {
  createPushControl,
  type PushControl,
  reportVisibility,
} from "./push.ts";
import { loadSavedMessages, saveMessages } from "./saved_messages.ts";
import { createNotifySettings } from "./notify_settings.ts";
import { adoptStyles } from "../lazy_styles.ts";
import css from "./pwa.css" with { type: "text" };

/** Changes to the list are saved at most this often. */
export const SAVE_DELAY_MS = 1_000;

/** localStorage key set once the reader dismissed the iOS hint. */
export const IOS_HINT_KEY = "plaza.iosHintDismissed";

function storageFlag(key: string, set?: boolean): boolean {
  try {
    if (set) localStorage.setItem(key, "1");
    return localStorage.getItem(key) === "1";
  } catch {
    return !!set;
  }
}

// iOS (iPadOS says it is a Mac, but has touch) outside a Home Screen app:
// there push needs Plaza installed first, and only Share offers that.
function wantsIosHint(): boolean {
  const ua = navigator.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) ||
    (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  const standalone = matchMedia("(display-mode: standalone)").matches ||
    (navigator as { standalone?: boolean }).standalone === true;
  return ios && !standalone && !storageFlag(IOS_HINT_KEY);
}

// Keeps the latest messages for the next offline start: at most once a
// second while they change, and at once when the page is hidden (it may
// never come back).
function keepMessages({ chat, effect }: Host): void {
  void loadSavedMessages().then(chat.restoreMessages);
  let toSave: readonly Message[] | null = null;
  const flush = () => {
    if (toSave) void saveMessages(toSave);
    toSave = null;
  };
  effect(() => {
    const list = chat.messages.value;
    // The saved copy is saved already; far up in scrollback (hasNewer) the
    // list is not the latest.
    if (chat.saved.value || chat.hasNewer.value || !list.length) return;
    if (!toSave) setTimeout(flush, SAVE_DELAY_MS);
    toSave = list;
  });
  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) flush();
  });
}

// "(3) Plaza": a hidden tab counts what came in, in its title. Not needed
// for the first paint, so here rather than in the main bundle.
function countUnreadInTitle({ chat, effect }: Host): void {
  const show = () => {
    const n = chat.unread.value;
    document.title = document.hidden && n ? `(${n}) Plaza` : "Plaza";
  };
  effect(show);
  document.addEventListener("visibilitychange", show);
}

// A phone's on-screen keyboard must never cover the composer. Chromium
// shrinks the layout for it (interactive-widget=resizes-content in
// index.html); Safari only shrinks the visual viewport, so the page takes
// that height (styles.css reads --viewport-height). Not while pinch-zoomed.
function fitVisualViewport(): void {
  const vv = globalThis.visualViewport;
  if (!vv) return;
  const fit = () =>
    document.documentElement.style.setProperty(
      "--viewport-height",
      vv.scale > 1.01 ? "" : `${vv.height}px`,
    );
  vv.addEventListener("resize", fit);
  fit();
}

// Opens the message the page's address points at (a permalink, or a
// notification's older #message-<id>), that a notification click names (the
// returned function) or a reply's quote (a click: the original), once the
// server's messages are in: not the saved copy they replace, and a stretch
// around the message put in before the history arrives would be joined to
// it with a gap between. Why it could not be shown goes in the header's
// notes, quietly.
function followTargets(
  { chat, effect, signal, h }: Host,
): { open: (url: string) => void; Note: () => ComponentChild } {
  const wanted = signal(targetMessageId(location));
  const note = signal("");
  effect(() => {
    const id = wanted.value;
    if (id === null || chat.saved.value || !chat.messages.value.length) return;
    // Outside this effect: opening changes the signals it reads.
    setTimeout(async () => {
      if (wanted.peek() !== id) return;
      wanted.value = null;
      note.value = await openMessage(chat, id) ?? "";
    });
  });
  const open = (url: string) => {
    wanted.value = null;
    wanted.value = targetMessageId(new URL(url, location.href));
  };
  addEventListener("hashchange", () => open(location.href));
  addEventListener("click", (e) => {
    const q = (e.target as Element).closest?.(".quote[data-to]");
    if (q instanceof HTMLElement) open(permalink(+q.dataset.to!));
  });
  return {
    open,
    Note: () =>
      note.value &&
      h("p", {
        class: "tools-note",
        role: "status",
        "data-testid": "target-note",
      }, note.value),
  };
}

/** URL of the pictures chunk (client/attach), filled in by tools/build_client.ts. */
declare const PLAZA_ATTACH_CHUNK: string;

/** Starts everything above; main.tsx calls it once. */
export function start(host: Host): void {
  adoptStyles(css);
  // Pictures (picking, uploading, the lightbox) come after this chunk, which
  // costs the main bundle nothing.
  import(PLAZA_ATTACH_CHUNK).then((m: PwaModule) => m.start(host));
  const { chat, effect, h, render, signal } = host;
  const model: ToolsModel = {
    notify: signal("unsupported"),
    note: signal(undefined),
    busy: signal(false),
    install: signal(null),
    iosHint: signal(wantsIosHint()),
    update: signal(false),
  };

  // The look-alike mark is a quiet hint, not needed for the first paint:
  // its script tables load here rather than weigh on the main bundle.
  chat.setNameMark(createNameMark(host));
  countUnreadInTitle(host);
  sendTypingNotices(host);
  showTyping(host);
  keepMessages(host);
  fitVisualViewport();
  const target = followTargets(host);

  addEventListener("beforeinstallprompt", (event) => {
    // Offered by our button instead of the browser's own banner.
    event.preventDefault();
    model.install.value = event as InstallPrompt;
  });
  addEventListener("appinstalled", () => (model.install.value = null));

  // Framed by another site (/embed), Plaza is no app to install or be
  // notified by: no worker, no push.
  const sw = document.documentElement.classList.contains("embed")
    ? undefined
    : navigator.serviceWorker as ServiceWorkerContainer | undefined;
  let push: PushControl | undefined;
  const settings = createNotifySettings(
    host,
    {
      fetch: (url, init) => fetch(url, init),
      endpoint: () => push?.endpoint() ?? null,
    },
    () => model.notify.value === "on" && chat.name.value !== null,
  );
  if (sw) {
    let controlled = !!sw.controller;
    sw.register("/sw.js").catch(() => {});
    sw.addEventListener("message", ({ data }) => {
      if (data?.type === OPEN_MESSAGE && typeof data.url === "string") {
        target.open(data.url);
      }
    });
    // A new version's worker took over (not the first one, which only
    // starts caching): if this page's script is not in the new cache, the
    // page is out of date; a page loaded fresh from the server already is
    // the new version. The new cache is the newest (keys() lists caches in
    // the order they were made); the old one may not be deleted yet.
    sw.addEventListener("controllerchange", async () => {
      const replaced = controlled;
      controlled = true;
      const script = document.querySelector<HTMLScriptElement>(
        'script[type="module"]',
      )?.src;
      const cacheName = (await caches.keys())
        .filter((name) => name.startsWith("plaza-")).at(-1);
      if (
        replaced && script && cacheName &&
        !(await caches.match(script, { cacheName }))
      ) {
        model.update.value = true;
      }
    });

    if ("PushManager" in globalThis && "Notification" in globalThis) {
      let report = () => {};
      push = createPushControl(
        {
          fetch: (url, init) => fetch(url, init),
          pushManager: async () => (await sw.ready).pushManager,
          permission: () => Notification.permission,
          requestPermission: () => Notification.requestPermission(),
        },
        () => chat.name.value,
        (state, note) => {
          model.notify.value = state;
          model.note.value = note;
          if (state === "on") {
            report();
            // A new subscription starts with the defaults on the server.
            void settings.sync();
          }
        },
      );
      report = reportVisibility(
        { fetch: (url, init) => fetch(url, init) },
        push.endpoint,
        crypto.randomUUID(),
        () => document.hidden,
        () => void push?.resend(),
      );
      let name = chat.name.value;
      effect(() => {
        if (chat.name.value !== name) {
          name = chat.name.value;
          void push?.resend();
        }
      });
      void push.init();
    }
  }

  const { Tools, Notes } = createTools(host, model, {
    async toggleNotify() {
      model.busy.value = true;
      try {
        await (model.notify.value === "on" ? push?.turnOff() : push?.turnOn());
      } finally {
        model.busy.value = false;
      }
    },
    async install() {
      const offer = model.install.value;
      model.install.value = null;
      await offer?.prompt();
    },
    dismissHint() {
      storageFlag(IOS_HINT_KEY, true);
      model.iosHint.value = false;
    },
  });
  // The notification settings go right after the controls they belong to.
  render(
    h(() => [h(Tools, null), h(settings.Toggle, null)], null),
    document.getElementById("tools")!,
  );
  render(
    h(
      () => [h(target.Note, null), h(Notes, null), h(settings.Panel, null)],
      null,
    ),
    document.getElementById("tool-notes")!,
  );
}
