/**
 * The event names of GET /stream and what each carries, for the server that
 * writes them and the client that reads them. docs/api.md describes them.
 *
 * `message`, `edit`, `delete`, `reaction` and `preview` are changes: each has an `id:`
 * line, its position in the room's one change log (a message's id is the
 * position of its creation), so resuming after an id replays every later
 * change. In each, `data.id` is the id of the message changed.
 *
 * `hello`, `presence`, `typing` and `room` are not changes: they have no
 * `id:` and are never replayed. `room` is state: each stream gets the
 * current one as it goes live, then every change of it.
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
/** How many streams the room has open and under which names; data is a PresenceEvent. */
export const PRESENCE_EVENT = "presence";
/** Someone is typing; data is a TypingEvent. */
export const TYPING_EVENT = "typing";
/** The first event of every stream; data is a HelloEvent. */
export const HELLO_EVENT = "hello";
/** The room's settings (slow mode, pinned notice, lockdown) as they are now; data is a RoomEvent. */
export const ROOM_EVENT = "room";

/** The name of an event Plaza's stream sends. */
export type EventName =
  | typeof MESSAGE_EVENT
  | typeof EDIT_EVENT
  | typeof DELETE_EVENT
  | typeof REACTION_EVENT
  | typeof PREVIEW_EVENT
  | typeof PRESENCE_EVENT
  | typeof TYPING_EVENT
  | typeof HELLO_EVENT
  | typeof ROOM_EVENT;

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
  /**
   * The names streams are open under anywhere (GET /stream?name=), each
   * once, sorted case-insensitively, at most 200; streams without a name
   * count in `online` only.
   */
  names: string[];
}

/** Data of a `typing` event. */
export interface TypingEvent {
  author: string;
}

/** Data of a `hello` event: the heartbeat interval, for the client's watchdog. */
export interface HelloEvent {
  heartbeatMs: number;
}

/** Slow mode as it is now: one message per name per `seconds`. */
export interface SlowMode {
  seconds: number;
  /** When it ends by itself (ISO time); null = until cleared. */
  until: string | null;
  /** Who switched it on: a moderator, or the room itself under heavy traffic. */
  by: "moderator" | "auto";
}

/** The room's pinned notice: light markdown (client/markdown.ts), at most MAX_NOTICE_LENGTH characters. */
export interface RoomNotice {
  text: string;
  /** Grows with every notice set, so a device that collapsed an older one shows the new one. */
  version: number;
  /** When it was set (ISO time). */
  setAt: string;
}

/**
 * The room is read-only: for everyone (`all`), or for names claimed after
 * `since` and names not claimed at all (`newer`, against a raid).
 */
export interface Lockdown {
  scope: "all" | "newer";
  /** ISO time; null when the scope is `all`. */
  since: string | null;
  /** The moderator's reason, shown to those it stops; null when none was given. */
  reason: string | null;
  /** When it was switched on (ISO time). */
  setAt: string;
}

/**
 * Data of a `room` event, and the answer of GET /room: each setting is null
 * while it is off. Every stream gets it as it opens (a resume too), so a
 * client that reconnects always has the current settings.
 */
export interface RoomEvent {
  slowMode: SlowMode | null;
  notice: RoomNotice | null;
  lockdown: Lockdown | null;
}
