/**
 * Name tokens: making them, hashing them for storage, and checking the one a
 * request sends. Wrong tokens are counted per address by the same limiter as
 * wrong admin tokens (admin_auth.ts), and once it runs out every token gets
 * 429, so a guess's answer never tells right from wrong.
 */
import type { Context } from "hono";
import { createHash } from "node:crypto";
import { type BearerGuard, secretsEqual } from "./admin_auth.ts";
import { clientAddress } from "./client_address.ts";
import { errorResponse } from "./http_error.ts";
import type { NameRecord, NameStore } from "../store/name_store.ts";
import {
  TRANSFER_CODE_ALPHABET,
  TRANSFER_CODE_LENGTH,
} from "../../protocol/names.ts";

/** Random bytes in a name token (256 bits). */
export const TOKEN_BYTES = 32;
/** A claim's last use is written at most this often (each post would be a write otherwise). */
export const NAME_TOUCH_MS = 3_600_000;

/** A new name token: TOKEN_BYTES random bytes, base64url without padding. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** A new transfer code, TRANSFER_CODE_LENGTH characters of Crockford's base32 (5 random bits each). */
export function newTransferCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TRANSFER_CODE_LENGTH));
  // 32 symbols: the low 5 bits of a random byte pick one without bias.
  return Array.from(bytes, (b) => TRANSFER_CODE_ALPHABET[b & 31]).join("");
}

/** A transfer code as shown: groups of four joined by dashes. */
export function formatTransferCode(code: string): string {
  return code.match(/.{1,4}/g)!.join("-");
}

/** SHA-256 of a token or code, lowercase hex: what the database keeps. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** The token of `Authorization: Bearer <token>`, or null when there is no such header. */
export function bearerToken(c: Context): string | null {
  const match = (c.req.header("authorization") ?? "").match(
    /^Bearer\s+(\S+)\s*$/i,
  );
  return match ? match[1] : null;
}

/** The 401 for a request that needs a name token and sent none. */
export function tokenMissing(what: string): Response {
  return errorResponse(
    401,
    `This needs ${what}: send Authorization: Bearer <token>.`,
    { "WWW-Authenticate": 'Bearer realm="plaza"' },
  );
}

/** The 429 when this address sent too many wrong tokens lately, else null (spends nothing). */
export function failuresExceeded(
  c: Context,
  guard: BearerGuard,
): Response | null {
  const limited = guard.failures.peek(clientAddress(c, guard.trustProxy));
  if (limited.ok) return null;
  return errorResponse(
    429,
    `Too many wrong tokens from your address; try again in ${limited.retryAfterSeconds} s.`,
    { "Retry-After": String(limited.retryAfterSeconds) },
  );
}

/** Counts a wrong token or code against the address and answers 403 with `message`. */
export function refuseSecret(
  c: Context,
  guard: BearerGuard,
  message: string,
): Response {
  guard.failures.take(clientAddress(c, guard.trustProxy));
  return errorResponse(403, message);
}

/**
 * Checks `token` against `claim`'s in constant time: null when it is the
 * claim's token, else the 429 or 403 (counted) to send.
 */
export function checkClaimToken(
  c: Context,
  token: string,
  claim: NameRecord,
  guard: BearerGuard,
): Response | null {
  const limited = failuresExceeded(c, guard);
  if (limited) return limited;
  if (!secretsEqual(hashSecret(token), claim.tokenHash)) {
    return refuseSecret(
      c,
      guard,
      `That token is not the token of the name "${claim.name}".`,
    );
  }
  return null;
}

/** The claim whose token this is, or the 429 or 403 (counted, saying `refusal`) to send. */
export async function claimOfToken(
  c: Context,
  token: string,
  names: NameStore,
  guard: BearerGuard,
  refusal = "That token is not valid: it is no name's token.",
): Promise<
  { ok: true; claim: NameRecord } | { ok: false; response: Response }
> {
  const limited = failuresExceeded(c, guard);
  if (limited) return { ok: false, response: limited };
  // Looked up by its hash: a token alone names its claim.
  const claim = await names.byTokenHash(hashSecret(token));
  if (claim === null) {
    return {
      ok: false,
      response: refuseSecret(c, guard, refusal),
    };
  }
  return { ok: true, claim };
}

/** Restarts a claim's idle time when its last recorded use is older than NAME_TOUCH_MS. */
export async function noteUse(
  names: NameStore,
  claim: NameRecord,
  now = Date.now(),
): Promise<void> {
  if (now - claim.lastUsedAt.getTime() >= NAME_TOUCH_MS) {
    await names.touch(claim.id);
  }
}
