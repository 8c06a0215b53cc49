/**
 * The room's settings as readers see them, loaded by main.tsx after the
 * first paint (its own chunk, so the main bundle keeps its budget): the
 * pinned notice under the header, which each device may collapse (until a
 * new notice comes), and the lockdown, which closes the composer and says
 * why. Both follow the latest `room` event (host.room).
 *
 * Whether a `newer` lockdown stops this device is decided here, from the
 * claim time of its name, which the stream ticket answer carries: a name
 * claimed after the lockdown's `since`, or one this device holds no token
 * for (unclaimed, or someone else's), is stopped. The server refuses the
 * same posts on its own; this only says so before anyone types.
 */
// Built against client/extras/lent_preact.ts, the host's h (see there).
import { h } from "preact";
import type { Host } from "../pwa/host.ts";
import type { Lockdown } from "../../protocol/events.ts";
import { readToken } from "../names.ts";
import { call } from "../outbox.ts";
import { lendH } from "../extras/lent_preact.ts";
import { adoptStyles } from "../lazy_styles.ts";
import css from "./room.css" with { type: "text" };

/** localStorage key: the version of the notice this device collapsed. */
export const NOTICE_HIDDEN_KEY = "plaza.notice.hidden";

function storage(): Storage | null {
  try {
    return globalThis.localStorage;
  } catch {
    // Accessing localStorage itself throws when the browser blocks storage.
    return null;
  }
}

/** The sentence under a closed composer. */
export function lockdownText(lockdown: Lockdown): string {
  const who = lockdown.scope === "all"
    ? "The room is read-only for now."
    : "New names can’t post in the room for now.";
  return lockdown.reason === null ? who : `${who} ${lockdown.reason}`;
}

/**
 * Whether `lockdown` stops this device: `claimedAt` is its name's claim
 * time (ms) when known, undefined while unknown (asked, no answer yet), null
 * when it holds no token for its name.
 */
export function stops(
  lockdown: Lockdown | null | undefined,
  claimedAt: number | null | undefined,
): boolean {
  if (!lockdown) return false;
  if (lockdown.scope === "all" || claimedAt === null) return true;
  // Unknown: open, rather than close the composer on those it spares.
  return claimedAt !== undefined && claimedAt > Date.parse(lockdown.since!);
}

/** Called by main.tsx once the chunk has loaded. */
export function start(host: Host): void {
  adoptStyles(css);
  lendH(host.h);
  const { chat, signal, render, effect, room, markdown } = host;
  const hidden = signal(Number(storage()?.getItem(NOTICE_HIDDEN_KEY)) || 0);
  // The claim time of `name` held with `token`, as the server said it.
  const claim = signal<{ name: string; token: string; at: number } | null>(
    null,
  );

  function Notice() {
    const notice = room.value?.notice;
    if (!notice) return null;
    const shut = hidden.value === notice.version;
    return (
      <section class="notice" aria-label="Notice" data-testid="notice">
        {shut
          ? <p class="notice-shut">Notice</p>
          : (
            <div class="notice-text" data-testid="notice-text">
              {markdown(notice.text)}
            </div>
          )}
        <button
          type="button"
          class="button-quiet notice-toggle"
          data-testid="notice-toggle"
          aria-expanded={!shut}
          onClick={() => {
            hidden.value = shut ? 0 : notice.version;
            try {
              storage()?.setItem(NOTICE_HIDDEN_KEY, `${hidden.value}`);
            } catch {
              // Storage full or blocked: collapsed until the page reloads.
            }
          }}
        >
          {shut ? "Show" : "Hide"}
        </button>
      </section>
    );
  }

  // This device's standing under the lockdown in force, kept as a signal
  // so the composer and the sentence change together.
  const stopped = signal<Lockdown | null>(null);
  effect(() => {
    const lockdown = room.value?.lockdown ?? null;
    const name = chat.name.value;
    const token = name ? readToken(storage(), name) : "";
    let at: number | null | undefined = token ? undefined : null;
    const known = claim.value;
    if (known && known.name === name && known.token === token) at = known.at;
    if (lockdown?.scope === "newer" && at === undefined) {
      call(
        fetch,
        `/names/${encodeURIComponent(name!)}/stream-ticket`,
        "POST",
        {},
        token,
      ).then((answer) => {
        const claimedAt = "error" in answer ? NaN : Date.parse(
          `${answer.body.claimedAt}`,
        );
        if (Number.isFinite(claimedAt)) {
          claim.value = { name: name!, token, at: claimedAt };
        }
      });
    }
    stopped.value = stops(lockdown, at) ? lockdown : null;
    // The composer is closed by CSS (room.css): it stays the main bundle's.
    document.documentElement.toggleAttribute("data-lockdown", !!stopped.value);
  });

  function Closed() {
    const lockdown = stopped.value;
    return lockdown && (
      <p class="lockdown" role="status" data-testid="lockdown">
        {lockdownText(lockdown)}
      </p>
    );
  }

  render(<Notice />, document.getElementById("notice")!);
  render(<Closed />, document.getElementById("lockdown")!);
}
