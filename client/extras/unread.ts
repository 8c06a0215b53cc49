/**
 * "New since you left", on this device: the id of the newest message read
 * (shown at the end of a visible tab with nothing unread) is kept in
 * localStorage; the next visit opens at the message after it, under the
 * divider (chat.openUnread, client/extras/unread_divider.tsx). Also the
 * installed app's badge: how many of the messages a hidden tab counts as
 * unread mention the reader, where the Badging API exists.
 */
import type { Message } from "../../protocol/message.ts";
import { mentionPattern } from "../../protocol/mention.ts";
import type { Host } from "../pwa/host.ts";

/** Within this many pixels of the log's end counts as there (as in components/message_list.tsx). */
export const AT_END_PX = 48;

/** localStorage key of the newest message id read on this device. */
export const LAST_READ_KEY = "plaza.lastRead";

/** The part of Storage used here (tests pass a Map-backed fake). */
export interface ReadStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The stored last read id, or 0 when there is none (or it is unreadable). */
export function readLastRead(storage: ReadStorage | null): number {
  try {
    const id = Number(storage?.getItem(LAST_READ_KEY));
    return Number.isSafeInteger(id) && id > 0 ? id : 0;
  } catch {
    return 0;
  }
}

/** Stores `id` as read, unless a later one is stored already (another tab read further). */
export function storeLastRead(storage: ReadStorage | null, id: number): void {
  try {
    if (id > readLastRead(storage)) {
      storage?.setItem(LAST_READ_KEY, String(id));
    }
  } catch {
    // Storage blocked or full: the next visit opens at the end.
  }
}

/** How many of the last `unread` messages in `list` mention `name`, the reader's own left out. */
export function unreadMentions(
  list: readonly Message[],
  unread: number,
  name: string | null,
  isOwn: (m: Message) => boolean,
): number {
  if (!name || unread <= 0) return 0;
  const pattern = mentionPattern(name);
  return list.slice(-unread)
    .filter((m) => !isOwn(m) && pattern.test(m.text)).length;
}

/** The Badging API, where the browser has it. */
interface Badging {
  setAppBadge?(count?: number): Promise<void>;
  clearAppBadge?(): Promise<void>;
}

function storage(): ReadStorage | null {
  try {
    return globalThis.localStorage;
  } catch {
    // Accessing localStorage itself throws when the browser blocks storage.
    return null;
  }
}

/**
 * Opens the room at the first unread message once the server's messages
 * are in, then keeps the last read id, and the app badge, up to date.
 */
export function keepUnread({ chat, effect }: Host): void {
  const store = storage();
  // Read before anything is stored: this visit may mark them read at once.
  const last = readLastRead(store);
  let opened = false;
  const open = async () => {
    // Nothing read here before: the room opens at its end, as ever.
    if (last) await chat.openUnread(last);
    // After Preact has rendered the page that starts there.
    setTimeout(() => {
      document.querySelector('[data-testid="unread-divider"]')
        ?.scrollIntoView({ block: "start" });
      opened = true;
      markRead();
    });
  };
  // Everything shown was seen: the end of the room is in the list and in
  // view of a visible tab, with nothing counted unread.
  const markRead = () => {
    const list = chat.messages.peek();
    const log = document.querySelector<HTMLElement>('[role="log"]');
    if (
      opened && log && list.length && !document.hidden &&
      !chat.unread.peek() && !chat.hasNewer.peek() &&
      log.scrollHeight - log.scrollTop - log.clientHeight <= AT_END_PX
    ) storeLastRead(store, list.at(-1)!.id);
  };
  let asked = false;
  effect(() => {
    const list = chat.messages.value;
    // The server's messages, all of them: presence follows the history.
    if (chat.saved.value || !list.length || chat.online.value === null) return;
    // Also when a message is counted unread (and the list stays the same).
    chat.unread.value;
    if (asked) return markRead();
    asked = true;
    // A tab that takes its history from another gets it in one go, one
    // message at a time: after it, not at its first.
    setTimeout(open);
  });
  // The log's own scrolling (scroll events do not bubble: capture).
  document.addEventListener("scroll", markRead, true);
  document.addEventListener("visibilitychange", markRead);
  const badging = navigator as Badging;
  if (!badging.setAppBadge) return;
  const badge = () => {
    // Counted whether hidden or not: the effect follows the signals it read.
    const mentions = unreadMentions(
      chat.messages.value,
      chat.unread.value,
      chat.name.value,
      chat.isOwn,
    );
    const n = document.hidden ? mentions : 0;
    void (n ? badging.setAppBadge!(n) : badging.clearAppBadge?.())
      ?.catch(() => {});
  };
  effect(badge);
  document.addEventListener("visibilitychange", badge);
}
