/**
 * What counts as a link in a message's text, for the client that renders
 * links and the server that previews the first one: the same rule on both
 * sides, so the preview is of a link the reader sees.
 */

// Only http(s). The last character may not be sentence punctuation, so a
// trailing ")", ".", "," or "!" stays text, and so does a trailing "*" or "_"
// (markdown's, as in "**https://x.test**"). No letter or digit may come
// before it: "xhttp://" inside a word is not a link, "_http://" is.
// Invisible format characters (\p{Cf}: bidi controls, zero widths) end a
// link too: inside one, its text would not read as its href. The capture
// group makes split() keep the links.
/** An http(s) link in text (one capture group: the link); client/markdown.ts tokenizes with it. */
export const LINK =
  /(?<![\p{L}\p{N}])(https?:\/\/[^\s<>"\p{Cf}]*[^\s<>".,!?:;'")\]*_\p{Cf}])/iu;

/** The first http(s) link in `text`, as written, or null. */
export function firstLink(text: string): string | null {
  return LINK.exec(text)?.[1] ?? null;
}
