/** Finds web links in message text so they can be rendered as <a> elements. */

// Only http(s). The last character may not be sentence punctuation, so a
// trailing ")", ".", "," or "!" stays text, and so does a trailing "*" or "_"
// (markdown's, as in "**https://x.test**"). No letter or digit may come
// before it: "xhttp://" inside a word is not a link, "_http://" is.
// Invisible format characters (\p{Cf}: bidi controls, zero widths) end a
// link too: inside one, its text would not read as its href. The capture
// group makes split() keep the links.
/** A web link in text; client/markdown.ts tokenizes with it. */
export const LINK =
  /(?<![\p{L}\p{N}])(https?:\/\/[^\s<>"\p{Cf}]*[^\s<>".,!?:;'")\]*_\p{Cf}])/iu;

/**
 * Splits text into plain and link parts: even indexes are plain text, odd
 * ones are http(s) URLs. Joined, the parts give back the text unchanged.
 */
export function linkify(text: string): string[] {
  return text.split(LINK);
}
