import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { GROUP_WINDOW_MS, messageRows } from "./message_view.ts";

let nextId = 1;
function msg(
  author: string,
  at: Date,
  clientId: string | null = null,
): Message {
  return {
    id: nextId++,
    author,
    text: "hi",
    createdAt: at.toISOString(),
    clientId,
  };
}

const nobodys = () => false;

Deno.test("one author within 5 minutes is one group; a pause or another author starts one", () => {
  const t = new Date(2026, 10, 27, 12).getTime();
  const rows = messageRows([
    msg("ada", new Date(t)),
    msg("ada", new Date(t + 60_000)),
    msg("ada", new Date(t + 60_000 + GROUP_WINDOW_MS - 1)),
    msg("ada", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS)),
    msg("bob", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS + 1)),
    msg("ada", new Date(t + 60_000 + 2 * GROUP_WINDOW_MS + 2)),
  ], nobodys);
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
  ], nobodys);
  assert.deepEqual(rows.map((r) => r[3]), [true, true, false]);
  assert.deepEqual(rows.map((r) => r[2]), [true, true, false]);
  assert.deepEqual(messageRows([], nobodys), []);
});

Deno.test("own messages and others' under the same name never share a group", () => {
  const t = new Date(2026, 10, 27, 12).getTime();
  const rows = messageRows([
    msg("ada", new Date(t), "mine-1"),
    msg("ada", new Date(t + 1000)), // posted as "ada" from elsewhere
    msg("ada", new Date(t + 2000), "mine-2"),
    msg("ada", new Date(t + 3000), "mine-3"),
  ], (m) => m.clientId?.startsWith("mine") ?? false);
  assert.deepEqual(rows.map((r) => r[4]), [true, false, true, true]);
  assert.deepEqual(rows.map((r) => r[2]), [true, true, true, false]);
});

Deno.test("a claimed and an unclaimed use of one name do not share a header", () => {
  const t = new Date(2026, 10, 27, 12);
  const old = msg("ada", t);
  const claimed = { ...msg("ada", t), verified: true };
  const unclaimed = { ...msg("ada", t), verified: false };
  const rows = messageRows([old, unclaimed, claimed, claimed], nobodys);
  assert.deepEqual(rows.map((r) => r[2]), [true, false, true, false]);
});
