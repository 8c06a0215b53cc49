import { h } from "preact";

/**
 * "ada is typing…": a polite live region that stays in the page, so screen
 * readers hear each change. Empty here: client/pwa/typing.ts fills it once
 * the lazy chunk is in (typing notices come and go well after first paint).
 */
export function TypingIndicator() {
  return (
    <p
      id="typing"
      class="typing"
      aria-live="polite"
      data-testid="typing-indicator"
    />
  );
}
