import { useEffect, useRef, useState } from "preact/hooks";
import { chat, checkName } from "../chat_state.ts";

/** Props of NamePrompt. */
export interface NamePromptProps {
  /** Current name when changing it; null on the first visit. */
  current: string | null;
  /** Called after a valid name was saved. */
  onDone(): void;
  /** Called when the reader keeps their current name; absent on first visit. */
  onCancel?: () => void;
}

/** Asks for (or changes) the reader's name; the chat needs one to post. */
export function NamePrompt({ current, onDone, onCancel }: NamePromptProps) {
  const [value, setValue] = useState(current ?? "");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // Changing a name was asked for, so focus; a first visit on a phone
    // should show the conversation before popping a keyboard.
    if (current !== null || matchMedia("(pointer: fine)").matches) {
      input.current?.focus();
      input.current?.select();
    }
  }, []);

  return (
    <form
      class="name-prompt"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const checked = checkName(value);
        if (!checked.ok) {
          setError(checked.error);
          input.current?.focus();
          return;
        }
        chat.setName(checked.value);
        onDone();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape" && onCancel) onCancel();
      }}
    >
      <label for="name-input" class="name-label">
        {current === null
          ? "Choose a name to join the chat"
          : "Change your name"}
      </label>
      <div class="name-row">
        <input
          id="name-input"
          ref={input}
          data-testid="name-input"
          type="text"
          value={value}
          autocomplete="nickname"
          enterkeyhint="go"
          spellcheck={false}
          placeholder="Your name"
          aria-invalid={error !== null || undefined}
          aria-describedby={error !== null ? "name-error" : undefined}
          onInput={(e) => {
            setValue(e.currentTarget.value);
            setError(null);
          }}
        />
        <button type="submit" class="button-primary" data-testid="name-submit">
          {current === null ? "Join" : "Save"}
        </button>
        {onCancel && (
          <button type="button" class="button-quiet" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      {error !== null && (
        <p class="form-error" id="name-error" role="alert">{error}</p>
      )}
    </form>
  );
}
