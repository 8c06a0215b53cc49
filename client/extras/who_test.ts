import assert from "node:assert/strict";
import { MAX_SUGGESTIONS, mentionQuery, suggestions } from "./who.tsx";

Deno.test("mentionQuery finds the @word before the caret, on the mention rule's boundary", () => {
  assert.deepEqual(mentionQuery("@"), [0, ""]);
  assert.deepEqual(mentionQuery("hi @Ad"), [3, "Ad"]);
  assert.deepEqual(mentionQuery("(@ad"), [1, "ad"]);
  assert.equal(mentionQuery("mail@ad"), null, "inside a word");
  assert.equal(
    mentionQuery("@ada "),
    null,
    "after a space the mention is done",
  );
  assert.equal(mentionQuery("hi"), null);
});

Deno.test("suggestions: who is here first, then recent authors, each key once, by prefix, without the reader", () => {
  assert.deepEqual(
    suggestions(
      "a",
      ["Ada", "bob", "Amir"],
      ["ada", "Anne", "me", "ANNE"],
      "Me",
    ),
    ["Ada", "Amir", "Anne"],
  );
  assert.deepEqual(suggestions("", ["bob"], ["me"], "me"), ["bob"]);
  // Fullwidth input folds like names do.
  assert.deepEqual(suggestions("ａ", ["Ada"], [], null), ["Ada"]);
  assert.deepEqual(suggestions("Ada L", ["Ada Lovelace"], [], null), [
    "Ada Lovelace",
  ]);
  const many = Array.from({ length: 20 }, (_, i) => `a${i}`);
  assert.equal(suggestions("a", many, [], null).length, MAX_SUGGESTIONS);
});
