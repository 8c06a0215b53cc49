/**
 * Pictures attached to messages: the shape both sides share and the check of
 * what a client sends with a message. Uploading is POST /attachments (the
 * image as the body); a message then names the uploads it carries.
 */
import type { Validated } from "./validated.ts";
import {
  type ATTACHMENT_TYPES,
  CONTROL_CHARACTERS,
  MAX_ALT_LENGTH,
  MAX_ATTACHMENTS,
} from "./limits.ts";

/** A stored picture's type (what GET /attachments/<id> answers with). */
export type AttachmentType = typeof ATTACHMENT_TYPES[number];

/** A picture as a message carries it. */
export interface Attachment {
  /** GET /attachments/<id> serves it, /attachments/<id>/thumb its thumbnail. */
  id: string;
  width: number;
  height: number;
  type: AttachmentType;
  /** The sender's description for people who cannot see it; may be empty. */
  alt: string;
}

/** The answer of POST /attachments. */
export interface UploadedAttachment {
  id: string;
  width: number;
  height: number;
  type: AttachmentType;
  /** Size of the stored picture (after its metadata was removed). */
  bytes: number;
}

/** What a client sends in POST /messages' `attachments`, after validation. */
export interface AttachmentRef {
  id: string;
  alt: string;
}

/** An attachment id: 16 random bytes in base64url, no padding. */
export const ATTACHMENT_ID = /^[A-Za-z0-9_-]{22}$/;

/** Checks `attachments` of a message: absent or up to MAX_ATTACHMENTS distinct `{id, alt}`. */
export function validateAttachmentRefs(
  value: unknown,
): Validated<AttachmentRef[]> {
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (!Array.isArray(value)) {
    return {
      ok: false,
      error: 'Field "attachments" must be a list of {"id", "alt"}.',
    };
  }
  if (value.length > MAX_ATTACHMENTS) {
    return {
      ok: false,
      error:
        `A message carries at most ${MAX_ATTACHMENTS} pictures (got ${value.length}).`,
    };
  }
  const refs: AttachmentRef[] = [];
  for (const item of value) {
    const fields = typeof item === "object" && item !== null &&
        !Array.isArray(item)
      ? item as Record<string, unknown>
      : null;
    if (
      fields === null || typeof fields.id !== "string" ||
      !ATTACHMENT_ID.test(fields.id)
    ) {
      return {
        ok: false,
        error:
          'Each of "attachments" must be {"id", "alt"} with an id from POST /attachments.',
      };
    }
    if (refs.some((r) => r.id === fields.id)) {
      return {
        ok: false,
        error: `Picture ${fields.id} is attached twice.`,
      };
    }
    const alt = validateAlt(fields.alt);
    if (!alt.ok) return alt;
    refs.push({ id: fields.id, alt: alt.value });
  }
  return { ok: true, value: refs };
}

/** Checks an alt text: optional, NFC, trimmed, at most MAX_ALT_LENGTH characters, no control characters but newlines. */
export function validateAlt(value: unknown): Validated<string> {
  if (value === undefined || value === null) return { ok: true, value: "" };
  if (typeof value !== "string" || !value.isWellFormed()) {
    return { ok: false, error: 'An "alt" must be text.' };
  }
  const alt = value.replace(/\r\n?/g, "\n").normalize("NFC").trim();
  const length = [...alt].length;
  if (length > MAX_ALT_LENGTH) {
    return {
      ok: false,
      error:
        `An "alt" must be at most ${MAX_ALT_LENGTH} characters (got ${length}).`,
    };
  }
  if (CONTROL_CHARACTERS.test(alt)) {
    return {
      ok: false,
      error: 'An "alt" must not contain control characters.',
    };
  }
  return { ok: true, value: alt };
}
