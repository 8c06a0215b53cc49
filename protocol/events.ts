/**
 * The event names of GET /stream and what each carries, for the server that
 * writes them and the client that reads them. docs/api.md describes them.
 *
 * `message`, `edit`, `delete`, `reaction` and `preview` are changes: each has an `id:`
 * line, its position in the room's one change log (a message's id is the
 * position of its creation), so resuming after an id replays every later
 * change. In each, `data.id` is the id of the message changed.
 */
import type { LinkPreview, Message } from "./message.ts";
import type { Reaction } from "./reactions.ts";

/** A new message; data is a Message, the event id its id. */
export const MESSAGE_EVENT = "message";
/** A message's text changed; data is an EditEvent (the whole message as it is now). */
export const EDIT_EVENT = "edit";
/** A message was removed; data is a DeleteEvent. */
export const DELETE_EVENT = "delete";
/** A message's reactions changed; data is a ReactionEvent. */
export const REACTION_EVENT = "reaction";
/** A message's link preview arrived (or was taken back); data is a PreviewEvent. */
export const PREVIEW_EVENT = "preview";
/** How many streams the room has open; data is a PresenceEvent. */
export const PRESENCE_EVENT = "presence";
/** Someone is typing; data is a TypingEvent. */
export const TYPING_EVENT = "typing";
/** The first event of every stream; data is a HelloEvent. */
export const HELLO_EVENT = "hello";

/** The name of an event Plaza's stream sends. */
export type EventName =
  | typeof MESSAGE_EVENT
  | typeof EDIT_EVENT
  | typeof DELETE_EVENT
  | typeof REACTION_EVENT
  | typeof PREVIEW_EVENT
  | typeof PRESENCE_EVENT
  | typeof TYPING_EVENT
  | typeof HELLO_EVENT;

/** Data of an `edit` event: the message as it is now (its `editedAt` set). */
export type EditEvent = Message;

/** Data of a `delete` event: the id of the message removed. */
export interface DeleteEvent {
  id: number;
}

/** Data of a `reaction` event: a message's reactions as they are now. */
export interface ReactionEvent {
  /** The message's id. */
  id: number;
  reactions: Reaction[];
}

/** Data of a `preview` event: a message's link preview as it is now (null: none). */
export interface PreviewEvent {
  /** The message's id. */
  id: number;
  preview: LinkPreview | null;
}

/** Data of a `presence` event. */
export interface PresenceEvent {
  online: number;
}

/** Data of a `typing` event. */
export interface TypingEvent {
  author: string;
}

/** Data of a `hello` event: the heartbeat interval, for the client's watchdog. */
export interface HelloEvent {
  heartbeatMs: number;
}
