/**
 * Showing one message on request: a notification opens Plaza at
 * `/#message-<id>`, or tells an open window so (client/sw/notifications.ts).
 * The message is scrolled to and highlighted once it is in the list.
 */

/** The message id a URL fragment names ("#message-42"), or null. */
export function targetMessageId(hash: string): number | null {
  const m = /^#message-(\d{1,15})$/.exec(hash);
  return m ? Number(m[1]) : null;
}

/** How long a shown message stays highlighted. */
export const HIGHLIGHT_MS = 4_000;

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
