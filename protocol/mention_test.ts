import assert from "node:assert/strict";
import { mentionPattern } from "./mention.ts";

Deno.test("a mention is @name in any case, not part of a longer word", () => {
  const ada = mentionPattern("ada");
  for (const text of ["@ada", "hi @Ada!", "(@ADA)", "@ada, hi", "x\n@ada"]) {
    assert.ok(ada.test(text), text);
  }
  for (
    const text of ["ada", "@adam", "x@ada.test", "@ad a", "_@ada", "@ada_b"]
  ) {
    assert.ok(!ada.test(text), text);
  }
});

Deno.test("names with spaces, accents and regex characters match literally", () => {
  assert.ok(mentionPattern("Ada Lovelace").test("thanks @ada lovelace."));
  assert.ok(mentionPattern("José").test("@JOSÉ?"));
  assert.ok(!mentionPattern("José").test("@Josée"));
  const odd = mentionPattern("a.b*(c)");
  assert.ok(odd.test("@a.b*(c) hi"));
  assert.ok(!odd.test("@axbbb(c)"));
});
