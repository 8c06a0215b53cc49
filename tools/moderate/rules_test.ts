import assert from "node:assert/strict";
import { describeHeld, describeRule, ruleBody } from "./rules.ts";

Deno.test("rules add and shorteners arguments become the POST bodies", () => {
  assert.deepEqual(
    ruleBody([
      "word",
      "buy now",
      "mute",
      "--minutes",
      "10",
      "--reason",
      "ads",
      "--substring",
    ]),
    {
      ok: true,
      body: {
        word: "buy now",
        action: "mute",
        minutes: 10,
        reason: "ads",
        substring: true,
      },
    },
  );
  assert.deepEqual(ruleBody(["hold"], false), {
    ok: true,
    body: { action: "hold" },
  });
  for (
    const [args, withPattern] of [
      [["phrase", "x", "refuse"], true],
      [["word", "x"], true],
      [["word", "x", "refuse", "--bogus"], true],
      [["hold", "--substring"], false],
      [[], false],
    ] as const
  ) {
    assert.equal(ruleBody([...args], withPattern).ok, false, args.join(" "));
  }
});

Deno.test("rules and held messages print on one line, or with the commands that act on them", () => {
  assert.equal(
    describeRule({
      id: 3,
      kind: "domain",
      pattern: "bit.ly",
      substring: false,
      action: "hold",
      muteMinutes: null,
      reason: null,
      createdAt: "2026-12-06T00:00:00.000Z",
    }),
    "3\thold\tdomain bit.ly (and subdomains)",
  );
  const lines = describeHeld({
    message: {
      id: 812,
      author: "O'Brien",
      text: "two\nlines",
      createdAt: "2026-12-06T00:00:00.000Z",
      clientId: null,
      verified: true,
      held: true,
    },
    ruleId: 3,
    matched: "bit.ly",
  });
  assert.deepEqual(lines, [
    'held 812: 2026-12-06T00:00:00.000Z, rule 3 matched "bit.ly"',
    "  O'Brien ✓: two ⏎ lines",
    "  post it:  deno task moderate held approve 812",
    "  drop it:  deno task moderate held reject 812",
    "  ban them: deno task moderate ban name 'O'\\''Brien'",
  ]);
});
