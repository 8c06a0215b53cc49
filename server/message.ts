/** A chat message as stored, streamed and returned by the API. */
export interface Message {
  id: number;
  author: string;
  text: string;
  /** ISO 8601 timestamp in UTC with millisecond precision. */
  createdAt: string;
  /** The sender's idempotency key (a lowercase UUID), or null. */
  clientId: string | null;
}

/** What a client sends to post a message, after validation. */
export interface MessageInput {
  author: string;
  text: string;
  /** Makes the send idempotent: a repeat with the same key finds the original. */
  clientId?: string | null;
}

/** Most characters (Unicode code points) an author name may have. */
export const MAX_AUTHOR_LENGTH = 32;
/** Most characters (Unicode code points) a message text may have. */
export const MAX_TEXT_LENGTH = 2000;

/** Result of validating untrusted input: the cleaned value or a human sentence. */
export type Validated<T> = { ok: true; value: T } | {
  ok: false;
  error: string;
};

// Control characters (C0, DEL, C1). Newlines are allowed in text only and are
// checked for separately; the database enforces the same rule in a CHECK.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function cleanField(
  value: unknown,
  name: string,
  max: number,
  allowNewlines: boolean,
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
  const cleaned = value.replace(/\r\n?/g, "\n").normalize("NFC").trim();
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
  if (!allowNewlines && cleaned.includes("\n")) {
    return { ok: false, error: `Field "${name}" must be a single line.` };
  }
  if (CONTROL.test(cleaned)) {
    return {
      ok: false,
      error: `Field "${name}" must not contain control characters.`,
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

/** Checks a display name (1–32 characters, one line, NFC, trimmed). */
export function validateAuthor(value: unknown): Validated<string> {
  return cleanField(value, "author", MAX_AUTHOR_LENGTH, false);
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
  const text = cleanField(fields.text, "text", MAX_TEXT_LENGTH, true);
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
  return {
    ok: true,
    value: { author: author.value, text: text.value, clientId },
  };
}

/** Checks the body of POST /typing: who is typing. */
export function validateTypingInput(input: unknown): Validated<string> {
  const fields = asObject(input);
  if (fields === null) {
    return { ok: false, error: 'Body must be an object with "author".' };
  }
  return validateAuthor(fields.author);
}
