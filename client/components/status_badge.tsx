import type { ConnectionStatus } from "../event_stream.ts";

// Words, not just a coloured dot, so the state is clear without colour vision.
const LABELS: Record<ConnectionStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

/** Shows the live-stream status; announced politely to screen readers. */
export function StatusBadge({ status }: { status: ConnectionStatus }) {
  return (
    <span
      class={`badge badge-${status}`}
      role="status"
      aria-live="polite"
      data-testid="status"
      data-status={status}
    >
      <span class="badge-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
