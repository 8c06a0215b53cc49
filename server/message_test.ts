import assert from "node:assert/strict";
import { validateMessageInput } from "./message.ts";

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
