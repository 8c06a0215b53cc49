import { h } from "preact";
import type { Host } from "../pwa/host.ts";

/**
 * Sends not yet confirmed, drawn after the conversation into `slot` (an
 * empty element message_list.tsx keeps there): sending, or failed with
 * retry and discard. It lives in this chunk, loaded right after the first
 * paint, because the main bundle has no bytes to spare; a send made before
 * the chunk has loaded still waits in the outbox and shows up here.
 */
export function startOutboxList(host: Host, slot: Element): void {
  const { chat, markdown, render, effect } = host;
  let shown = 0;
  effect(() => {
    const items = chat.outbox.value;
    render(
      items.length
        ? (
          <ol class="log-list outbox" aria-label="Unsent messages">
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
                  {state === "sending" ? <span>Sending…</span> : [
                    <span key="why">Not sent. {error}</span>,
                    <button
                      key="retry"
                      type="button"
                      data-testid="retry-send"
                      onClick={() => chat.retrySend(clientId)}
                    >
                      Retry
                    </button>,
                    <button
                      key="discard"
                      type="button"
                      data-testid="discard-send"
                      onClick={() => chat.discardSend(clientId)}
                    >
                      Discard
                    </button>,
                  ]}
                </p>
              </li>
            ))}
          </ol>
        )
        : null,
      slot,
    );
    // A new send is a clear sign the reader wants to see the end.
    if (items.length !== shown) {
      slot.firstElementChild?.scrollIntoView({ block: "nearest" });
    }
    shown = items.length;
  });
}
