/**
 * Claimed names: which names count as the same, and the shapes of the name
 * routes (POST /names, transfers). The name itself follows the author rules
 * of message.ts; docs/api.md says what a claim protects.
 */
import { validateAuthor } from "./message.ts";
import type { Validated } from "./validated.ts";

/** What POST /names and POST /names/claim answer: the name as claimed and the token that proves it. */
export interface NameClaim {
  name: string;
  /** Sent as `Authorization: Bearer <token>`; base64url, 256 random bits. */
  token: string;
}

/** What POST /names/<name>/transfer answers: a one-time code for another device. */
export interface TransferCode {
  code: string;
  /** ISO 8601, UTC: the code is refused after this. */
  expiresAt: string;
}

/**
 * The key two names are compared by: the author rules' result (trimmed,
 * NFKC) in lower case, so "Ada", "ADA" and fullwidth "ａｄａ" are one name.
 * Takes a name that already passed validateAuthor.
 */
export function nameKey(cleanName: string): string {
  return cleanName.toLowerCase();
}

/** Checks a name to claim (the author rules, said about the field "name"). */
export function validateName(value: unknown): Validated<string> {
  const name = validateAuthor(value);
  if (name.ok) return name;
  return { ok: false, error: name.error.replace('"author"', '"name"') };
}

/** Checks the body of POST /names: `{"name": …}`. */
export function validateNameInput(input: unknown): Validated<string> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, error: 'Body must be an object with "name".' };
  }
  return validateName((input as Record<string, unknown>).name);
}

/** Characters of a transfer code (Crockford's base32: no I, L, O or U). */
export const TRANSFER_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Characters in a transfer code, shown in groups of four ("7KQ2-M9XD-4FHT"). */
export const TRANSFER_CODE_LENGTH = 12;

/**
 * Checks the body of POST /names/claim and returns the code in its canonical
 * form: dashes and spaces dropped, upper case, and the letters people mistake
 * for digits read as those digits (O as 0, I and L as 1).
 */
export function validateClaimInput(input: unknown): Validated<string> {
  const raw = typeof input === "object" && input !== null &&
      !Array.isArray(input)
    ? (input as Record<string, unknown>).code
    : undefined;
  const refused: Validated<string> = {
    ok: false,
    error:
      `Field "code" must be the ${TRANSFER_CODE_LENGTH}-character code from the other device.`,
  };
  if (typeof raw !== "string" || raw.length > 64) return refused;
  const code = raw.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (
    code.length !== TRANSFER_CODE_LENGTH ||
    [...code].some((c) => !TRANSFER_CODE_ALPHABET.includes(c))
  ) {
    return refused;
  }
  return { ok: true, value: code };
}
