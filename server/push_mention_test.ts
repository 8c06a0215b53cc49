import assert from "node:assert/strict";
import { mentionPattern as clientPattern } from "../client/mention.ts";
import { mentionPattern } from "./push_mention.ts";

const CASES: [name: string, text: string][] = [
  ["ada", "@ada"],
  ["ada", "hi @Ada!"],
  ["ada", "(@ADA)"],
  ["ada", "x\n@ada"],
  ["ada", "ada"],
  ["ada", "@adam"],
  ["ada", "x@ada.test"],
  ["ada", "_@ada"],
  ["ada", "@ada_b"],
  ["Ada Lovelace", "thanks @ada lovelace."],
  ["José", "@JOSÉ?"],
  ["José", "@Josée"],
  ["a.b*(c)", "@a.b*(c) hi"],
  ["a.b*(c)", "@axbbb(c)"],
  ["[x]", "@[x]"],
  ["ß", "@SS"],
];

Deno.test("push mentions follow the client's rule exactly", () => {
  for (const [name, text] of CASES) {
    assert.equal(
      mentionPattern(name).test(text),
      clientPattern(name).test(text),
      `${name} in ${JSON.stringify(text)}`,
    );
  }
  // The same source, so a change to one without the other fails here.
  assert.equal(mentionPattern.toString(), clientPattern.toString());
  assert.ok(mentionPattern("ada").test("hi @Ada!"));
  assert.ok(!mentionPattern("ada").test("@adam"));
});
