/**
 * This device's notification settings, next to "Notify me" while it is on:
 * every message, mentions and replies only, or nothing, and a mute for an
 * hour. Kept by the server on the push subscription
 * (PATCH /push/subscriptions), mirrored in localStorage so that a new
 * subscription of this device gets them again. Written with the host's `h`
 * (see controls.ts).
 */
import type { Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { Host } from "./host.ts";

/** localStorage key of the settings' copy: `{"mode", "mutedUntil"}` (epoch ms or null). */
export const SETTINGS_KEY = "plaza.notifySettings";
/** How long "Mute for an hour" mutes. */
export const MUTE_MS = 3_600_000;

/** What this device is notified of. */
export type NotifyMode = "all" | "mentions" | "none";

/** The settings as the client keeps them. */
export interface NotifySettings {
  mode: NotifyMode;
  /** Epoch ms; null: not muted. */
  mutedUntil: number | null;
}

const MODES: [NotifyMode, string][] = [
  ["all", "Every message"],
  ["mentions", "Mentions and replies"],
  ["none", "Nothing"],
];

/** The defaults: what a new subscription starts with on the server. */
export const DEFAULT_SETTINGS: NotifySettings = {
  mode: "all",
  mutedUntil: null,
};

/** Reads settings from JSON (stored or the server's answer, whose mutedUntil is ISO), or null when they do not fit. */
export function parseSettings(value: unknown): NotifySettings | null {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null) return null;
  const mode = MODES.find(([m]) => m === v.mode)?.[0];
  const until = typeof v.mutedUntil === "string"
    ? Date.parse(v.mutedUntil)
    : v.mutedUntil;
  if (!mode || !(until === null || Number.isFinite(until))) return null;
  return { mode, mutedUntil: until as number | null };
}

function stored(): NotifySettings {
  try {
    return parseSettings(JSON.parse(localStorage.getItem(SETTINGS_KEY)!)) ??
      DEFAULT_SETTINGS;
  } catch {
    return DEFAULT_SETTINGS;
  }
}

function store(settings: NotifySettings): void {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage blocked: the server still has them.
  }
}

/** What the settings need from the page. */
export interface SettingsEnv {
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** The subscription's endpoint while notifications are on. */
  endpoint(): string | null;
}

/** The settings' state and its parts: a toggle for #tools, the panel for #tool-notes, and sync for a new subscription. */
export interface SettingsControl {
  settings: Signal<NotifySettings>;
  /** Whether the panel is open. */
  open: Signal<boolean>;
  /** Sends settings changes (only those given); false, with a note, when the server did not take them. */
  change(change: Partial<NotifySettings>): Promise<boolean>;
  /** Gives a subscription this device just made the settings kept here (a new one starts with the defaults). */
  sync(): Promise<void>;
  Toggle(): ComponentChildren;
  Panel(): ComponentChildren;
}

/** Creates the settings control; `on` says whether notifications are on. */
export function createNotifySettings(
  { h, signal }: Host,
  env: SettingsEnv,
  on: () => boolean,
): SettingsControl {
  const settings = signal(stored());
  const open = signal(false);
  const busy = signal(false);
  const note = signal("");

  async function change(diff: Partial<NotifySettings>): Promise<boolean> {
    const endpoint = env.endpoint();
    if (!endpoint) return false;
    busy.value = true;
    note.value = "";
    // Shown at once (a radio button the reader picked stays picked), put
    // back if the server does not take it.
    const before = settings.value;
    settings.value = { ...before, ...diff };
    try {
      const body: Record<string, unknown> = { endpoint, mode: diff.mode };
      if (diff.mutedUntil !== undefined) {
        body.mutedUntil = diff.mutedUntil && new Date(diff.mutedUntil)
          .toISOString();
      }
      const res = await env.fetch("/push/subscriptions", {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const got = res.ok ? parseSettings(await res.json()) : null;
      if (!got) throw res.status;
      settings.value = got;
      store(got);
      return true;
    } catch {
      settings.value = before;
      note.value = "Could not change the settings; try again.";
      return false;
    } finally {
      busy.value = false;
    }
  }

  function Toggle() {
    if (!on()) return null;
    // An icon only: the header's line of buttons is full on a phone.
    return h(
      "button",
      {
        type: "button",
        class: "button-quiet tool",
        "aria-label": "Notification settings",
        title: "Notification settings",
        "aria-expanded": open.value,
        "aria-controls": "notify-settings",
        "data-testid": "notify-settings-toggle",
        onClick: () => (open.value = !open.value),
      },
      h(
        "svg",
        { class: "icon", viewBox: "0 0 24 24", "aria-hidden": "true" },
        // Feather's "sliders", as controls.ts draws its icons.
        h("path", {
          d: "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
        }),
      ),
    );
  }

  function Panel() {
    if (!on() || !open.value) return null;
    const { mode, mutedUntil } = settings.value;
    const muted = mutedUntil !== null && mutedUntil > Date.now();
    const until = muted &&
      new Date(mutedUntil).toLocaleTimeString([], {
        hour: "2-digit",
        minute: "2-digit",
      });
    // Not `disabled` while a change is on its way: focus would be lost.
    const disabled = busy.value || undefined;
    return h(
      "fieldset",
      {
        id: "notify-settings",
        class: "notify-settings",
        "data-testid": "notify-settings",
      },
      h("legend", null, "Notify this device of"),
      MODES.map(([value, label]) =>
        h(
          "label",
          { key: value },
          h("input", {
            type: "radio",
            name: "notify-mode",
            value,
            checked: mode === value,
            "aria-disabled": disabled,
            onChange: () => busy.value || void change({ mode: value }),
          }),
          ` ${label}`,
        )
      ),
      h(
        "p",
        { class: "notify-mute" },
        muted &&
          h("span", { "data-testid": "muted-until" }, `Muted until ${until}. `),
        h("button", {
          type: "button",
          class: "button-quiet",
          "aria-disabled": disabled,
          "data-testid": "mute",
          onClick: () =>
            busy.value ||
            void change({ mutedUntil: muted ? null : Date.now() + MUTE_MS }),
        }, muted ? "Unmute" : "Mute for an hour"),
      ),
      note.value && h("p", { class: "tools-note", role: "status" }, note.value),
    );
  }

  return {
    settings,
    open,
    change,
    async sync() {
      const { mode, mutedUntil } = settings.value;
      const mute = mutedUntil !== null && mutedUntil > Date.now();
      if (mode !== "all" || mute) {
        await change({ mode, ...(mute ? { mutedUntil } : {}) });
      }
    },
    Toggle,
    Panel,
  };
}
