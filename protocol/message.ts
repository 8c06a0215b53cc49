import type { Validated } from "./validated.ts";
import { bidiControl, strayIgnorable } from "./name_rules.ts";
import type { Reaction } from "./reactions.ts";
import {
  type Attachment,
  type AttachmentRef,
  validateAttachmentRefs,
} from "./attachments.ts";
import {
  CONTROL_CHARACTERS,
  MAX_AUTHOR_LENGTH,
  MAX_MARKS_IN_NAME,
  MAX_MARKS_IN_TEXT,
  MAX_TEXT_LENGTH,
} from "./limits.ts";

/** A chat message as stored, streamed and returned by the API. */
export interface Message {
  id: number;
  author: string;
  text: string;
  /** ISO 8601 timestamp in UTC with millisecond precision. */
  createdAt: string;
  /** The sender's idempotency key (a lowercase UUID), or null. */
  clientId: string | null;
  // The fields below are always sent by servers since db/migrations/005;
  // they are optional so that code written against the older shape (and
  // messages saved by an older client) still type-check.
  /** True when posted with the token of the claimed name (POST /names); only such messages can be edited. */
  verified?: boolean;
  /** When the text was last edited (same format as createdAt), or null. */
  editedAt?: string | null;
  /** The message this one answers, quoted as it is now; null when it answers none. */
  replyTo?: ReplyQuote | null;
  /** Reactions, one entry per emoji chosen at least once, in REACTION_EMOJIS order. */
  reactions?: Reaction[];
  /** What the server found at the text's first link (db/migrations/013), or null; it arrives later, as a `preview` event. */
  preview?: LinkPreview | null;
  /** True when posted under a name a moderator registered as a bot (db/migrations/020). */
  bot?: boolean;
  /** Pictures, in the order sent (db/migrations/016); empty for a text-only message. */
  attachments?: Attachment[];
}

/**
 * A link's preview, read by the server from the page's <title> and Open
 * Graph tags. Text only, to be shown as text. `image` is an absolute http(s)
 * URL the server never fetched; Plaza's client does not show it (loading it
 * would tell that site who reads the room).
 */
export interface LinkPreview {
  /** The link as it appears in the message. */
  url: string;
  title: string | null;
  description: string | null;
  image: string | null;
  /** og:site_name. */
  site: string | null;
}

/** Most characters (code points) of the quoted text in a reply; a longer text is cut and ends with "…". */
export const REPLY_QUOTE_LENGTH = 100;

/**
 * The message a reply answers, so a client can show it without fetching it.
 * `author` and `text` are null once that message has been deleted.
 */
export interface ReplyQuote {
  id: number;
  author: string | null;
  /** The first REPLY_QUOTE_LENGTH characters of its current text. */
  text: string | null;
}

/** What a client sends to post a message, after validation. */
export interface MessageInput {
  author: string;
  text: string;
  /** Makes the send idempotent: a repeat with the same key finds the original. */
  clientId?: string | null;
  /** The id of the message this one answers. */
  replyTo?: number | null;
  /** Uploads (POST /attachments) this message carries; with one, text may be empty. */
  attachments?: AttachmentRef[];
}

const MARK = /\p{M}/u;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
// What a reader can see: a letter, digit, punctuation or symbol. U+2800
// (BRAILLE PATTERN BLANK) is a symbol that draws nothing; the Hangul fillers
// are letters that draw nothing but are default-ignorable.
const VISIBLE =
  /(?![\u2800\p{Default_Ignorable_Code_Point}])[\p{L}\p{N}\p{P}\p{S}]/u;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The longest run of combining marks on one base character; invisible characters between them do not end a run. */
function longestMarkRun(s: string): number {
  let run = 0;
  let longest = 0;
  for (const c of s) {
    if (MARK.test(c)) longest = Math.max(longest, ++run);
    else if (!IGNORABLE.test(c)) run = 0;
  }
  return longest;
}

interface FieldRules {
  max: number;
  maxMarks: number;
  /** Names: one line, NFKC, no invisible or bidirectional characters. */
  isName: boolean;
}

