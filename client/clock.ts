/** The page's one clock: the reconnect countdown and the relative message times read it, so one timer serves both. */
import { computed, signal } from "@preact/signals";

/** Epoch ms, updated every second. */
export const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 1000);

/** now in steps of half a minute: fine enough for "N min. ago", and the message list re-renders only that often. */
export const halfMinute = computed(() => now.value - now.value % 30_000);
