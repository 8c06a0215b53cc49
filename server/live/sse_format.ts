import {
  DELETE_EVENT,
  type DeleteEvent,
  EDIT_EVENT,
  MESSAGE_EVENT,
  PREVIEW_EVENT,
  type PreviewEvent,
  REACTION_EVENT,
  type ReactionEvent,
} from "../../protocol/events.ts";
import type { Message } from "../../protocol/message.ts";
import type { Change } from "../store/change_feed.ts";

const encoder = new TextEncoder();

// A CR or LF in an id or event name would end the field early and let the
// rest be read as another field (or a whole event); a NUL in an id makes
// EventSource ignore it.
const BAD_FIELD = /[\r\n\0]/;

/** Frames one SSE event; multi-line data becomes several `data:` lines. Throws on an id or event name with CR, LF or NUL. */
export function formatEvent(
  fields: { id?: number | string; event?: string; data: string },
): string {
  let out = "";
  if (fields.id !== undefined) {
    if (BAD_FIELD.test(String(fields.id))) {
      throw new RangeError("An SSE id must not contain CR, LF or NUL.");
    }
    out += `id: ${fields.id}\n`;
  }
  if (fields.event !== undefined) {
    if (BAD_FIELD.test(fields.event)) {
      throw new RangeError("An SSE event name must not contain CR, LF or NUL.");
    }
    out += `event: ${fields.event}\n`;
  }
  for (const line of fields.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Frames an SSE comment, ignored by EventSource but keeping proxies and watchdogs awake. */
export function formatComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** Frames the reconnection delay an EventSource should use. */
export function formatRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** The bytes of a `message` event; encoded once and written to every stream. */
export function encodeMessageEvent(message: Message): Uint8Array {
  // JSON.stringify escapes CR and LF, so the payload is always one data line.
  return encoder.encode(
    formatEvent({
      id: message.id,
      event: MESSAGE_EVENT,
      data: JSON.stringify(message),
    }),
  );
}

/**
 * The bytes of a change's event, its `id:` the change's number; null for a
 * `gone` change, which sends nothing.
 */
export function encodeChangeEvent(change: Change): Uint8Array | null {
  switch (change.kind) {
    case "message":
      return encodeMessageEvent(change.message);
    case "edit":
      return encoder.encode(formatEvent({
        id: change.seq,
        event: EDIT_EVENT,
        data: JSON.stringify(change.message),
      }));
    case "delete":
      return encoder.encode(formatEvent({
        id: change.seq,
        event: DELETE_EVENT,
        data: JSON.stringify({ id: change.id } satisfies DeleteEvent),
      }));
    case "reaction":
      return encoder.encode(formatEvent({
        id: change.seq,
        event: REACTION_EVENT,
        data: JSON.stringify(
          {
            id: change.id,
            reactions: change.reactions,
          } satisfies ReactionEvent,
        ),
      }));
    case "preview":
      return encoder.encode(formatEvent({
        id: change.seq,
        event: PREVIEW_EVENT,
        data: JSON.stringify(
          { id: change.id, preview: change.preview } satisfies PreviewEvent,
        ),
      }));
    case "gone":
      return null;
  }
}

/** Encodes any SSE text for writing. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}
