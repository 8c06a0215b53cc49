import assert from "node:assert/strict";
import { MAX_MARKS_IN_NAME, MAX_MARKS_IN_TEXT } from "./limits.ts";
import {
  validateAuthor,
  validateMessageInput,
  validateTypingInput,
} from "./message.ts";

Deno.test("validateMessageInput trims, normalises to NFC and keeps newlines", () => {
  const result = validateMessageInput({
    author: "  ada ",
    text: "  cafe\u0301\r\nline two\n",
  });
  assert.deepEqual(result, {
    ok: true,
    value: { author: "ada", text: "caf\u00e9\nline two", clientId: null },
  });
});

Deno.test("validateMessageInput counts code points, not UTF-16 units", () => {
  const emoji = "😀"; // two UTF-16 units, one code point
  assert.equal(
    validateMessageInput({ author: emoji.repeat(32), text: "x" }).ok,
    true,
  );
  assert.equal(
    validateMessageInput({ author: emoji.repeat(33), text: "x" }).ok,
    false,
  );
  assert.equal(
    validateMessageInput({ author: "a", text: emoji.repeat(2000) }).ok,
    true,
  );
  assert.equal(
    validateMessageInput({ author: "a", text: "x".repeat(2001) }).ok,
    false,
  );
});

Deno.test("validateMessageInput refuses bad input with a sentence naming the field", () => {
  const cases: [unknown, RegExp][] = [
    [null, /object/],
    [[], /object/],
    ["text", /object/],
    [{ text: "hi" }, /"author" is required/],
    [{ author: "ada" }, /"text" is required/],
    [{ author: 42, text: "hi" }, /"author" must be a string/],
    [{ author: "ada", text: ["hi"] }, /"text" must be a string/],
    [{ author: "   ", text: "hi" }, /"author" must not be empty/],
    [{ author: "ada", text: " \n\t " }, /"text" must not be empty/],
    [{ author: "a".repeat(33), text: "hi" }, /at most 32/],
    [{ author: "a\nb", text: "hi" }, /single line/],
    [{ author: "ada", text: "bell\u0007" }, /control characters/],
    [{ author: "ada", text: "tab\there" }, /control characters/],
    [{ author: "ada", text: "nul\u0000" }, /control characters/],
    [{ author: "ada", text: "c1\u0085" }, /control characters/],
    [{ author: "ada", text: "lone \ud800 surrogate" }, /valid Unicode/],
    [
      { author: "ada", text: "hi", clientId: "not-a-uuid" },
      /"clientId" must be a UUID/,
    ],
    [{ author: "ada", text: "hi", clientId: 7 }, /"clientId" must be a UUID/],
  ];
  for (const [input, pattern] of cases) {
    const result = validateMessageInput(input);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(input)}`);
    if (!result.ok) assert.match(result.error, pattern);
  }
});

Deno.test("validateMessageInput keeps a clientId, lowercased", () => {
  const result = validateMessageInput({
    author: "ada",
    text: "hi",
    clientId: "0F8FAD5B-D9CB-469F-A165-70867728950E",
  });
  assert.deepEqual(result, {
    ok: true,
    value: {
      author: "ada",
      text: "hi",
      clientId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    },
  });
});

/** Asserts that every name is refused with an error matching `pattern`. */
function assertNamesRefused(names: string[], pattern: RegExp) {
  for (const name of names) {
    const result = validateAuthor(name);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(name)}`);
    if (!result.ok) assert.match(result.error, pattern);
  }
}

Deno.test("validateAuthor refuses invisible (default-ignorable) characters", () => {
  assertNamesRefused([
    "ada\u200b",
    "ada\u2060",
    "ada\u180e",
    "ada\u034f",
    "\u3164",
    "\u200b\u200b\u200b",
    "a\u00adda",
    "a\ufeffda",
    "a\u200cda",
    "a\u200dda",
    "ada\ufe0f",
    "ada\ufe00",
    "\u115f\u1160ada",
    "ada\uffa0",
    "ada\u17b4",
    "ada\u{e0041}\u{e0042}",
    "\u{1f3f4}\u{e0067}\u{e0062}", // a flag's tags without CANCEL TAG
    "ada\u{e0100}",
  ], /"author" must not contain invisible characters \(U\+[0-9A-F]{4,5}\)/);
  // The error names the character.
  const zwsp = validateAuthor("ada\u200b");
  assert.equal(!zwsp.ok && zwsp.error.includes("U+200B"), true);
});

Deno.test("validateAuthor keeps the joiners and selectors that change what is drawn", () => {
  for (
    const name of [
      "\u2764\ufe0f sam", // red heart, emoji presentation
      "\u{1f3f3}\ufe0f\u200d\u{1f308} sam", // rainbow flag
      "\u{1f468}\u200d\u{1f469}\u200d\u{1f467}", // family
      "\u{1f9d1}\u{1f3fb}\u200d\u{1f91d}\u200d\u{1f9d1}\u{1f3fc}", // skin tones
      "#\ufe0f\u20e3", // keycap
      "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} ann", // England
      "\u0dc1\u0dca\u200d\u0dbb\u0dd3", // Sinhala "Sri": ZWJ after a virama
      "\u0915\u094d\u200c\u0937", // Devanagari: ZWNJ after a virama
      "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647", // Persian: ZWNJ between letters
      "\u845b\u{e0100}", // Han with an ideographic variation selector
    ]
  ) {
    assert.deepEqual(validateAuthor(name), { ok: true, value: name });
  }
});

