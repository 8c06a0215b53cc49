import assert from "node:assert/strict";
import {
  bidiControl,
  isMixedScript,
  nameScripts,
  strayIgnorable,
} from "./name_rules.ts";

Deno.test("isMixedScript marks Latin mixed with Cyrillic or Greek, not one script or one writing system", () => {
  const mixed = [
    "\u0430da", // Cyrillic a, Latin d a
    "p\u0430yp\u0430l",
    "\u03bfscar", // Greek omicron
    "ada \u0645\u0631\u062d\u0628\u0627",
    "\u0e44\u0e17\u0e22 \u0ea5\u0eb2\u0ea7", // Thai with Lao
  ];
  for (const name of mixed) assert.equal(isMixedScript(name), true, name);
  const single = [
    "ada",
    "Zo\u00eb 42!",
    "\u0430\u0434\u0430", // all Cyrillic
    "\u0395\u03bb\u03b5\u03bd\u03b7",
    "\u{1d41a}\u{1d41d}\u{1d41a}", // mathematical letters are Common
    "\u{1f98a} fox",
    "e\u0301mile", // the mark is Inherited
    "\u3072\u3089\u304c\u306a\u6f22\u5b57\u30ab\u30bf\u30ab\u30ca ada", // Japanese + Latin
    "\ud55c\uad6d\uc5b4 \u6f22\u5b57", // Korean
    "\u6ce8\u97f3 \u3105\u3106", // Chinese with Bopomofo
    "",
    "123 ...",
  ];
  for (const name of single) assert.equal(isMixedScript(name), false, name);
});

Deno.test("nameScripts lists the scripts by ISO 15924 code, Common and Inherited left out", () => {
  assert.deepEqual(nameScripts("ada"), ["Latn"]);
  assert.deepEqual(nameScripts("\u0430da"), ["Cyrl", "Latn"]);
  assert.deepEqual(nameScripts("e\u0301 1 \u{1f98a}"), ["Latn"]);
  assert.deepEqual(nameScripts("42 \u{1f98a}"), []);
  assert.deepEqual(nameScripts("\u05e9\u05dc\u05d5\u05dd \u0f56"), [
    "Hebr",
    "Tibt",
  ]);
});

Deno.test("bidiControl and strayIgnorable name the first offending character", () => {
  assert.equal(bidiControl("ok"), null);
  assert.equal(bidiControl("a\u2067b\u202e"), "U+2067");
  assert.equal(strayIgnorable("ada"), null);
  assert.equal(strayIgnorable("a\u200bb\u2060"), "U+200B");
  assert.equal(strayIgnorable("x\u{e0041}"), "U+E0041");
  // A well-formed flag's tags are allowed, a stray tag after it is not.
  assert.equal(
    strayIgnorable(
      "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
    ),
    null,
  );
  assert.equal(
    strayIgnorable("\u{1f3f4}\u{e0067}\u{e007f}\u{e0041}"),
    "U+E0041",
  );
  // ZWJ only between pictographs; a skin tone or VS16 may sit before it.
  assert.equal(strayIgnorable("\u{1f44b}\u{1f3fd}\u200d\u{1f525}"), null);
  assert.equal(strayIgnorable("\u{1f44b}\u200da"), "U+200D");
  assert.equal(strayIgnorable("\u200d\u{1f525}"), "U+200D");
});
