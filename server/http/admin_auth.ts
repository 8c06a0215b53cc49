import type { Context } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import type { ProxyTrust } from "../config.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import type { RateLimiter } from "../limits/rate_limiter.ts";

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/**
 * Compares two secrets in time that does not depend on where they differ
 * (hashing first evens out lengths too). Synchronous, so checkBearer's look
 * at the failure limiter and its spending of a token happen in one step: no
 * burst of parallel guesses can all pass the look before any of them spends.
 */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** What checkBearer counts wrong tokens with. */
export interface BearerGuard {
  /** Wrong tokens per client address (AUTH_FAILURE_RATE); a right one spends nothing. */
  failures: RateLimiter;
  /** Which peers are proxies, for the client address (see client_address.ts). */
  trustProxy: ProxyTrust;
}

/**
 * Checks `Authorization: Bearer <token>`: null when allowed, else the
 * 401/403/429 to send; `what` names the token (e.g. "admin") and `name` its
 * setting. An address that sent too many wrong tokens gets 429 for every
 * token until its budget refills, the right one included: otherwise the
 * answer to a guess would still tell a right guess from a wrong one.
 */
export function checkBearer(
  c: Context,
  token: string,
  what: string,
  name: string,
  guard: BearerGuard,
): Response | null {
  const header = c.req.header("authorization") ?? "";
  const match = header.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    return errorResponse(
      401,
      `This needs the ${what} token: send Authorization: Bearer <${name}>.`,
      { "WWW-Authenticate": 'Bearer realm="plaza"' },
    );
  }
  const address = clientAddress(c, guard.trustProxy);
  const limited = guard.failures.peek(address);
  if (!limited.ok) {
    return errorResponse(
      429,
      `Too many wrong tokens from your address; try again in ${limited.retryAfterSeconds} s.`,
      { "Retry-After": String(limited.retryAfterSeconds) },
    );
  }
  if (!secretsEqual(match[1], token)) {
    guard.failures.take(address);
    return errorResponse(403, `That ${what} token is not valid.`);
  }
  return null;
}

/**
 * The moderators' check for `token` (null: ADMIN_TOKEN unset): a function
 * giving null when the request may go on, else the 404 (moderation off) or
 * the 401/403/429 to send.
 */
export function moderatorCheck(
  token: string | null,
  guard: BearerGuard,
): (c: Context) => Response | null {
  return (c) =>
    token === null
      ? errorResponse(
        404,
        "Moderation is off on this server: it needs ADMIN_TOKEN.",
      )
      : checkAdmin(c, token, guard);
}

/** Checks `Authorization: Bearer <ADMIN_TOKEN>`: null when allowed, else the 401/403/429 to send. */
export function checkAdmin(
  c: Context,
  token: string,
  guard: BearerGuard,
): Response | null {
  return checkBearer(c, token, "admin", "ADMIN_TOKEN", guard);
}
