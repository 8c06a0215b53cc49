import assert from "node:assert/strict";
import {
  buildPayload,
  type PendingSummary,
  previewText,
  PUSH_TEXT_LIMIT,
} from "./payload.ts";

function summary(overrides: Partial<PendingSummary> = {}): PendingSummary {
  return {
    messageCount: 1,
    authors: ["ada"],
    firstMessageId: 7,
    last: { messageId: 7, author: "ada", text: "hello" },
    mention: null,
    ...overrides,
  };
}

Deno.test("previewText keeps at most 120 characters, on one line", () => {
  assert.equal(previewText("  hi\n\nthere  "), "hi there");
  const exact = "x".repeat(PUSH_TEXT_LIMIT);
  assert.equal(previewText(exact), exact);
  const long = previewText("y".repeat(500));
  assert.equal(Array.from(long).length, PUSH_TEXT_LIMIT);
  assert.ok(long.endsWith("…"));
  // Characters are code points: an emoji is not cut in half.
  const emoji = previewText("😀".repeat(200));
  assert.equal(Array.from(emoji).length, PUSH_TEXT_LIMIT);
  assert.ok(emoji.isWellFormed());
});

Deno.test("one message is quoted and opens at itself", () => {
  assert.deepEqual(buildPayload(summary()), {
    title: "Plaza",
    body: "ada: hello",
    tag: "plaza",
    url: "/m/7",
    messageId: 7,
  });
});

Deno.test("several messages collapse into a count and the authors, opening at the first", () => {
  const p = buildPayload(summary({
    messageCount: 3,
    authors: ["ada", "bob"],
    last: { messageId: 9, author: "ada", text: "third" },
  }));
  assert.equal(p.body, "3 new messages from ada, bob");
  assert.equal(p.messageId, 7);
  assert.equal(p.url, "/m/7");
  const many = buildPayload(summary({
    messageCount: 12,
    authors: ["ada", "bob", "carol", "dan"],
  }));
  assert.equal(many.body, "12 new messages from ada, bob, carol and others");
});

Deno.test("a mention quotes the mentioning message, whatever came with it", () => {
  const p = buildPayload(summary({
    messageCount: 4,
    authors: ["ada", "bob"],
    mention: { messageId: 8, author: "bob", text: "@carol look" },
  }));
  assert.equal(p.body, "bob: @carol look (+3 more)");
  assert.equal(p.messageId, 8);
  assert.equal(p.url, "/m/8");
});
