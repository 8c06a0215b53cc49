/**
 * Rules for display names beyond length and control characters. Pure
 * functions with no Deno APIs, so the browser can use them too (the client
 * loads this in its lazy chunk, client/pwa/pwa.ts).
 */

// The scripts most names are written in, each with the scripts it is
// normally written together with. Common (digits, punctuation, emoji) and
// Inherited (combining marks) belong to none, so they never make a name
// mixed. Letters of any other script count as one more script.
const SCRIPTS = [
  "Latin",
  "Cyrillic",
  "Greek",
  "Armenian",
  "Georgian",
  "Hebrew",
  "Arabic",
  "Devanagari",
  "Thai",
  "Cherokee",
  "Han",
  "Hiragana",
  "Katakana",
  "Hangul",
  "Bopomofo",
];
const TESTS = SCRIPTS.map((s) => new RegExp(`\\p{Script=${s}}`, "u"));
const OTHER = new RegExp(
  `[^\\p{Script=Common}\\p{Script=Inherited}${
    SCRIPTS.map((s) => `\\p{Script=${s}}`).join("")
  }]`,
  "u",
);

// Script sets that form one writing system (UTS #39's "highly
// restrictive" level): Japanese, Chinese with Bopomofo, Korean, each also
// with Latin.
const WRITING_SYSTEMS = [
  ["Latin", "Han", "Hiragana", "Katakana"],
  ["Latin", "Han", "Bopomofo"],
  ["Latin", "Han", "Hangul"],
];

/** Whether `name` mixes scripts that do not form one writing system (e.g. Latin with Cyrillic): a possible look-alike. */
export function isMixedScript(name: string): boolean {
  const used = SCRIPTS.filter((_, i) => TESTS[i].test(name));
  if (OTHER.test(name)) used.push("other");
  return used.length > 1 &&
    !WRITING_SYSTEMS.some((set) => used.every((s) => set.includes(s)));
}
