import { h } from "preact";
import { chat } from "../chat_state.ts";

/** "ada is typing…": a polite live region that stays in the page, so screen readers hear each change. */
export function TypingIndicator() {
  const names = chat.typing.value;
  return (
    <p class="typing" aria-live="polite" data-testid="typing-indicator">
      {names.length > 0 &&
        `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…`}
    </p>
  );
}
