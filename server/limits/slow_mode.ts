import type { Database } from "../../db/database.ts";
import type { SlowMode } from "../../protocol/events.ts";
import { nameKey } from "../../protocol/names.ts";
import { errorResponse } from "../http/http_error.ts";
import type {
  AutoSlowModeRule,
  SlowModeSetting,
  SlowModeStore,
} from "../store/slow_mode_store.ts";
import { BUCKET_SWEEP_MS, takeSharedToken } from "./shared_limits.ts";

/** The rate_buckets kind slow mode spends from, one bucket per name key. */
export const SLOW_MODE_BUCKET = "slow_mode";
/** Longest slow mode a moderator may set, per message (an hour). */
export const MAX_SLOW_MODE_SECONDS = 3600;
/** setTimeout's longest delay; a later end is checked again after it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The room's slow mode, cached in memory so a post costs no extra query while it is off. */
export interface SlowModeState {
  /** Re-reads the setting (on start, on a plaza_room notification, after LISTEN reconnects). */
  refresh(): Promise<void>;
  /** Slow mode in force now, or null. */
  current(): SlowMode | null;
  /** The full setting in force now (with setAt), or null. */
  setting(): SlowModeSetting | null;
  /** Stops the timer that announces the end of a timed setting. */
  close(): void;
}

/**
 * Creates the cached state over `store`; off until the first refresh(). With
 * `onChange`, it is told the state after every refresh and when a timed
 * setting runs out (the database sends no notification for that), and a
 * timer runs for it that close() stops.
 */
export function createSlowModeState(
  store: SlowModeStore,
  onChange?: (slowMode: SlowMode | null) => void,
): SlowModeState {
  let cached: SlowModeSetting | null = null;
  // Refreshes can overlap (a burst of notifications): only the newest read
  // is kept, so an older answer never overwrites a newer one.
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const setting = () =>
    cached !== null &&
      (cached.until === null || Date.parse(cached.until) > Date.now())
      ? cached
      : null;
  const current = (): SlowMode | null => {
    const s = setting();
    return s === null ? null : { seconds: s.seconds, until: s.until, by: s.by };
  };
  const tell = () => {
    clearTimeout(timer);
    timer = undefined;
    if (onChange === undefined || closed) return;
    onChange(current());
    const until = setting()?.until;
    if (until) {
      timer = setTimeout(
        tell,
        Math.min(MAX_TIMER_MS, Date.parse(until) - Date.now() + 1),
      );
    }
  };
  // The generation whose read is in `cached`, and the newest read's promise:
  // a refresh overtaken by a newer one waits for that one, so whoever
  // awaits refresh() (a route answering with the state it just wrote) sees
  // a state at least as new as its own read.
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
        tell();
      })();
      newest = run;
      await run;
      while (applied < mine) await newest;
    },
    current,
    setting,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/** What POST /messages asks before storing a message. */
export interface SlowModeGate {
  /**
   * While slow mode is on, spends the author's one message per S seconds
   * (counted in the database, so for every instance together) and answers
   * the 429 to send when it is spent; null when the post may go on. A
   * clientId already stored passes without spending: it is a retry of a
   * send that got through, which the store answers with the original.
   */
  refuse(author: string, clientId: string | null): Promise<Response | null>;
}

/** Creates the gate for `state`, spending from the shared rate_buckets in `db`. */
export function createSlowModeGate(
  db: Database,
  state: Pick<SlowModeState, "current">,
): SlowModeGate {
  let sweptAt = Date.now();
  // A bucket untouched for the longest slow mode is full again: the same
  // as no row.
  const sweep = () => {
    if (Date.now() - sweptAt < BUCKET_SWEEP_MS) return;
    sweptAt = Date.now();
    db.query(
      `delete from rate_buckets
       where kind = $1 and at < now() - make_interval(secs => $2)`,
      [SLOW_MODE_BUCKET, MAX_SLOW_MODE_SECONDS],
    ).catch(() => {
      // The next sweep tries again; rows only cost a little space.
    });
  };
  return {
    async refuse(author, clientId) {
      const slow = state.current();
      if (slow === null) return null;
      sweep();
      const decision = await takeSharedToken(
        db,
        {
          kind: SLOW_MODE_BUCKET,
          capacity: 1,
          perSecond: 1 / slow.seconds,
        },
        nameKey(author),
        clientId,
      );
      if (decision.ok) return null;
      return errorResponse(
        429,
        `Slow mode is on: one message every ${slow.seconds} s per name. You can post again in ${decision.retryAfterSeconds} s.`,
        { "Retry-After": String(decision.retryAfterSeconds) },
      );
    },
  };
}

/** The automatic switch's timer. */
export interface AutoSlowMode {
  /** Stops checking; resolves once a check under way has finished. */
  close(): Promise<void>;
}

/**
 * Runs store.autoCheck(rule) every `checkMs`. Every instance runs it; the
 * statement decides for the room, so instances agree whatever their timing.
 */
export function startAutoSlowMode(
  store: Pick<SlowModeStore, "autoCheck">,
  rule: AutoSlowModeRule,
  checkMs: number,
  onError: (message: string, error: unknown) => void,
): AutoSlowMode {
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      running = store.autoCheck(rule)
        .catch((error) => onError("Automatic slow mode check failed", error))
        .finally(schedule);
    }, checkMs);
  };
  schedule();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
