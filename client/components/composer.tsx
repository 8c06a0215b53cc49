import { h } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { MAX_TEXT_LENGTH } from "../../protocol/limits.ts";
import { charCount, chat } from "../chat_state.ts";
import { useFocusOnMount } from "./focus.ts";

// Show the remaining characters only near the limit, where it helps.
const COUNTER_FROM = 200;

/** The message box: grows with its text, Enter sends, Shift+Enter adds a line. */
export function Composer({ author }: { author: string }) {
  const draft = useSignal("");
  const input = useRef<HTMLTextAreaElement>(null);
  const left = MAX_TEXT_LENGTH - charCount(draft.value.trim());
  const counted = left <= COUNTER_FROM;
  useFocusOnMount(input);
  const slow = chat.slowMode.value;
  // Whole seconds until the reader may send again under slow mode.
  const tick = useSignal(0);
  const wait = Math.ceil((chat.sendAt.value - Date.now()) / 1e3);
  useEffect(() => {
    if (wait > 0) {
      const t = setTimeout(() => tick.value++, 1e3);
      return () => clearTimeout(t);
    }
  }, [wait, tick.value]);

  useLayoutEffect(() => {
    // Fit the text; CSS caps the height (about six lines), then it scrolls.
    const el = input.current!;
    el.style.height = "";
    el.style.height = `${el.scrollHeight + 2}px`; // + the two borders
  }, [draft.value]);

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        // The message shows at once as pending; the outbox keeps it until it lands.
        if (chat.sendMessage(draft.value)) draft.value = "";
        input.current!.focus();
      }}
    >
      <textarea
        ref={input}
        aria-label="Message"
        data-testid="composer-input"
        rows={1}
        value={draft.value}
        // FSI…PDI: a name's bidi controls cannot reorder "Message as".
        placeholder={`Message as \u2068${author}\u2069`}
        enterkeyhint="send"
        aria-describedby={counted ? "char-counter" : undefined}
        aria-invalid={left < 0 || undefined}
        // Typing notices for the others go from client/pwa/typing.ts.
        onInput={(e) => (draft.value = e.currentTarget.value)}
        onKeyDown={(e) => {
          // isComposing: Enter confirms an IME candidate, it must not send.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            e.currentTarget.form!.requestSubmit();
          }
        }}
      />
      <button
        type="submit"
        class="button-primary"
        data-testid="send-button"
        disabled={!(draft.value.trim() || chat.images.value[0]) || left < 0 ||
          wait > 0}
        // Keep focus (and a phone's keyboard) in the textarea when tapped.
        onMouseDown={(e) => e.preventDefault()}
      >
        Send
      </button>
      {slow && (
        <p class="slow" data-testid="slow-mode">
          Slow mode: one message every {slow.seconds} s
          {wait > 0 && ` · wait ${wait} s`}
        </p>
      )}
      {counted && (
        <p
          id="char-counter"
          class="counter"
          data-testid="char-counter"
        >
          {left < 0 ? `${-left} too many` : `${left} left`}
        </p>
      )}
    </form>
  );
}
