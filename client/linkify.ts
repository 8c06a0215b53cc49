/** Finds web links in message text so they can be rendered as <a> elements. */

// Only http(s). The last character may not be sentence punctuation, so a
// trailing ")", ".", "," or "!" stays text; \b keeps "xhttp://" from matching
// inside a word. Invisible format characters (\p{Cf}: bidi controls, zero
// widths) end a link too: inside one, its text would not read as its href.
// The capture group makes split() keep the links.
const LINK = /\b(https?:\/\/[^\s<>"\p{Cf}]*[^\s<>".,!?:;'")\]\p{Cf}])/iu;

/**
 * Splits text into plain and link parts: even indexes are plain text, odd
 * ones are http(s) URLs. Joined, the parts give back the text unchanged.
 */
export function linkify(text: string): string[] {
  return text.split(LINK);
}
