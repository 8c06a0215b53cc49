/**
 * Folding text for moderators' word rules: two spellings that read the same
 * fold to the same string, so a rule cannot be dodged with capitals,
 * fullwidth or mathematical letters, look-alike letters of another script,
 * accents or invisible characters. The first two steps are the names' rule
 * (NFKC in lower case, protocol/names.ts nameKey); look-alikes follow the
 * spirit of Unicode's confusables (UTS #39) for the letters that pass for
 * Latin ones. Digits are left alone ("0" is not "o"): numbers must stay
 * numbers.
 */
import { nameKey } from "./names.ts";

// Cyrillic and Greek letters (lower case, as folding lowers first) that
// look like a Latin letter in common fonts, capitals included (Cyrillic Н
// lowers to н, which is folded as the "h" it looked like), and a few Latin
// variants NFKC leaves alone.
const LOOK_ALIKES: Record<string, string> = {
  "а": "a",
  "в": "b",
  "е": "e",
  "к": "k",
  "м": "m",
  "н": "h",
  "о": "o",
  "п": "n",
  "р": "p",
  "с": "c",
  "т": "t",
  "у": "y",
  "х": "x",
  "ѕ": "s",
  "і": "i",
  "ї": "i",
  "ј": "j",
  "ԁ": "d",
  "ԛ": "q",
  "ԝ": "w",
  "ӏ": "l",
  "һ": "h",
  "ү": "y",
  "α": "a",
  "β": "b",
  "γ": "y",
  "ε": "e",
  "η": "n",
  "ι": "i",
  "κ": "k",
  "ν": "v",
  "ο": "o",
  "ρ": "p",
  "τ": "t",
  "υ": "u",
  "χ": "x",
  "ω": "w",
  "ı": "i",
  "ɑ": "a",
  "ɡ": "g",
  "ſ": "s",
};
const LOOK_ALIKE = new RegExp(`[${Object.keys(LOOK_ALIKES).join("")}]`, "gu");
// Accents on Latin, Greek and Cyrillic letters (Combining Diacritical
// Marks) once decomposed. Marks of other scripts carry vowels and stay.
const ACCENT = /[\u0300-\u036f]/g;
// Latin-1 letters up to Greek Extended: every letter that may carry an
// accent or pass for a Latin one (LOOK_ALIKES), and the accents themselves.
const LATIN_GREEK_CYRILLIC = /[\u00c0-\u1fff]/;
// Characters that draw nothing, slipped between letters to break a word.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
// deno-lint-ignore no-control-regex -- an ASCII range, not a control test
const ASCII = /^[\u0000-\u007f]*$/;
/** A word in folded text: letters, digits and the marks on them. */
export const FOLDED_WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** `text` folded for matching: NFKC, lower case, look-alikes as Latin, Latin/Greek/Cyrillic accents and invisible characters dropped. */
export function foldText(text: string): string {
  // What names are compared by: NFKC (as validateAuthor), then nameKey.
  const s = nameKey(text.normalize("NFKC"));
  // Most messages are plain ASCII: nothing below would change them.
  if (ASCII.test(s)) return s;
  const visible = s.replace(INVISIBLE, "");
  // Accents and look-alikes are all in this range: text outside it (emoji,
  // CJK) skips the decomposing, which costs most on long texts.
  if (!LATIN_GREEK_CYRILLIC.test(visible)) return visible;
  // Accents first, so an accented look-alike ("ά") is the plain one.
  return visible.normalize("NFD").replace(ACCENT, "")
    .replace(LOOK_ALIKE, (c) => LOOK_ALIKES[c]).normalize("NFC");
}

// FOLDED_WORD on folded ASCII text (lower case already), without the cost
// of Unicode property classes.
const ASCII_WORD = /[a-z0-9]+/g;

/** The words of `text` once folded, in order. */
export function foldedWords(text: string): string[] {
  const folded = foldText(text);
  return folded.match(ASCII.test(folded) ? ASCII_WORD : FOLDED_WORD) ?? [];
}
