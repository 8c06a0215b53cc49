/**
 * The text of a notification, as the service worker receives it. Kept
 * short: a lock screen shows a line or two, and a push message must stay
 * under about 4 KB once encrypted.
 */

/** Most characters of message text a notification carries. */
export const PUSH_TEXT_LIMIT = 120;

/** Authors named in a collapsed notification; more become "and others". */
export const PUSH_NAMED_AUTHORS = 3;

/** The JSON the service worker gets (the HTTP contract with the client). */
export interface PushPayload {
  title: "Plaza";
  body: string;
  tag: "plaza";
  /** Opens the room scrolled to `messageId`. */
  url: string;
  messageId: number;
}

/** One message as a notification may quote it (text already cut by previewText). */
export interface QuotedMessage {
  messageId: number;
  author: string;
  text: string;
}

/** What a subscriber has not been told yet (computed by materialize.ts). */
export interface PendingSummary {
  messageCount: number;
  /** Distinct authors in order of appearance, at most PUSH_NAMED_AUTHORS + 1. */
  authors: string[];
  firstMessageId: number;
  last: QuotedMessage;
  /** The latest message among them that mentions the subscriber. */
  mention: QuotedMessage | null;
}

/** At most PUSH_TEXT_LIMIT characters (code points) of `text` on one line; "…" marks a cut. */
export function previewText(text: string): string {
  // A notification is a line or two: newlines and runs of spaces would waste it.
  const flat = text.replace(/\s+/gu, " ").trim();
  const chars = Array.from(flat);
  if (chars.length <= PUSH_TEXT_LIMIT) return flat;
  return chars.slice(0, PUSH_TEXT_LIMIT - 1).join("").trimEnd() + "…";
}

/** "ada, bob" or "ada, bob, carol and others". */
function names(authors: readonly string[]): string {
  const shown = authors.slice(0, PUSH_NAMED_AUTHORS).join(", ");
  return authors.length > PUSH_NAMED_AUTHORS ? `${shown} and others` : shown;
}

function payload(body: string, messageId: number): PushPayload {
  return {
    title: "Plaza",
    body,
    tag: "plaza",
    url: `/m/${messageId}`,
    messageId,
  };
}

/**
 * The notification for a pending summary: a mention quotes the mentioning
 * message; a single message is quoted; several collapse into "3 new
 * messages from ada, bob", opening at the first of them.
 */
export function buildPayload(summary: PendingSummary): PushPayload {
  const { mention, last, messageCount } = summary;
  if (mention !== null) {
    const more = messageCount > 1 ? ` (+${messageCount - 1} more)` : "";
    return payload(
      `${mention.author}: ${mention.text}${more}`,
      mention.messageId,
    );
  }
  if (messageCount === 1) {
    return payload(`${last.author}: ${last.text}`, last.messageId);
  }
  return payload(
    `${messageCount} new messages from ${names(summary.authors)}`,
    summary.firstMessageId,
  );
}
