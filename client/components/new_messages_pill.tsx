import { useEffect } from "preact/hooks";
import { chat } from "../chat_state.ts";

const TITLE = "Plaza";

/** Puts the unread count in the tab title while the tab is hidden: "(3) Plaza". */
export function showUnreadInTitle(): void {
  const n = chat.unread.value;
  document.title = document.hidden && n ? `(${n}) ${TITLE}` : TITLE;
}

/** "N new messages ↓" while messages arrived out of view; onJump goes to them. */
export function NewMessagesPill({ onJump }: { onJump(): void }) {
  const n = chat.unread.value;
  useEffect(showUnreadInTitle, [n]);
  return n
    ? (
      <button
        type="button"
        class="pill"
        data-testid="new-messages-pill"
        onClick={onJump}
      >
        {n} new message{n > 1 && "s"} <span aria-hidden="true">↓</span>
      </button>
    )
    : null;
}
