/**
 * Rules for display names that go beyond length and control characters:
 * which invisible characters a name may hold, and which scripts it mixes.
 * Pure functions with no Deno APIs, so the browser bundle can import them.
 */

// Bidirectional controls: embeddings, overrides and isolates, plus the
// implicit marks. In a name they can reorder what follows it on screen.
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
const EMOJI = /\p{Emoji}/u;
const SKIN_TONE = /[\u{1f3fb}-\u{1f3ff}]/u;
// A subdivision flag: 🏴, tag letters, CANCEL TAG (England, Scotland, Wales).
const FLAG_TAGS = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu;
const HAN = /\p{Script=Han}/u;
const ARABIC_LETTER = /(?=\p{L})\p{Script=Arabic}/u;
// Canonical_Combining_Class=Virama (Unicode 14), which JavaScript regexes
// cannot name: after one, ZWJ and ZWNJ choose a conjunct's form.
const VIRAMA =
  /[\u094D\u09CD\u0A4D\u0ACD\u0B4D\u0BCD\u0C4D\u0CCD\u0D3B\u0D3C\u0D4D\u0DCA\u0E3A\u0EBA\u0F84\u1039\u103A\u1714\u1715\u1734\u17D2\u1A60\u1B44\u1BAA\u1BAB\u1BF2\u1BF3\u2D7F\uA806\uA82C\uA8C4\uA953\uA9C0\uAAF6\uABED\u{10A3F}\u{11046}\u{11070}\u{1107F}\u{110B9}\u{11133}\u{11134}\u{111C0}\u{11235}\u{112EA}\u{1134D}\u{11442}\u{114C2}\u{115BF}\u{1163F}\u{116B6}\u{1172B}\u{11839}\u{1193D}\u{1193E}\u{119E0}\u{11A34}\u{11A47}\u{11A99}\u{11C3F}\u{11D44}\u{11D45}\u{11D97}]/u;

/** The first bidirectional control in `s` (as "U+202E"), or null. */
export function bidiControl(s: string): string | null {
  const found = BIDI_CONTROL.exec(s);
  return found === null ? null : codePointLabel(found[0]);
}

/**
 * The first default-ignorable code point in `s` (as "U+200B") that is not
 * doing a visible job, or null. Allowed are only the uses that change what
 * is drawn: ZWJ between emoji, VS15/VS16 after an emoji, the tags of a
 * subdivision flag after 🏴, an ideographic variation selector after a Han
 * character, ZWJ/ZWNJ after a virama and ZWNJ between Arabic letters (the
 * contexts RFC 5892 allows joiners in).
 */
export function strayIgnorable(s: string): string | null {
  const chars = Array.from(s.replace(FLAG_TAGS, "\u{1f3f4}"));
  for (let i = 0; i < chars.length; i++) {
    if (IGNORABLE.test(chars[i]) && !allowedIgnorable(chars, i)) {
      return codePointLabel(chars[i]);
    }
  }
  return null;
}

function allowedIgnorable(chars: string[], i: number): boolean {
  const c = chars[i].codePointAt(0)!;
  const before = chars[i - 1] ?? "";
  const after = chars[i + 1] ?? "";
  if (c === 0xfe0e || c === 0xfe0f) return EMOJI.test(before);
  if (c >= 0xe0100 && c <= 0xe01ef) return HAN.test(before);
  if (c === 0x200c || c === 0x200d) {
    if (VIRAMA.test(before)) return true;
    if (c === 0x200c) {
      return ARABIC_LETTER.test(before) && ARABIC_LETTER.test(after);
    }
    // Look past VS16 and a skin tone to the pictograph they belong to.
    let j = i - 1;
    while (j > 0 && (chars[j] === "\ufe0f" || SKIN_TONE.test(chars[j]))) j--;
    return PICTOGRAPH.test(chars[j] ?? "") && PICTOGRAPH.test(after);
  }
  return false;
}

function codePointLabel(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

// ISO 15924 codes of the scripts a letter can belong to (Unicode 16), less
// Common, Inherited and Unknown, which never make a name mixed.
const SCRIPT_CODES =
  "Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb";

// Script sets that belong together in one writing system (UTS #39's
// "highly restrictive" level): Japanese, Chinese with Bopomofo, Korean,
// each also with Latin.
const WRITING_SYSTEMS = [
  ["Latn", "Hani", "Hira", "Kana"],
  ["Latn", "Hani", "Bopo"],
  ["Latn", "Hani", "Hang"],
];

let scriptTests: [string, RegExp][] | null = null;

function scriptRegexes(): [string, RegExp][] {
  if (scriptTests === null) {
    scriptTests = [];
    for (const code of SCRIPT_CODES.split(" ")) {
      // An engine on an older Unicode version lacks the newest scripts;
      // their letters then simply count as no script.
      try {
        scriptTests.push([code, new RegExp(`\\p{Script=${code}}`, "u")]);
      } catch {
        // Unknown to this engine.
      }
    }
  }
  return scriptTests;
}

/** The ISO 15924 codes of the scripts whose characters `name` uses (Common and Inherited left out), sorted. */
export function nameScripts(name: string): string[] {
  // Most names are ASCII: Latin letters or none.
  // deno-lint-ignore no-control-regex -- an ASCII range, not a control test
  if (/^[\u0000-\u007f]*$/.test(name)) {
    return /[A-Za-z]/.test(name) ? ["Latn"] : [];
  }
  return scriptRegexes().filter(([, re]) => re.test(name)).map(([code]) =>
    code
  );
}

/** Whether `name` mixes scripts that do not form one writing system (e.g. Latin with Cyrillic): a possible look-alike. */
export function isMixedScript(name: string): boolean {
  const scripts = nameScripts(name);
  return scripts.length > 1 &&
    !WRITING_SYSTEMS.some((set) => scripts.every((s) => set.includes(s)));
}
