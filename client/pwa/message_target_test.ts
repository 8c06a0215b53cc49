import assert from "node:assert/strict";
import { targetMessageId } from "./message_target.ts";

Deno.test("a fragment names a message as #message-<id>, and nothing else does", () => {
  assert.equal(targetMessageId("#message-42"), 42);
  assert.equal(targetMessageId("#message-1"), 1);
  for (
    const hash of [
      "",
      "#",
      "#message-",
      "#message-x",
      "#message-4 2",
      "#messages-4",
      "#message-1234567890123456",
    ]
  ) {
    assert.equal(targetMessageId(hash), null, hash);
  }
});
