/**
 * The Postgres NOTIFY channels every instance LISTENs on. The migrations'
 * triggers notify the first; instances notify the other two themselves.
 */

/** Every change to the room, as `{"seq", "kind", "id", …}` JSON (db/migrations/005's notify_change). */
export const CHANGES_CHANNEL = "plaza_changes";
/** An instance's stream count changed: re-read the presence table. */
export const PRESENCE_CHANNEL = "plaza_presence";
/** Someone is typing: `{"author": …}`, never stored. */
export const TYPING_CHANNEL = "plaza_typing";
/** The bans table changed (db/migrations/006's trigger): re-read the active bans. */
export const BANS_CHANNEL = "plaza_bans";
/** A claim was made, moved or released (db/migrations/007's trigger): the payload is its key; cached claims of it are dropped. */
export const NAMES_CHANNEL = "plaza_names";
/** The slow_mode, room_notice or lockdown table changed (db/migrations/008's and 017's triggers): re-read the room's settings. */
export const ROOM_CHANNEL = "plaza_room";
/** The moderation_rules or rule_mutes table changed (db/migrations/018's triggers): re-read the rules and mutes. */
export const RULES_CHANNEL = "plaza_rules";
/** A message was held for a moderator (db/migrations/018): `{"id", "nameId"}`, for the streams of that claim. */
export const HELD_CHANNEL = "plaza_held";
