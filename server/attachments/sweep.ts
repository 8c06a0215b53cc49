import type { AttachmentStore } from "../store/attachment_store.ts";

/** How often each instance looks for unused uploads; the store lets one instance at a time do it. */
export const SWEEP_EVERY_MS = 5 * 60_000;

/** Removes uploads no message took within `maxAgeMs`, every `everyMs`, until closed. */
export function startUnusedSweep(
  store: AttachmentStore,
  maxAgeMs: number,
  onError: (message: string, error: unknown) => void,
  everyMs = SWEEP_EVERY_MS,
): { close(): void } {
  const timer = setInterval(() => {
    store.sweepUnused(maxAgeMs).catch((error) =>
      onError("Could not remove unused uploads", error)
    );
  }, everyMs);
  return { close: () => clearInterval(timer) };
}
