/**
 * The Postgres NOTIFY channels every instance LISTENs on. The migrations'
 * triggers notify the first two; instances notify the other two themselves.
 */

/** A committed message's JSON (db/migrations/001_messages.sql's trigger). */
export const MESSAGES_CHANNEL = "plaza_messages";
/** A deleted message's bare id (db/migrations/003_deletes.sql's trigger). */
export const DELETES_CHANNEL = "plaza_deletes";
/** An instance's stream count changed: re-read the presence table. */
export const PRESENCE_CHANNEL = "plaza_presence";
/** Someone is typing: `{"author": …}`, never stored. */
export const TYPING_CHANNEL = "plaza_typing";
