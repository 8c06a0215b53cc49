// Where the last visit stopped reading, and the badge's count (unread.ts).
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import {
  LAST_READ_KEY,
  readLastRead,
  storeLastRead,
  unreadMentions,
} from "./unread.ts";

function fakeStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

Deno.test("the last read id only moves forward, and anything unreadable is none", () => {
  const storage = fakeStorage();
  assert.equal(readLastRead(storage), 0);
  storeLastRead(storage, 40);
  assert.equal(readLastRead(storage), 40);
  // Another tab of this device read further already.
  storeLastRead(storage, 12);
  assert.equal(readLastRead(storage), 40);
  for (const junk of ["x", "-3", "1.5", "1e400"]) {
    storage.map.set(LAST_READ_KEY, junk);
    assert.equal(readLastRead(storage), 0, junk);
  }
  assert.equal(readLastRead(null), 0);
});

Deno.test("unreadMentions counts the unread messages that mention the reader, not their own", () => {
  const msg = (id: number, text: string, clientId: string | null = null) =>
    ({
      id,
      author: "bob",
      text,
      createdAt: new Date(0).toISOString(),
      clientId,
    }) satisfies Message;
  const list = [
    msg(1, "@ada old"),
    msg(2, "hello"),
    msg(3, "@Ada hi"),
    msg(4, "mail@ada.example"),
    msg(5, "@ada from me", "mine"),
  ];
  const isOwn = (m: Message) => m.clientId === "mine";
  assert.equal(unreadMentions(list, 4, "ada", isOwn), 1);
  assert.equal(unreadMentions(list, 5, "ada", isOwn), 2);
  assert.equal(unreadMentions(list, 0, "ada", isOwn), 0);
  assert.equal(unreadMentions(list, 5, null, isOwn), 0);
});
