/**
 * The event names of GET /stream and what each carries, for the server that
 * writes them and the client that reads them. docs/api.md describes them.
 */

/** A new message; data is a Message, the event id its id. */
export const MESSAGE_EVENT = "message";
/** A message was removed; data is a DeleteEvent. */
export const DELETE_EVENT = "delete";
/** How many streams the room has open; data is a PresenceEvent. */
export const PRESENCE_EVENT = "presence";
/** Someone is typing; data is a TypingEvent. */
export const TYPING_EVENT = "typing";
/** The first event of every stream; data is a HelloEvent. */
export const HELLO_EVENT = "hello";

/** The name of an event Plaza's stream sends. */
export type EventName =
  | typeof MESSAGE_EVENT
  | typeof DELETE_EVENT
  | typeof PRESENCE_EVENT
  | typeof TYPING_EVENT
  | typeof HELLO_EVENT;

/** Data of a `delete` event. */
export interface DeleteEvent {
  id: number;
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