function cleanField(
  value: unknown,
  name: string,
  { max, maxMarks, isName }: FieldRules,
): Validated<string> {
  if (value === undefined || value === null) {
    return { ok: false, error: `Field "${name}" is required.` };
  }
  if (typeof value !== "string") {
    return { ok: false, error: `Field "${name}" must be a string.` };
  }
  // Lone surrogates cannot be stored as UTF-8; refuse them here instead of
  // letting the database fail with a server error.
  if (!value.isWellFormed()) {
    return { ok: false, error: `Field "${name}" is not valid Unicode.` };
  }
  // Names are folded with NFKC, as RFC 8266 does for nicknames: fullwidth
  // "ａｄａ" and mathematical "𝐚𝐝𝐚" become "ada" instead of passing for
  // it. Text keeps what was typed (NFC only).
  const cleaned = value.replace(/\r\n?/g, "\n")
    .normalize(isName ? "NFKC" : "NFC").trim();
  const length = codePoints(cleaned);
  if (length === 0) {
    return { ok: false, error: `Field "${name}" must not be empty.` };
  }
  if (length > max) {
    return {
      ok: false,
      error:
        `Field "${name}" must be at most ${max} characters (got ${length}).`,
    };
  }
  if (isName && cleaned.includes("\n")) {
    return { ok: false, error: `Field "${name}" must be a single line.` };
  }
  if (CONTROL_CHARACTERS.test(cleaned)) {
    return {
      ok: false,
      error: `Field "${name}" must not contain control characters.`,
    };
  }
  if (isName) {
    // Text may carry bidirectional controls (right-to-left writers use
    // them; the client isolates each text), but a name is shown next to
    // other text and must not reorder it.
    const bidi = bidiControl(cleaned);
    if (bidi !== null) {
      return {
        ok: false,
        error:
          `Field "${name}" must not contain bidirectional controls (${bidi}).`,
      };
    }
    const hidden = strayIgnorable(cleaned);
    if (hidden !== null) {
      return {
        ok: false,
        error:
          `Field "${name}" must not contain invisible characters (${hidden}).`,
      };
    }
  }
  if (longestMarkRun(cleaned) > maxMarks) {
    return {
      ok: false,
      error:
        `Field "${name}" must have at most ${maxMarks} combining marks on one character.`,
    };
  }
  if (!VISIBLE.test(cleaned)) {
    return {
      ok: false,
      error: `Field "${name}" must contain a visible letter, digit or symbol.`,
    };
  }
  return { ok: true, value: cleaned };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asObject(input: unknown): Record<string, unknown> | null {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? input as Record<string, unknown>
    : null;
}

/** Checks a display name (1–32 characters, one line, NFKC, trimmed, nothing invisible; see name_rules.ts). */
export function validateAuthor(value: unknown): Validated<string> {
  return cleanField(value, "author", {
    max: MAX_AUTHOR_LENGTH,
    maxMarks: MAX_MARKS_IN_NAME,
    isName: true,
  });
}

/** Checks a message text (1–2000 characters once trimmed, NFC, no control characters but newlines). */
export function validateText(value: unknown): Validated<string> {
  return cleanField(value, "text", {
    max: MAX_TEXT_LENGTH,
    maxMarks: MAX_MARKS_IN_TEXT,
    isName: false,
  });
}

/** Checks the body of PATCH /messages/<id>: `{"text": …}`, under the same rules as a post. */
export function validateEditInput(input: unknown): Validated<string> {
  const fields = asObject(input);
  if (fields === null) {
    return { ok: false, error: 'Body must be an object with "text".' };
  }
  return validateText(fields.text);
}

/** Checks an optional message id to reply to: a positive whole number (a string of digits from a form). */
function validateReplyTo(value: unknown): Validated<number | null> {
  if (value === undefined || value === null || value === "") {
    return { ok: true, value: null };
  }
  const id = typeof value === "string" && /^\d{1,16}$/.test(value)
    ? Number(value)
    : value;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    return {
      ok: false,
      error: 'Field "replyTo" must be the id of a message (a whole number).',
    };
  }
  return { ok: true, value: id };
}

/** Checks and normalises a message a client wants to post (NFC, trimmed, limits). */
export function validateMessageInput(input: unknown): Validated<MessageInput> {
  const fields = asObject(input);
  if (fields === null) {
    return {
      ok: false,
      error: 'Body must be an object with "author" and "text".',
    };
  }
  const author = validateAuthor(fields.author);
  if (!author.ok) return author;
  const attachments = validateAttachmentRefs(fields.attachments);
  if (!attachments.ok) return attachments;
  // A picture may go without words: an absent or blank text is then "".
  const blank = fields.text === undefined || fields.text === null ||
    (typeof fields.text === "string" && fields.text.trim() === "");
  const text: Validated<string> = attachments.value.length > 0 && blank
    ? { ok: true, value: "" }
    : validateText(fields.text);
  if (!text.ok) return text;
  let clientId: string | null = null;
  if (fields.clientId !== undefined && fields.clientId !== null) {
    if (typeof fields.clientId !== "string" || !UUID.test(fields.clientId)) {
      return {
        ok: false,
        error:
          'Field "clientId" must be a UUID such as crypto.randomUUID() makes.',
      };
    }
    clientId = fields.clientId.toLowerCase();
  }
  const replyTo = validateReplyTo(fields.replyTo);
  if (!replyTo.ok) return replyTo;
  const value: MessageInput = {
    author: author.value,
    text: text.value,
    clientId,
  };
  if (replyTo.value !== null) value.replyTo = replyTo.value;
  if (attachments.value.length > 0) value.attachments = attachments.value;
  return { ok: true, value };
}

/** Checks the body of POST /typing: who is typing. */
export function validateTypingInput(input: unknown): Validated<string> {
  const fields = asObject(input);
  if (fields === null) {
    return { ok: false, error: 'Body must be an object with "author".' };
  }
  return validateAuthor(fields.author);
}
