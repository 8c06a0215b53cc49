import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { charCount, chat, MAX_TEXT_LENGTH } from "../chat_state.ts";

// Show the remaining characters only near the limit, where it helps.
const COUNTER_FROM = 200;
// The server allows one typing signal per ~3 s per client; more would be 429s.
const TYPING_EVERY_MS = 3_000;
let typingSentAt = 0;

function announceTyping(author: string): void {
  if (Date.now() - typingSentAt < TYPING_EVERY_MS) return;
  typingSentAt = Date.now();
  // Only a hint for others: a lost or refused one does not matter.
  fetch("/typing", { method: "POST", body: new URLSearchParams({ author }) })
    .catch(() => {});
}

/** The message box: grows with its text, Enter sends, Shift+Enter adds a line. */
export function Composer({ author }: { author: string }) {
  const [draft, setDraft] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const left = MAX_TEXT_LENGTH - charCount(draft.trim());
  const canSend = draft.trim() !== "" && left >= 0;

  useEffect(() => {
    // Only with a mouse: on phones focusing would pop the keyboard unasked.
    if (matchMedia("(pointer: fine)").matches) input.current?.focus();
  }, []);

  useLayoutEffect(() => {
    // Fit the text; CSS caps the height (about six lines), then it scrolls.
    const el = input.current;
    if (!el) return;
    el.style.height = "";
    el.style.height = `${el.scrollHeight + 2}px`; // + the two borders
  }, [draft]);

  function send(): void {
    // The message shows at once as pending; the outbox keeps it until it lands.
    if (canSend && chat.sendMessage(draft)) setDraft("");
    input.current?.focus();
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea
        id="composer-input"
        ref={input}
        data-testid="composer-input"
        rows={1}
        value={draft}
        placeholder={`Message as ${author}`}
        enterkeyhint="send"
        aria-describedby={left <= COUNTER_FROM ? "char-counter" : undefined}
        aria-invalid={left < 0 || undefined}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setDraft(value);
          if (value.trim()) announceTyping(author);
        }}
        onKeyDown={(e) => {
          // isComposing: Enter confirms an IME candidate, it must not send.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button
        type="submit"
        class="button-primary"
        data-testid="send-button"
        disabled={!canSend}
        // Keep focus (and a phone's keyboard) in the textarea when tapped.
        onMouseDown={(e) => e.preventDefault()}
      >
        Send
      </button>
      {left <= COUNTER_FROM && (
        <p
          id="char-counter"
          class={left < 0 ? "counter counter-over" : "counter"}
          data-testid="char-counter"
        >
          {left < 0 ? `${-left} too many` : `${left} left`}
        </p>
      )}
    </form>
  );
}
