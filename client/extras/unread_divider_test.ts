// The divider's words and place (client/extras/unread_divider.tsx).
import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import { dividerPlace, MAX_COUNTED, unreadLabel } from "./unread_divider.tsx";

const m = (id: number): Message => ({
  id,
  author: "ann",
  text: "hi",
  createdAt: new Date(0).toISOString(),
  clientId: null,
});

Deno.test("unreadLabel: one, many, capped at 99+, and a + when more are beyond the list", () => {
  assert.equal(unreadLabel(1, false), "1 new message");
  assert.equal(unreadLabel(7, false), "7 new messages");
  assert.equal(unreadLabel(MAX_COUNTED, false), "99 new messages");
  assert.equal(unreadLabel(MAX_COUNTED + 1, false), "99+ new messages");
  assert.equal(unreadLabel(250, true), "99+ new messages");
  assert.equal(unreadLabel(1, true), "1+ new messages");
});

Deno.test("dividerPlace: above the first message after the last read one, counting it and those after", () => {
  const list = [m(3), m(5), m(8), m(9)];
  assert.deepEqual(dividerPlace(list, 4), [5, 3]);
  assert.deepEqual(dividerPlace(list, 1), [3, 4]);
  assert.equal(dividerPlace(list, 9), null);
  assert.equal(dividerPlace(list, 0), null);
});
