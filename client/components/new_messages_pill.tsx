import { h } from "preact";
import { chat } from "../chat_state.ts";

/** "N new messages ↓" while messages arrived out of view; onJump goes to them. */
export function NewMessagesPill({ onJump }: { onJump(): void }) {
  const n = chat.unread.value;
  return n
    ? (
      <button
        type="button"
        class="pill"
        data-testid="new-messages-pill"
        onClick={onJump}
      >
        {n} new message{n > 1 && "s"}
      </button>
    )
    : null;
}
