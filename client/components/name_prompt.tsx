import { h } from "preact";
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { chat } from "../chat_state.ts";
import { useFocusOnMount } from "./focus.ts";

/** Props of NamePrompt. */
export interface NamePromptProps {
  /** Current name when changing it (then the reader may cancel); null on the first visit. */
  current: string | null;
  /** Called after a valid name was saved, or the change was cancelled. */
  onDone(): void;
}

/** Asks for (or changes) the reader's name; the chat needs one to post. */
export function NamePrompt({ current, onDone }: NamePromptProps) {
  const input = useRef<HTMLInputElement>(null);
  const error = useSignal<string>();
  const first = current === null;
  // Changing a name was asked for, so focus even on a phone.
  useFocusOnMount(input, !first);

  return (
    <form
      class="name-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        error.value = chat.setName(input.current!.value);
        if (error.value) input.current!.focus();
        else onDone();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !first) onDone();
      }}
    >
      <label for="name-input" class="name-label">
        {first ? "Choose a name to join the chat" : "Change your name"}
      </label>
      <div class="name-row">
        <input
          id="name-input"
          ref={input}
          data-testid="name-input"
          defaultValue={current ?? ""}
          autocomplete="nickname"
          enterkeyhint="go"
          spellcheck={false}
          placeholder="Your name"
          aria-invalid={!!error.value || undefined}
          aria-describedby={error.value && "name-error"}
          onInput={() => (error.value = undefined)}
        />
        <button type="submit" class="button-primary" data-testid="name-submit">
          {first ? "Join" : "Save"}
        </button>
        {!first && (
          <button type="button" class="button-quiet" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      {error.value && (
        <p class="form-error" id="name-error" role="alert">{error.value}</p>
      )}
    </form>
  );
}
