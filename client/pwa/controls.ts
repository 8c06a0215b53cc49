/**
 * The installable app's controls, shown in the header: in its #tools slot
 * (a line of buttons that never wraps) the "Notify me" switch (on / off, or
 * why it is blocked or unavailable), the install button where the browser
 * offers one and the offer to reload into a new version; under it, in
 * #tool-notes, the iOS "Add to Home Screen" hint, why "Notify me" failed and
 * a line saying when the messages shown are the copy saved on this device. Written with `h` calls
 * rather than JSX: JSX needs `h` imported from Preact, which would bundle a
 * second copy into this chunk; this one renders with the main bundle's `h`,
 * lent through host.ts.
 */
import type { Signal } from "@preact/signals";
import type { ComponentChild, ComponentChildren } from "preact";
import type { Host } from "./host.ts";
import type { Note, NotifyState } from "./push.ts";

/** The browser's install offer (Chromium's beforeinstallprompt event). */
export interface InstallPrompt extends Event {
  prompt(): Promise<unknown>;
}

/** What the controls show; pwa.ts changes it. */
export interface ToolsModel {
  notify: Signal<NotifyState>;
  /** Why the last "Notify me" did not work, if it did not. */
  note: Signal<Note>;
  /** True while turning notifications on or off. */
  busy: Signal<boolean>;
  install: Signal<InstallPrompt | null>;
  iosHint: Signal<boolean>;
  /** A newer version of Plaza took over this page: offer a reload. */
  update: Signal<boolean>;
}

/** What the controls do when used. */
export interface ToolsActions {
  toggleNotify(): void;
  install(): void;
  dismissHint(): void;
}

// Feather-style line icons (24×24, stroked in the text colour).
const ICONS = {
  bell: "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0",
  bellOff:
    "M13.7 21a2 2 0 0 1-3.4 0M18.6 13A17.9 17.9 0 0 1 18 8M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14M18 8a6 6 0 0 0-9.3-5M1 1l22 22",
  install: "M12 3v12m-5-5 5 5 5-5M5 21h14",
  share: "M12 3v12M8 7l4-4 4 4M6 11H5v10h14V11h-1",
};

/** The header's buttons (for #tools) and notes (for #tool-notes) as components. */
export function createTools(
  { h, chat }: Host,
  model: ToolsModel,
  actions: ToolsActions,
): { Tools: () => ComponentChildren; Notes: () => ComponentChildren } {
  const icon = (d: string) =>
    h(
      "svg",
      { class: "icon", viewBox: "0 0 24 24", "aria-hidden": "true" },
      h("path", { d }),
    );

  function Tools() {
    const state = model.notify.value;
    const parts: ComponentChild[] = [];
    // Subscriptions carry the reader's name (for "@name" mentions): the
    // switch waits until there is one.
    const named = chat.name.value !== null;
    if (named && (state === "on" || state === "off")) {
      parts.push(h(
        "button",
        {
          type: "button",
          class: "button-quiet tool",
          role: "switch",
          "aria-checked": state === "on",
          // Not `disabled`: that would drop the keyboard focus.
          "aria-disabled": model.busy.value || undefined,
          "data-testid": "notify",
          "data-state": state,
          onClick: () => model.busy.value || actions.toggleNotify(),
        },
        icon(ICONS.bell),
        "Notify me",
        h("span", { class: "switch", "aria-hidden": "true" }, state),
      ));
    } else if (named && (state === "blocked" || state === "unavailable")) {
      parts.push(h(
        "span",
        {
          class: "tool tool-off",
          "data-testid": "notify",
          "data-state": state,
          title: state === "blocked"
            ? "Allow notifications for this site in the browser's settings to turn them on."
            : "This Plaza server does not send notifications.",
        },
        icon(ICONS.bellOff),
        `Notifications ${state}`,
      ));
    }
    if (model.install.value) {
      parts.push(h(
        "button",
        {
          type: "button",
          class: "button-quiet tool",
          "data-testid": "install",
          onClick: actions.install,
        },
        icon(ICONS.install),
        "Install app",
      ));
    }
    if (model.update.value) {
      parts.push(h(
        "button",
        {
          type: "button",
          class: "button-primary tool",
          "data-testid": "reload",
          onClick: () => location.reload(),
        },
        "New version: reload",
      ));
    }
    return parts.length ? parts : null;
  }

  function Notes() {
    const parts: ComponentChild[] = [];
    if (chat.saved.value) {
      parts.push(h(
        "p",
        { class: "tools-note", "data-testid": "saved-note" },
        "Showing the messages saved on this device.",
      ));
    }
    if (model.note.value) {
      parts.push(
        h("p", { class: "tools-note", role: "status" }, model.note.value),
      );
    }
    if (model.iosHint.value) {
      parts.push(h(
        "p",
        { class: "hint", "data-testid": "ios-hint" },
        h(
          "span",
          null,
          "To install Plaza and get notifications, tap Share ",
          icon(ICONS.share),
          " then \u201cAdd to Home Screen\u201d.",
        ),
        h("button", {
          type: "button",
          class: "hint-close",
          "aria-label": "Dismiss the install hint",
          onClick: actions.dismissHint,
        }, "\u00d7"),
      ));
    }
    return parts.length ? parts : null;
  }

  return { Tools, Notes };
}
