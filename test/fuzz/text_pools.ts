/** Words, names, tricky characters and the valid message fields built from them. */
import type { GenContext } from "./cases.ts";
import type { Rng } from "./rng.ts";

// deno-fmt-ignore
const WORDS = [
  "hello", "room", "ok", "ça va", "naïve", "Zürich", "日本語", "한국어", "مرحبا",
  "שלום", "Ελληνικά", "emoji 🎉", "👩‍👩‍👧", "🇫🇷", "<b>bold</b>",
  "<script>alert(1)</script>", "&amp;", "'quote'", '"dq"', "back\\slash",
  "${x}", "%s%n", "https://example.com/?a=1&b=2", "@ada",
  "a\u0301", // decomposed: NFC changes it
  "\u1100\u1161", // Hangul jamo: NFC composes them
  "\u2126", // OHM SIGN: NFC maps it to Omega
  "\u0958", // a composition exclusion
  "\ufb01", // ligature: NFC keeps it
  "x\u200bx", "\u202eevil", "\ufffd", "\u{10ffff}", "\u{e0041}", "\ufdd0",
  "'; drop table messages; --",
];

/** Characters the validator refuses, trims or may disagree with Postgres about. */
// deno-fmt-ignore
const TRICKY = [
  "\u0000", "\u0001", "\u0007", "\t", "\u000b", "\u000c", "\u001b", "\u001c",
  "\u001f", "\u007f", "\u0080", "\u0085", "\u009f", "\u00a0", "\u1680",
  "\u180e", "\u2000", "\u2007", "\u2028", "\u2029", "\u202f", "\u3000",
  "\ufeff", "\ud800", "\udfff", "\r", "\r\n", "\n", " ", "\u0301",
];

// deno-fmt-ignore
const AUTHORS = [
  "ada", "bob", "Zoë", "李雷", "🦊 fox", "o'brien", "<img src=x onerror=alert(1)>",
  "Robert'); DROP TABLE messages;--", "a".repeat(32), "  padded  ",
  "e\u0301mile", "A\u030angstro\u0308m", "x".repeat(31) + "😀", "zw\u200bj",
  "\ufb01sh", "@ada", "\u01c5emal", "\u202eevil",
];

/** Words joined by spaces (and newlines), with a share `tricky` of tricky characters. */
export function randomText(
  g: Rng,
  pieces: number,
  tricky: number,
  newlines: boolean,
): string {
  const separators = newlines
    ? [" ", " ", " ", "", "\n", "\r\n", "  "]
    : [" ", " ", "", "  "];
  let out = "";
  for (let i = 0; i < pieces; i++) {
    if (i > 0) out += g.pick(separators);
    out += g.chance(tricky) ? g.pick(TRICKY) : g.pick(WORDS);
  }
  return out;
}

function codePointClip(s: string, max: number): string {
  return Array.from(s).slice(0, max).join("");
}

/** An author the validator accepts (mostly): a listed one or a few words. */
export function validAuthor(g: Rng): string {
  if (g.chance(0.5)) return g.pick(AUTHORS);
  return codePointClip(randomText(g, g.int(1, 3), 0, false), 32);
}

/** Texts at and around the 2000-character limit, in characters of 1 to 4 bytes. */
function longText(g: Rng): string {
  const n = g.pick([1999, 2000, 2001, 2500]);
  return g.pick(["a", "é", "😀", "日", "e\u0301", "a "]).repeat(n);
}

/** A message text: mostly a few words, sometimes one at the length limit. */
export function messageText(g: Rng, tricky = 0.02): string {
  return g.chance(0.1)
    ? longText(g)
    : randomText(g, g.int(1, 12), tricky, true);
}

/** A clientId field: absent (undefined), null, fresh, pooled or odd-cased. */
function clientIdField(g: Rng, ctx: GenContext): string | null | undefined {
  const choice = g.weighted(
    [
      ["none", 5],
      ["null", 1],
      ["fresh", 2],
      ["pool", 2],
    ] as const,
  );
  if (choice === "none") return undefined;
  if (choice === "null") return null;
  const id = choice === "fresh" ? g.uuid() : g.pick(ctx.pool);
  return g.chance(0.2) ? id.toUpperCase() : id;
}

/** Content types the app must take as JSON. */
export const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/json;charset=UTF-8",
];
/** Content types the app must take as a form. */
export const FORM_TYPES = [
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=UTF-8",
  "APPLICATION/X-WWW-FORM-URLENCODED",
];

/** The fields of a post: author, text and sometimes a clientId (null, fresh, pooled). */
export function messageFields(
  g: Rng,
  ctx: GenContext,
): Record<string, string | null> {
  const fields: Record<string, string | null> = {
    author: validAuthor(g),
    text: messageText(g),
  };
  const clientId = clientIdField(g, ctx);
  if (clientId !== undefined) fields.clientId = clientId;
  return fields;
}

/** Fields as a URL-encoded form; null fields are left out. */
export function formOf(fields: Record<string, string | null>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (v !== null) form.append(k, v);
  }
  return form.toString();
}
