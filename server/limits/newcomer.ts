/**
 * The newcomer delay (NEWCOMER_DELAY_MINUTES): a name claimed less than N
 * minutes ago, or a client address first seen less than N minutes ago, may
 * post text but not links or pictures. When an address was first seen is
 * kept in Postgres (address_first_seen, db/migrations/018), so the delay
 * holds across instances and restarts.
 */
import type { Database } from "../../db/database.ts";
import { LINK } from "../../protocol/links.ts";
import { errorResponse } from "../http/http_error.ts";
import { guard } from "../store/db_errors.ts";

/** Addresses past the delay an instance remembers; past this many it forgets them all and reads again. */
export const REMEMBERED_ADDRESSES = 10_000;

/** What a post brings that a newcomer may not: its text and any attachments (pictures). */
export interface NewcomerPost {
  text: string;
  /** Pictures, once messages carry them: any at all counts, like a link. */
  attachments?: readonly unknown[] | null;
}

/** The newcomer check. */
export interface NewcomerGate {
  /** Notes that `address` was seen (a post or a stream) so its delay starts. */
  see(address: string): Promise<void>;
  /**
   * The 403 for a post with a link or attachments from a newcomer (the
   * address, or claim `nameId`, too new); null when it may go on. Notes
   * the address as seen either way.
   */
  refuse(
    address: string,
    nameId: number | null,
    post: NewcomerPost,
  ): Promise<Response | null>;
}

/** The gate for a delay of `minutes` over `db`. */
export function createNewcomerGate(
  db: Database,
  minutes: number,
): NewcomerGate {
  const delayMs = minutes * 60_000;
  const firstSeen = new Map<string, number>();
  const seen = (address: string) =>
    guard(async () => {
      const known = firstSeen.get(address);
      if (known !== undefined) return known;
      // The row written by whichever instance saw the address first.
      const [row] = await db.query<{ at: number | string }>(
        `with added as (
           insert into address_first_seen (address) values ($1)
           on conflict (address) do nothing
           returning first_seen)
         select (extract(epoch from first_seen) * 1000)::bigint as at
           from added
         union all
         select (extract(epoch from first_seen) * 1000)::bigint
           from address_first_seen where address = $1
         limit 1`,
        [address],
      );
      // Just inserted by another transaction not yet visible: new now.
      const at = row === undefined ? Date.now() : Number(row.at);
      // Only addresses past the delay are remembered: they stay past it,
      // so the table need not be read for them again.
      if (Date.now() - at >= delayMs) {
        if (firstSeen.size >= REMEMBERED_ADDRESSES) firstSeen.clear();
        firstSeen.set(address, at);
      }
      return at;
    });
  const claimedAt = (nameId: number) =>
    guard(async () => {
      const [row] = await db.query<{ at: number | string }>(
        `select (extract(epoch from claimed_at) * 1000)::bigint as at
         from names where id = $1`,
        [nameId],
      );
      return row === undefined ? null : Number(row.at);
    });
  const refusal = (until: number, what: string) => {
    const wait = Math.max(1, Math.ceil((until - Date.now()) / 60_000));
    return errorResponse(
      403,
      `${what} is new here: for the first ${minutes} minutes it may post text but not links or pictures. Try again in ${wait} min, or send the text without the link.`,
    );
  };
  return {
    async see(address) {
      await seen(address);
    },
    async refuse(address, nameId, post) {
      const since = await seen(address);
      const carries = LINK.test(post.text) ||
        (post.attachments?.length ?? 0) > 0;
      if (!carries) return null;
      const now = Date.now();
      if (now - since < delayMs) {
        return refusal(since + delayMs, "Your address");
      }
      if (nameId !== null) {
        const claimed = await claimedAt(nameId);
        if (claimed !== null && now - claimed < delayMs) {
          return refusal(claimed + delayMs, "This name");
        }
      }
      return null;
    },
  };
}
