/** How an author looks in the list: a stable colour and avatar initials. */

/** How many author colours styles.css defines (.hue-0 … .hue-7). */
export const AUTHOR_HUES = 8;

/** The author's colour index: a hash of the name, the same on every screen. */
export function authorHue(author: string): number {
  let h = 0;
  for (let i = 0; i < author.length; i++) {
    h = (h * 31 + author.charCodeAt(i)) >>> 0;
  }
  return h % AUTHOR_HUES;
}

/** One or two capital letters for the avatar: the first of the first two words. */
export function initials(author: string): string {
  // With the u flag \S is a whole code point, so "😀 ada" gives "😀A".
  return (author.match(/(?<!\S)\S/gu) ?? []).slice(0, 2).join("")
    .toLocaleUpperCase();
}
