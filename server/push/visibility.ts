/**
 * Which subscribers are looking at the room. Every open, visible Plaza tab
 * tells POST /push/visibility every VISIBILITY_REFRESH_MS; its row counts
 * until VISIBILITY_TTL_MS after the last refresh, so a tab that died
 * silently stops counting by itself. Kept in Postgres: the dispatcher that
 * decides may run on any instance.
 */
import type { Database } from "../../db/database.ts";
import type { Validated } from "../../protocol/validated.ts";
import { guardDatabase, validateEndpointField } from "./subscriptions.ts";

/** How often a visible tab refreshes its row (the client's side of the contract). */
export const VISIBILITY_REFRESH_MS = 20_000;
/** How long a row counts after its last refresh: two refreshes may be lost. */
export const VISIBILITY_TTL_MS = 45_000;
/** Longest tab id a client may make up. */
export const MAX_TAB_LENGTH = 64;

/** Body of POST /push/visibility, checked. */
export interface VisibilityInput {
  endpoint: string;
  /** An id the client made for one tab. */
  tab: string;
  visible: boolean;
}

// Printable ASCII: the id is only ever compared, and logs stay readable.
const TAB = /^[\x21-\x7e]+$/;

/** Checks `{"endpoint": "…", "tab": "<≤64 chars>", "visible": true|false}`. */
export function validateVisibilityInput(
  input: unknown,
): Validated<VisibilityInput> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      ok: false,
      error: 'Body must be an object with "endpoint", "tab" and "visible".',
    };
  }
  const body = input as Record<string, unknown>;
  const endpoint = validateEndpointField(body.endpoint);
  if (!endpoint.ok) return endpoint;
  const tab = body.tab;
  if (
    typeof tab !== "string" || tab.length > MAX_TAB_LENGTH || !TAB.test(tab)
  ) {
    return {
      ok: false,
      error:
        `Field "tab" must be 1–${MAX_TAB_LENGTH} printable ASCII characters without spaces.`,
    };
  }
  if (typeof body.visible !== "boolean") {
    return { ok: false, error: 'Field "visible" must be true or false.' };
  }
  return {
    ok: true,
    value: { endpoint: endpoint.value, tab, visible: body.visible },
  };
}

/** Visibility rows; every method may throw DatabaseUnavailableError. */
export interface VisibilityStore {
  /** Refreshes (visible) or deletes (hidden) one tab's row; false when the endpoint has no subscription. */
  set(input: VisibilityInput): Promise<boolean>;
  /** Deletes rows that no longer count; returns how many. */
  prune(): Promise<number>;
}

// CTEs that move the subscription of endpoint $1 past every message there
// is and drop its mentions up to there (s: its id). One statement: a mention
// recorded meanwhile for a later message stays. `also` sets more columns.
const seen = (also = "") => `
  s as (
    update push_subscriptions set ${also}
      notified_through = greatest(notified_through,
        (select coalesce(max(id), 0) from messages))
    where endpoint = $1
    returning id, notified_through),
  spent as (
    delete from push_mentions pm using s
    where pm.subscription_id = s.id and pm.message_id <= s.notified_through)`;

/** A VisibilityStore over `db`; `ttlMs` is injectable for tests. */
export function createVisibilityStore(
  db: Database,
  ttlMs: number = VISIBILITY_TTL_MS,
): VisibilityStore {
  return {
    set: ({ endpoint, tab, visible }) =>
      guardDatabase(async () => {
        // Either way the tab has shown the room until now: the messages
        // there are seen, so the subscriber's cursor moves past them (see
        // queue.ts) and they are never notified.
        if (visible) {
          const [row] = await db.query<{ found: boolean }>(
            `with ${seen()},
             shown as (
               insert into push_visibility (subscription_id, tab, expires_at)
               select id, $2, now() + make_interval(secs => $3) from s
               on conflict (subscription_id, tab)
                 do update set expires_at = excluded.expires_at
             )
             select exists (select 1 from s) as found`,
            [endpoint, tab, ttlMs / 1000],
          );
          return row.found;
        }
        // Hidden: what held the subscriber back while looking ends too.
        const [row] = await db.query<{ found: boolean }>(
          `with ${seen("quiet_from = null,")},
           gone as (
             delete from push_visibility v using s
             where v.subscription_id = s.id and v.tab = $2
           )
           select exists (select 1 from s) as found`,
          [endpoint, tab],
        );
        return row.found;
      }),
    prune: () =>
      guardDatabase(async () => {
        const rows = await db.query(
          "delete from push_visibility where expires_at < now() returning tab",
        );
        return rows.length;
      }),
  };
}
