import assert from "node:assert/strict";
import { permalink, targetMessageId } from "./message_target.ts";

const at = (path: string) => new URL(path, "https://plaza.example");

Deno.test("a permalink /m/<id> names a message; a garbled one names none (0); / names nothing", () => {
  assert.equal(permalink(42), "/m/42");
  assert.equal(targetMessageId(at("/m/42")), 42);
  assert.equal(targetMessageId(at("/m/1?x=1#y")), 1);
  for (const path of ["/m/", "/m/x", "/m/4%202", "/m/1234567890123456"]) {
    assert.equal(targetMessageId(at(path)), 0, path);
  }
  for (const path of ["/", "/embed", "/m", "/m/4/2", "/mm/4"]) {
    assert.equal(targetMessageId(at(path)), null, path);
  }
});

Deno.test("the fragment older notifications carry, #message-<id>, still names a message, and nothing else like it does", () => {
  assert.equal(targetMessageId(at("/#message-42")), 42);
  assert.equal(targetMessageId(at("/#message-1")), 1);
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
    assert.equal(targetMessageId(at(`/${hash}`)), null, hash);
  }
});
