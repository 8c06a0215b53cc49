/**
 * Showing one message on request, the one path for all who ask: its
 * permalink `/m/<id>` (opened, or a notification's click, client/pwa/pwa.ts),
 * a search result (client/search) and a reply's quote (client/extras). The
 * room around the message is fetched when the list does not hold it; then it
 * is scrolled to and highlighted.
 */
import type { Message } from "../../protocol/message.ts";
import type { ChatState } from "../chat_state.ts";
import { isMessage } from "../message_shape.ts";

/** Messages fetched on each side of a message opened away from the list. */
export const AROUND = 25;
/** How long a shown message stays highlighted. */
export const HIGHLIGHT_MS = 4_000;
// Frames to wait for the list to show an opened message before giving up.
const REVEAL_FRAMES = 30;

/** Said when the room has no such message: deleted, or the link names none. */
export const NOT_HERE =
  "That message is not here: it was deleted, or never was.";
/** Said when the server could not be asked. */
export const UNREACHABLE = "Could not reach the server; try again.";

/** A message's permalink, as a path. */
export const permalink = (id: number): string => `/m/${id}`;

/**
 * The message a URL points at: its permalink path (`/m/42`), or the
 * fragment older notifications carry (`#message-42`); null when it points at
 * none. A permalink path whose id is no id gives 0, which names no message.
 */
export function targetMessageId(
  url: { pathname: string; hash: string },
): number | null {
  const path = /^\/m\/([^/]*)$/.exec(url.pathname);
  if (path) return /^\d{1,15}$/.test(path[1]) ? Number(path[1]) : 0;
  const hash = /^#message-(\d{1,15})$/.exec(url.hash);
  return hash ? Number(hash[1]) : null;
}

/** A page of GET /messages?`query`, or the sentence to show instead. */
export async function getPage(
  query: string,
): Promise<{ messages: Message[]; hasMore: boolean } | string> {
  try {
    const res = await fetch(`/messages?${query}`);
    const body = await res.json();
    if (!res.ok) return body.error ?? "The search failed.";
    return {
      messages: body.messages.filter(isMessage),
      hasMore: body.hasMore === true,
    };
  } catch {
    return UNREACHABLE;
  }
}

/**
 * Scrolls the message `id` into view and highlights it; false when it is not
 * in the page (yet). The log is told it scrolled, so it stops following the
 * newest messages (see components/message_list.tsx).
 */
export function revealMessage(id: number, doc: Document = document): boolean {
  const el = doc.querySelector<HTMLElement>(
    `[data-testid="message"][data-id="${id}"]`,
  );
  if (!el) return false;
  el.scrollIntoView({ block: "center" });
  el.closest('[role="log"]')?.dispatchEvent(new Event("scroll"));
  // Focus goes there too, for screen readers and the keyboard.
  el.tabIndex = -1;
  el.focus({ preventScroll: true });
  el.classList.remove("flash");
  // Restarts the highlight's animation when the same message is shown again.
  void el.offsetWidth;
  el.classList.add("flash");
  setTimeout(() => el.classList.remove("flash"), HIGHLIGHT_MS);
  return true;
}

/**
 * Shows message `id`: when the list lacks it, the room around it (AROUND
 * on each side) takes the list's place, scrollback filling in either side;
 * then (after `found`, e.g. closing a modal panel that would keep focus) it
 * is revealed, and the address bar names its permalink: a reload shows it
 * again, and the address is the link to share. Resolves to null once
 * shown, else to the sentence saying why not (NOT_HERE, UNREACHABLE or the
 * server's error), the address bar then back at the room's own, /.
 */
export async function openMessage(
  chat: Pick<ChatState, "messages" | "showAround">,
  id: number,
  found = () => {},
): Promise<string | null> {
  const why = await show(chat, id, found);
  // Not on another page of Plaza's (the embed: its reload must stay itself).
  if (/^\/(m\/[^/]*)?$/.test(location.pathname)) {
    history.replaceState(null, "", why ? "/" : permalink(id));
  }
  return why;
}

async function show(
  chat: Pick<ChatState, "messages" | "showAround">,
  id: number,
  found: () => void,
): Promise<string | null> {
  if (!(id > 0)) return NOT_HERE;
  if (!chat.messages.value.some((m) => m.id === id)) {
    const [older, newer] = await Promise.all([
      getPage(`before=${id + 1}&limit=${AROUND}`),
      getPage(`after=${id}&limit=${AROUND}`),
    ]);
    if (typeof older === "string") return older;
    if (typeof newer === "string") return newer;
    if (!older.messages.some((m) => m.id === id)) return NOT_HERE;
    chat.showAround([...older.messages, ...newer.messages], older.hasMore);
  }
  found();
  // Once the list has rendered it (a muted author's message never is).
  for (let i = 0; i < REVEAL_FRAMES; i++) {
    if (revealMessage(id)) return null;
    await new Promise(requestAnimationFrame);
  }
  return NOT_HERE;
}
