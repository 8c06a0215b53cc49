import { Fragment, h } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { chat } from "../chat_state.ts";
import { markdown } from "../markdown.ts";

/** Sends not yet confirmed, after the conversation: sending, or failed with retry and discard. */
export function OutboxList() {
  const items = chat.outbox.value;
  const list = useRef<HTMLOListElement>(null);
  // A new send is a clear sign the reader wants to see the end.
  useLayoutEffect(() => {
    list.current?.scrollIntoView({ block: "nearest" });
  }, [items.length]);
  return items.length
    ? (
      <ol class="log-list outbox" ref={list} aria-label="Unsent messages">
        {items.map(({ clientId, text, state, error }) => (
          <li
            key={clientId}
            class="msg own"
            data-testid="pending-message"
            data-state={state}
          >
            {/* As it will show once sent. */}
            <div class="msg-text">{markdown(text)}</div>
            <p class="pending-note">
              {state === "sending" ? <span>Sending…</span> : (
                <>
                  <span>Not sent. {error}</span>
                  <button
                    type="button"
                    data-testid="retry-send"
                    onClick={() => chat.retrySend(clientId)}
                  >
                    Retry
                  </button>
                  <button
                    type="button"
                    data-testid="discard-send"
                    onClick={() => chat.discardSend(clientId)}
                  >
                    Discard
                  </button>
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
    )
    : null;
}
