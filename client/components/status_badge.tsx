import { h } from "preact";
import { chat } from "../chat_state.ts";
import { now } from "../clock.ts";

/** Shows the live-stream status and the next reconnect; a status role, so screen readers announce it politely. */
export function StatusBadge() {
  const status = chat.status.value;
  const at = chat.retryAt.value;
  // Read only while counting down, so the clock re-renders the badge only then.
  const seconds = status === "reconnecting" && at
    ? Math.ceil((at - now.value) / 1000)
    : 0;
  return (
    <span
      class="badge"
      role="status"
      data-testid="status"
      data-status={status}
    >
      {/* One flex item, so the badge's gap does not split the words. */}
      <span>
        {/* Words, not just a coloured dot, so the state is clear without colour vision. */}
        {status[0].toUpperCase() + status.slice(1)}
        {/* The countdown changes every second: too chatty to announce. */}
        {seconds > 0 && <span aria-hidden>{` in ${seconds} s`}</span>}
        {status !== "live" && status !== "offline" && "…"}
      </span>
    </span>
  );
}
