import { useEffect, useRef, useState } from "preact/hooks";
import { charCount, chat, MAX_TEXT_LENGTH } from "../chat_state.ts";

// Show the character counter only near the limit, where it helps.
const COUNTER_FROM = MAX_TEXT_LENGTH - 200;

/** The message box: Enter sends, Shift+Enter adds a line; errors stay visible. */
export function Composer({ author }: { author: string }) {
  const [draft, setDraft] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const sending = chat.sending.value;
  const error = chat.sendError.value;
  const length = charCount(draft.trim());
  const tooLong = length > MAX_TEXT_LENGTH;
  const canSend = length > 0 && !tooLong && !sending;

  useEffect(() => {
    // Only with a mouse: on phones focusing would pop the keyboard unasked.
    if (matchMedia("(pointer: fine)").matches) input.current?.focus();
  }, []);

  async function send(): Promise<void> {
    if (!canSend) return;
    const sent = draft;
    const ok = await chat.sendMessage(sent);
    // Keep anything typed while the request was in flight.
    if (ok) setDraft((current) => (current === sent ? "" : current));
    input.current?.focus();
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {error !== null && (
        <p
          class="form-error"
          id="send-error"
          role="alert"
          data-testid="send-error"
        >
          {error}
        </p>
      )}
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea
        id="composer-input"
        ref={input}
        data-testid="composer-input"
        rows={1}
        value={draft}
        placeholder={`Message as ${author}`}
        enterkeyhint="send"
        aria-describedby={error !== null ? "send-error" : undefined}
        aria-invalid={tooLong || undefined}
        onInput={(e) => {
          setDraft(e.currentTarget.value);
          if (error !== null) chat.clearSendError();
        }}
        onKeyDown={(e) => {
          // isComposing: Enter confirms an IME candidate, it must not send.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void send();
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
        {sending ? "Sending…" : "Send"}
      </button>
      {length >= COUNTER_FROM && (
        <p class={tooLong ? "counter counter-over" : "counter"}>
          {length} / {MAX_TEXT_LENGTH}
        </p>
      )}
    </form>
  );
}
