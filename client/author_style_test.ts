import assert from "node:assert/strict";
import { AUTHOR_HUES, authorHue, initials } from "./author_style.ts";

Deno.test("authorHue is stable, in range, and spreads names over the hues", () => {
  assert.equal(authorHue("ada"), authorHue("ada"));
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const hue = authorHue(`user${i}`);
    assert.ok(Number.isInteger(hue) && hue >= 0 && hue < AUTHOR_HUES);
    seen.add(hue);
  }
  assert.equal(seen.size, AUTHOR_HUES);
});

Deno.test("initials: one or two capitals from the first words, code points whole", () => {
  assert.equal(initials("ada"), "A");
  assert.equal(initials("Ada Lovelace"), "AL");
  assert.equal(initials("jean  claude van damme"), "JC");
  assert.equal(initials("élodie"), "É");
  assert.equal(initials("😀 party"), "😀P");
  assert.equal(initials("𝒜lice"), "𝒜");
});
