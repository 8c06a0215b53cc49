/**
 * Which words of a search result to mark. The server matches stemmed words
 * (PostgreSQL's English stemmer); here a rough stand-in is enough: a word
 * of the text is marked when it starts with a query word cut to its stem.
 */

// Common English endings, cut so that "running" also marks "runs".
const ENDINGS = /(?:ing|ed|es|s)$/;
// A stem shorter than this is kept whole: "is" is not cut to "i".
const MIN_STEM = 3;
const WORD = /[\p{L}\p{N}]+/gu;

/** The stems of a websearch query's words; words after "-" (excluded) and the operator "or" are left out. */
export function queryStems(query: string): string[] {
  const stems: string[] = [];
  for (const token of query.toLowerCase().split(/\s+/)) {
    if (token.startsWith("-") || token === "or") continue;
    for (const word of token.match(WORD) ?? []) {
      // "running" → "runn" → "run", which "runs" also starts with.
      const cut = ENDINGS.test(word)
        ? word.replace(ENDINGS, "").replace(/(\p{L})\1$/u, "$1")
        : word;
      stems.push(cut.length >= MIN_STEM ? cut : word);
    }
  }
  return stems;
}

/** Splits text into plain and marked pieces, alternating: odd indices are to be marked. Joined, they give the text back. */
export function highlight(text: string, stems: readonly string[]): string[] {
  const parts: string[] = [];
  let plainFrom = 0;
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (!stems.some((s) => word.startsWith(s))) continue;
    parts.push(text.slice(plainFrom, match.index), match[0]);
    plainFrom = match.index + match[0].length;
  }
  parts.push(text.slice(plainFrom));
  return parts;
}
