import assert from "node:assert/strict";
import { highlight, queryStems } from "./highlight.ts";

Deno.test("queryStems cuts common endings, keeps short words whole and skips -excluded words and or", () => {
  assert.deepEqual(queryStems("Running CATS or -dogs is"), [
    "run",
    "cat",
    "is",
  ]);
  assert.deepEqual(queryStems('"red apples" köln!'), ["red", "appl", "köln"]);
  assert.deepEqual(queryStems("  "), []);
});

Deno.test("highlight marks whole words that start with a stem, and the pieces give the text back", () => {
  const text = "She runs; I was running. <b>Run</b>, brunch & Köln";
  const parts = highlight(text, queryStems("running köln"));
  assert.deepEqual(parts.filter((_, i) => i % 2), [
    "runs",
    "running",
    "Run",
    "Köln",
  ]);
  assert.equal(parts.join(""), text);
  assert.deepEqual(highlight("nothing here", ["zzz"]), ["nothing here"]);
  assert.deepEqual(highlight("x", []), ["x"]);
});
