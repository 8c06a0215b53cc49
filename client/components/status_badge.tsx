import { useEffect, useState } from "preact/hooks";
import { chat } from "../chat_state.ts";

// Words, not just a coloured dot, so the state is clear without colour vision.
const LABELS = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

/** Shows the live-stream status and the next reconnect; announced politely to screen readers. */
export function StatusBadge() {
  const status = chat.offline.value ? "offline" : chat.status.value;
  const at = chat.retryAt.value;
  const [, tick] = useState(0);
  useEffect(() => {
    if (!at) return;
    // tick(Date.now) stores a new time each second, so the countdown moves.
    const timer = setInterval(tick, 1000, Date.now);
    return () => clearInterval(timer);
  }, [at]);
  const seconds = status === "reconnecting" && at
    ? Math.ceil((at - Date.now()) / 1000)
    : 0;
  return (
    <span
      class={`badge badge-${status}`}
      role="status"
      aria-live="polite"
      data-testid="status"
      data-status={status}
    >
      <span class="badge-dot" aria-hidden="true" />
      {/* One flex item, so the badge's gap does not split the words. */}
      <span>
        {LABELS[status]}
        {/* The countdown changes every second: too chatty to announce. */}
        {seconds > 0 && <span aria-hidden="true">{` in ${seconds} s`}</span>}
        {status !== "live" && status !== "offline" && "…"}
      </span>
    </span>
  );
}
