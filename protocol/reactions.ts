/**
 * Reactions: the fixed set of emoji a name may put on a message, and the
 * shape a message carries them in. Shared by the server (which refuses any
 * other emoji) and the client (which offers these).
 */
import type { Validated } from "./validated.ts";

/** The emoji a reaction may be, in the order a message lists them. */
export const REACTION_EMOJIS = ["👍", "❤️", "😂", "🎉", "😮", "😢"] as const;

/** One of REACTION_EMOJIS. */
export type ReactionEmoji = typeof REACTION_EMOJIS[number];

/** Most names a reaction lists (the first to react); `count` counts them all. */
export const MAX_REACTION_NAMES = 50;

/** One emoji's reactions on a message: how many names chose it, and the first MAX_REACTION_NAMES of them in the order they reacted. */
export interface Reaction {
  emoji: ReactionEmoji;
  count: number;
  names: string[];
}

// Spellings taken for an emoji of the set: the heart is often typed without
// its emoji presentation selector (U+FE0F).
const SPELLINGS: ReadonlyMap<string, ReactionEmoji> = new Map<
  string,
  ReactionEmoji
>([
  ...REACTION_EMOJIS.map((e) => [e, e] as const),
  ["\u2764", "❤️"],
]);

/** Checks the body of POST /messages/<id>/reactions: `{"emoji": one of REACTION_EMOJIS}`. */
export function validateReactionInput(
  input: unknown,
): Validated<ReactionEmoji> {
  const emoji = typeof input === "object" && input !== null &&
      !Array.isArray(input)
    ? (input as Record<string, unknown>).emoji
    : undefined;
  const found = typeof emoji === "string"
    ? SPELLINGS.get(emoji.trim())
    : undefined;
  if (found === undefined) {
    return {
      ok: false,
      error: `Field "emoji" must be one of ${REACTION_EMOJIS.join(" ")}.`,
    };
  }
  return { ok: true, value: found };
}
