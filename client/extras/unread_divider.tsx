/**
 * The "N new messages" divider above the first message after the one last
 * read on this device (chat.lastRead, set by chat.openUnread): rendered
 * through the messageExtras slot before each message, so the main bundle
 * carries none of it.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import type { ComponentChild } from "preact";
import type { Message } from "../../protocol/message.ts";
import type { ChatState } from "../chat_state.ts";

/** Above this many the divider says "99+": an exact large number tells the reader nothing more. */
export const MAX_COUNTED = 99;

/** The divider's words for `count` new messages; `more` when others beyond the list exist too. */
export function unreadLabel(count: number, more: boolean): string {
  const n = count > MAX_COUNTED || (more && count >= MAX_COUNTED)
    ? `${MAX_COUNTED}+`
    : `${count}${more ? "+" : ""}`;
  return `${n} new message${count == 1 && !more ? "" : "s"}`;
}

/** Where the divider goes in `list` (the first id after `lastRead`) and how many follow it, or null for none. */
export function dividerPlace(
  list: readonly Message[],
  lastRead: number,
): [id: number, count: number] | null {
  if (!lastRead) return null;
  const first = list.findIndex((m) => m.id > lastRead);
  return first < 0 ? null : [list[first].id, list.length - first];
}

/** A function that gives the divider before message `m`, or nothing; one search per list, not per message. */
export function createUnreadDivider(
  chat: ChatState,
): (m: Message) => ComponentChild {
  let seen: [readonly Message[], number] | null = null;
  let place: ReturnType<typeof dividerPlace> = null;
  return (m) => {
    const list = chat.messages.value;
    const last = chat.lastRead.value;
    if (seen?.[0] !== list || seen[1] !== last) {
      seen = [list, last];
      place = dividerPlace(list, last);
    }
    if (place?.[0] !== m.id) return null;
    const label = unreadLabel(place[1], chat.hasNewer.value);
    // A list's children are list items: the separator goes inside one.
    return (
      <li key="unread" class="day unread" data-testid="unread-divider">
        <span role="separator" aria-label={label}>{label}</span>
      </li>
    );
  };
}
