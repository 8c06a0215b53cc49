/**
 * The limits both sides check: the server refuses beyond them, the client
 * says so before sending. Plain constants, so the client bundle inlines them.
 */

/** Most characters (Unicode code points) an author name may have. */
export const MAX_AUTHOR_LENGTH = 32;
/** Most characters (Unicode code points) a message text may have. */
export const MAX_TEXT_LENGTH = 2000;
/**
 * Most combining marks one character of a name may carry. Real names need
 * up to 3 (Vietnamese 2 once composed, Thai and Indic stacks 3); "Zalgo"
 * text stacks dozens, which spill over the lines around.
 */
export const MAX_MARKS_IN_NAME = 4;
/** The same for message text, a little looser for pointed, cantillated Hebrew and Tibetan stacks. */
export const MAX_MARKS_IN_TEXT = 6;

/**
 * Control characters (C0, DEL, C1) refused in names and text. Newlines are
 * allowed in text only and are checked for separately; the database enforces
 * the same rule in a CHECK.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u;

/** Most pictures one message may carry. */
export const MAX_ATTACHMENTS = 4;
/** Most characters (code points) of a picture's alt text. */
export const MAX_ALT_LENGTH = 1000;
/** Longest side, in pixels, of a picture's thumbnail (GET /attachments/<id>/thumb). */
export const THUMB_MAX_SIDE = 400;
/** The picture types POST /attachments accepts; a picture is stored and served as one of these. */
export const ATTACHMENT_TYPES = [
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/gif",
] as const;
