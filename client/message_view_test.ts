import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { GROUP_WINDOW_MS, messageRows } from "./message_view.ts";

let nextId = 1;
function msg(author: string, at: Date): Message {
  return {
    id: nextId++,
    author,
    text: "hi",
    createdAt: at.toISOString(),
    clientId: null,
  };
}

Deno.test("one author within 5 minutes is one group; a pause or another author starts one", () => {
  const t = new Date(2026, 10, 27, 12).getTime();
  const rows = messageRows([
    msg("ada", new Date(t)),
    msg("ada", new Date(t + 60_000)),
    msg("ada", new Date(t + 60_000 + GROUP_WINDOW_MS - 1)),
    msg("ada", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS)),
    msg("bob", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS + 1)),
    msg("ada", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS + 2)),
  ]);
  assert.deepEqual(rows.map((r) => r[2]), [
    true,
    false,
    false,
    true,
    true,
    true,
  ]);
  assert.equal(rows[0][1], t);
});

Deno.test("a new local day starts a group and gets a separator", () => {
  const rows = messageRows([
    msg("ada", new Date(2026, 10, 26, 23, 59)),
    msg("ada", new Date(2026, 10, 27, 0, 1)),
    msg("ada", new Date(2026, 10, 27, 0, 2)),
  ]);
  assert.deepEqual(rows.map((r) => r[3]), [true, true, false]);
  assert.deepEqual(rows.map((r) => r[2]), [true, true, false]);
  assert.deepEqual(messageRows([]), []);
});