Deno.test("validateAuthor folds fullwidth and other compatibility forms (NFKC)", () => {
  const cases: [string, string][] = [
    ["\uff41\uff44\uff41", "ada"], // fullwidth
    ["\u{1d41a}\u{1d41d}\u{1d41a}", "ada"], // mathematical bold
    ["\ufb01sh", "fish"], // ligature
    ["\u24b6da", "Ada"], // circled letter
    ["ada\u00a0lovelace", "ada lovelace"], // no-break space
  ];
  for (const [input, folded] of cases) {
    assert.deepEqual(validateAuthor(input), { ok: true, value: folded });
  }
  // Folding can lengthen a name; the limit applies to the result.
  assert.equal(validateAuthor("\u337f".repeat(8)).ok, true); // 32 once folded
  const long = validateAuthor("\u337f".repeat(9));
  assert.equal(
    !long.ok && /at most 32 characters \(got 36\)/.test(long.error),
    true,
  );
  // Text keeps what was typed.
  const text = validateMessageInput({ author: "a", text: "\uff41\ufb01" });
  assert.equal(text.ok && text.value.text, "\uff41\ufb01");
});

Deno.test("bidirectional controls: refused in names (messages and typing), kept in text", () => {
  const controls = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
  ];
  assertNamesRefused(
    controls.map((c) => `ada${c}x`),
    /"author" must not contain bidirectional controls \(U\+/,
  );
  const typing = validateTypingInput({ author: "\u202eevil" });
  assert.equal(!typing.ok && /bidirectional/.test(typing.error), true);
  for (const c of controls) {
    const text = `\u05e9\u05dc\u05d5\u05dd ${c}ok${c}`;
    assert.deepEqual(validateMessageInput({ author: "ada", text }), {
      ok: true,
      value: { author: "ada", text, clientId: null },
    });
  }
});

Deno.test("a name or text that draws nothing is refused", () => {
  assertNamesRefused(
    ["\u2800", "\u0301\u0301", "\u2800 \u0301"],
    /"author" must contain a visible letter, digit or symbol/,
  );
  for (const text of ["\u200b", "\u2800\n\u2800", "\u3164", "\u200d\u0301"]) {
    const result = validateMessageInput({ author: "ada", text });
    assert.equal(result.ok, false, `accepted ${JSON.stringify(text)}`);
    if (!result.ok) {
      assert.match(result.error, /"text" must contain a visible letter/);
    }
  }
  // One visible character is enough, emoji and punctuation included.
  for (const text of ["\u{1f389}", "...", "7", "\u200bx"]) {
    assert.equal(validateMessageInput({ author: "ada", text }).ok, true, text);
  }
});

Deno.test("combining marks are limited per base character, in names and text", () => {
  // "x" has no precomposed form with these marks, so NFC keeps them all.
  const marks = (n: number) =>
    "x" + "\u0301\u0323\u0302\u0308".repeat(n).slice(0, n);
  assert.equal(validateAuthor(marks(MAX_MARKS_IN_NAME)).ok, true);
  assertNamesRefused(
    [marks(MAX_MARKS_IN_NAME + 1), "a" + "\u0301".repeat(30)],
    /"author" must have at most 4 combining marks on one character/,
  );
  const post = (text: string) => validateMessageInput({ author: "ada", text });
  assert.equal(post(`zalgo ${marks(MAX_MARKS_IN_TEXT)} ok`).ok, true);
  for (
    const text of [
      "a" + "\u0301".repeat(1999),
      `zalgo ${marks(MAX_MARKS_IN_TEXT + 1)}`,
      // Invisible characters between the marks do not start a new run.
      "x\u0301\u0301\u0301\u200b\u0301\u0301\u0301\u200d\u0301",
    ]
  ) {
    const result = post(text);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(text)}`);
    if (!result.ok) {
      assert.match(
        result.error,
        /"text" must have at most 6 combining marks on one character/,
      );
    }
  }
  // Real stacks pass: Vietnamese, Thai, Tibetan, pointed Hebrew.
  for (
    const text of [
      "Nguye\u0302\u0303n Tie\u0302\u0301n",
      "\u0e19\u0e49\u0e33",
      "\u0f56\u0f66\u0f92\u0fb2\u0f74\u0f56\u0f66",
      "\u05e9\u05bc\u05c1\u05b4\u05d9\u05e8",
    ]
  ) {
    assert.equal(post(text).ok, true, text);
    assert.equal(validateAuthor(text).ok, true, text);
  }
});
