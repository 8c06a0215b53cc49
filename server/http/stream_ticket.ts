/**
 * Stream tickets: how a browser's GET /stream proves a claimed name. A
 * stream is opened with fetch or EventSource by URL, and a token in a URL
 * ends up in proxy and server logs, so the stream carries a ticket instead:
 * POST /names/<name>/stream-ticket (with the token) gives one, valid for
 * STREAM_TICKET_TTL_MS. A ticket is the expiry and an HMAC of the name's key
 * and that expiry, keyed with the hash of the claim's current token: any
 * instance can check it without a query or a write, and it dies with the
 * token (a transfer or release). It is not single-use: a logged one lets
 * someone show the name in the online list for at most a minute, nothing
 * else (posting still needs the token).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { NameRecord } from "../store/name_store.ts";

/** How long a stream ticket opens streams. */
export const STREAM_TICKET_TTL_MS = 60_000;
/** How far ahead of this instance's clock the instance that made a ticket may be. */
export const TICKET_CLOCK_SLACK_MS = 5_000;

function sign(claim: NameRecord, expires: number): string {
  return createHmac("sha256", claim.tokenHash)
    .update(`stream:${claim.key}:${expires}`)
    .digest("base64url");
}

/** A new ticket for `claim`'s streams, and when it expires (epoch ms). */
export function newStreamTicket(
  claim: NameRecord,
  now = Date.now(),
): { ticket: string; expires: number } {
  const expires = now + STREAM_TICKET_TTL_MS;
  return { ticket: `${expires}.${sign(claim, expires)}`, expires };
}

/** Whether `ticket` is a current ticket of `claim`. */
export function checkStreamTicket(
  ticket: string,
  claim: NameRecord,
  now = Date.now(),
): boolean {
  const match = /^(\d{1,15})\.([\w-]{43})$/.exec(ticket);
  if (!match) return false;
  const expires = Number(match[1]);
  if (
    expires <= now ||
    expires > now + STREAM_TICKET_TTL_MS + TICKET_CLOCK_SLACK_MS
  ) {
    return false;
  }
  const want = new TextEncoder().encode(sign(claim, expires));
  return timingSafeEqual(want, new TextEncoder().encode(match[2]));
}
