/** A chat message as stored, streamed and returned by the API. */
export interface Message {
  id: number;
  author: string;
  text: string;
  /** ISO 8601 timestamp in UTC with millisecond precision. */
  createdAt: string;
}

/** What a client sends to post a message, after validation. */
export interface MessageInput {
  author: string;
  text: string;
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

/** Checks and normalises a message a client wants to post (NFC, trimmed, limits). */
export function validateMessageInput(input: unknown): Validated<MessageInput> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      ok: false,
      error: 'Body must be an object with "author" and "text".',
    };
  }
  const fields = input as Record<string, unknown>;
  const author = cleanField(fields.author, "author", MAX_AUTHOR_LENGTH, false);
  if (!author.ok) return author;
  const text = cleanField(fields.text, "text", MAX_TEXT_LENGTH, true);
  if (!text.ok) return text;
  return { ok: true, value: { author: author.value, text: text.value } };
}
