/**
 * The room's pinned notice and lockdown, cached in memory (a post costs no
 * query while the room is open), and the gate that refuses posts, reactions,
 * edits and typing during a lockdown.
 */
import type { Lockdown, RoomNotice } from "../../protocol/events.ts";
import { nameKey } from "../../protocol/names.ts";
import { API_CACHE_CONTROL } from "../http/http_error.ts";
import type { NameStore } from "../store/name_store.ts";
import type { RoomStore } from "../store/room_store.ts";

/** The notice and lockdown as this instance last read them. */
export interface RoomSettings {
  notice: RoomNotice | null;
  lockdown: Lockdown | null;
}

/** The cached settings. */
export interface RoomSettingsState {
  /** Re-reads them (on start, on a plaza_room notification, after LISTEN reconnects). */
  refresh(): Promise<void>;
  /** The settings as last read. */
  current(): RoomSettings;
}

/**
 * Creates the cache over `store`: empty until the first refresh(). With
 * `onChange`, it is told the settings after every refresh.
 */
export function createRoomSettingsState(
  store: Pick<RoomStore, "current">,
  onChange?: (settings: RoomSettings) => void,
): RoomSettingsState {
  let cached: RoomSettings = { notice: null, lockdown: null };
  // As slow mode's cache: overlapping refreshes keep the newest read, and
  // whoever awaits refresh() sees a state at least as new as its own read.
  let generation = 0;
  let applied = 0;
  let newest: Promise<void> = Promise.resolve();
  return {
    async refresh() {
      const mine = ++generation;
      const run = (async () => {
        const read = await store.current();
        if (mine !== generation) return;
        cached = read;
        applied = mine;
        onChange?.(cached);
      })();
      newest = run;
      await run;
      while (applied < mine) await newest;
    },
    current: () => cached,
  };
}

/** What the write routes ask before a post, reaction, edit or typing notice. */
export interface LockdownGate {
  /**
   * The 403 to send when a lockdown stops the poster: `nameId` is the
   * verified claim's id, null for an unclaimed name (which counts as newer
   * than any lockdown). Null when the write may go on.
   */
  refuse(nameId: number | null): Promise<Response | null>;
  /** The same for a name given without proof (typing): its current claim, if any, decides. */
  refuseName(name: string): Promise<Response | null>;
}

/** The 403 answer's sentence for `lockdown`. */
export function lockdownSentence(lockdown: Lockdown): string {
  const who = lockdown.scope === "all"
    ? "The room is read-only for now."
    : `The room is read-only for names claimed after ${lockdown.since} and for unclaimed names.`;
  return lockdown.reason === null ? who : `${who} Reason: ${lockdown.reason}`;
}

/** Creates the gate over the cached `state`; `store` answers a claim's age, `names` a name's claim. */
export function createLockdownGate(
  state: Pick<RoomSettingsState, "current">,
  store: Pick<RoomStore, "claimedAfter">,
  names: Pick<NameStore, "byKey">,
): LockdownGate {
  const refuse = async (nameId: number | null) => {
    const lockdown = state.current().lockdown;
    if (lockdown === null) return null;
    const stopped = lockdown.scope === "all" || nameId === null ||
      await store.claimedAfter(nameId, lockdown.since!);
    if (!stopped) return null;
    // The lockdown rides along, so a client can say why without a second
    // request.
    return Response.json({ error: lockdownSentence(lockdown), lockdown }, {
      status: 403,
      headers: { "Cache-Control": API_CACHE_CONTROL },
    });
  };
  return {
    refuse,
    async refuseName(name) {
      if (state.current().lockdown === null) return null;
      const claim = await names.byKey(nameKey(name));
      return await refuse(claim?.id ?? null);
    },
  };
}
