// "New since you left" in chat_state: openUnread opens at the first message
// after the last read one (fetching the page that starts there when the
// list begins later), and lastRead, where the divider goes, lasts until the
// reader comes back down to the end or sends.
import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { createChatState, GAP_PAGE } from "./chat_state.ts";

function message(id: number): Message {
  return {
    id,
    author: "ann",
    text: `m${id}`,
    createdAt: new Date(id * 1000).toISOString(),
    clientId: null,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** GET /messages?after= over messages 1..last, and the URLs asked for. */
function fakeServer(last: number) {
  const urls: string[] = [];
  return {
    urls,
    fetch(url: string) {
      urls.push(url);
      const q = new URL(url, "http://x").searchParams;
      const after = Number(q.get("after"));
      const limit = Number(q.get("limit"));
      const ids = range(after + 1, last);
      return Promise.resolve(Response.json({
        messages: ids.slice(0, limit).map(message),
        hasMore: ids.length > limit,
      }));
    },
  };
}

function live(ids: number[], state = createChatState()) {
  for (const id of ids) state.receiveMessage(message(id));
  return state;
}

Deno.test("openUnread: a last read id before the list fetches the page after it, which takes the list's place", async () => {
  const server = fakeServer(400);
  const state = createChatState(null, server.fetch);
  live(range(351, 400), state);
  await state.openUnread(120);
  assert.deepEqual(server.urls, [`/messages?after=120&limit=${GAP_PAGE}`]);
  assert.deepEqual(
    state.messages.value.map((m) => m.id),
    range(121, 120 + GAP_PAGE),
  );
  assert.equal(state.lastRead.value, 120);
  // The rest comes with scrolling down, the rest of the history with up.
  assert.equal(state.hasNewer.value, true);
  assert.equal(state.hasOlder.value, true);
});

Deno.test("openUnread: a last read id within the list only sets the divider; none when all was read", async () => {
  const server = fakeServer(60);
  const state = createChatState(null, server.fetch);
  live(range(11, 60), state);
  await state.openUnread(55);
  assert.equal(state.lastRead.value, 55);
  assert.equal(state.messages.value.length, 50);
  const fresh = live(range(11, 60), createChatState(null, server.fetch));
  await fresh.openUnread(60);
  await fresh.openUnread(70);
  assert.equal(fresh.lastRead.value, 0);
  assert.deepEqual(server.urls, []);
});

Deno.test("the divider stays while the view opens at the end, and goes once the reader comes back down to it, or sends", async () => {
  // Sends go nowhere: the divider goes as the send starts.
  const offline = () => Promise.reject(new TypeError("offline"));
  const state = live(range(1, 20), createChatState(null, offline, 0));
  await state.openUnread(15);
  // All that is new fits: the view is at the end from the start.
  state.setFollowing(true);
  state.receiveMessage(message(21));
  assert.equal(state.lastRead.value, 15);
  // Up, then down again.
  state.setFollowing(false);
  assert.equal(state.lastRead.value, 15);
  state.setFollowing(true);
  assert.equal(state.lastRead.value, 0);

  await state.openUnread(18);
  assert.equal(state.lastRead.value, 18);
  state.setName("ada");
  assert.equal(state.sendMessage("I read them"), true);
  assert.equal(state.lastRead.value, 0);
});
