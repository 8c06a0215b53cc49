import assert from "node:assert/strict";
import {
  encodeMessageEvent,
  formatComment,
  formatEvent,
  formatRetry,
} from "./sse_format.ts";

Deno.test("formatEvent writes id, event and one data line per line", () => {
  assert.equal(
    formatEvent({ id: 7, event: "message", data: "a\nb\r\nc" }),
    "id: 7\nevent: message\ndata: a\ndata: b\ndata: c\n\n",
  );
  assert.equal(formatEvent({ data: "x" }), "data: x\n\n");
});

Deno.test("formatComment and formatRetry frame their lines", () => {
  assert.equal(formatComment("ping"), ": ping\n\n");
  assert.equal(formatComment("a\nb"), ": a b\n\n");
  assert.equal(formatRetry(2000), "retry: 2000\n\n");
});

Deno.test("encodeMessageEvent keeps a multi-line message on one data line", () => {
  const message = {
    id: 42,
    author: "ada",
    text: "line one\nline two\r<b>",
    createdAt: "2026-11-27T10:00:00.000Z",
    clientId: null,
  };
  const text = new TextDecoder().decode(encodeMessageEvent(message));
  const lines = text.split("\n");
  assert.deepEqual(lines.slice(0, 2), ["id: 42", "event: message"]);
  assert.ok(lines[2].startsWith("data: "));
  assert.deepEqual(JSON.parse(lines[2].slice(6)), message);
  assert.deepEqual(lines.slice(3), ["", ""]);
});

Deno.test("formatEvent refuses an id or event name that would split the frame", () => {
  for (const bad of ["a\nb", "a\rb", "a\r\nid: 9", "a\0b"]) {
    assert.throws(() => formatEvent({ event: bad, data: "x" }), RangeError);
    assert.throws(() => formatEvent({ id: bad, data: "x" }), RangeError);
  }
  // Data may hold newlines: they become further data lines.
  assert.equal(
    formatEvent({ id: 7, event: "message", data: "a\nb" }),
    "id: 7\nevent: message\ndata: a\ndata: b\n\n",
  );
});
