// The scrollback half of chat_state: loadOlder, loadNewer, the bounded list
// and the unread count, against a fake GET /messages?before=&limit=.
import assert from "node:assert/strict";
import type { Message } from "../server/message.ts";
import {
  type ChatState,
  createChatState,
  MAX_KEPT_MESSAGES,
  PAGE_SIZE,
} from "./chat_state.ts";

function message(id: number): Message {
  return {
    id,
    author: "ann",
    text: `m${id}`,
    createdAt: new Date(id * 1000).toISOString(),
    clientId: null,
  };
}

/** A server holding `ids`, answering scrollback like server/message_store.ts. */
function fakeServer(ids: number[]) {
  const urls: string[] = [];
  const server = {
    ids,
    urls,
    fail: false,
    // Runs while a request is "in flight", e.g. to deliver live messages.
    during: null as null | (() => void),
    fetch: (url: string) => {
      urls.push(url);
      const q = new URL(url, "http://x").searchParams;
      const before = Number(q.get("before"));
      const limit = Number(q.get("limit"));
      server.during?.();
      if (server.fail) {
        return Promise.resolve(new Response("<h1>502</h1>", { status: 502 }));
      }
      const below = server.ids.filter((id) => id < before);
      const page = below.slice(-limit);
      return Promise.resolve(
        Response.json({
          messages: page.map(message),
          hasMore: below.length > limit,
        }),
      );
    },
  };
  return server;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function shown(state: ChatState): number[] {
  return state.messages.value.map((m) => m.id);
}

function live(state: ChatState, from: number, to: number): void {
  for (const id of range(from, to)) state.receiveMessage(message(id));
}

Deno.test("loadOlder asks for the page before the first shown and puts it on top", async () => {
  const server = fakeServer(range(1, 120));
  const state = createChatState({ fetch: server.fetch });
  live(state, 71, 120);
  assert.equal(state.hasOlder.value, true);

  const loading = state.loadOlder();
  assert.equal(state.loadingOlder.value, true);
  await state.loadOlder(); // a second call while loading does nothing
  await loading;
  assert.equal(state.loadingOlder.value, false);
  assert.deepEqual(server.urls, [`/messages?before=71&limit=${PAGE_SIZE}`]);
  assert.deepEqual(shown(state), range(21, 120));
  assert.equal(state.hasOlder.value, true);

  await state.loadOlder();
  assert.deepEqual(shown(state), range(1, 120));
  assert.equal(state.hasOlder.value, false);
  await state.loadOlder(); // nothing older: no request
  assert.equal(server.urls.length, 2);
});

Deno.test("a failed loadOlder changes nothing and can be tried again", async () => {
  const server = fakeServer(range(1, 60));
  const state = createChatState({ fetch: server.fetch });
  live(state, 51, 60);
  server.fail = true;
  await state.loadOlder();
  assert.deepEqual(shown(state), range(51, 60));
  assert.equal(state.loadingOlder.value, false);
  assert.equal(state.hasOlder.value, true);
  server.fail = false;
  await state.loadOlder();
  assert.deepEqual(shown(state), range(1, 60));
});

Deno.test("following the end, the list keeps the newest MAX_KEPT_MESSAGES and nothing counts as unread", () => {
  const state = createChatState();
  live(state, 1, MAX_KEPT_MESSAGES + 50);
  assert.deepEqual(shown(state), range(51, MAX_KEPT_MESSAGES + 50));
  assert.equal(state.hasNewer.value, false);
  assert.equal(state.unread.value, 0);
});

Deno.test("far up, older pages push the newest out, arrivals are only counted, and loadNewer brings them back in order", async () => {
  const total = 1000;
  const server = fakeServer(range(1, total));
  const state = createChatState({ fetch: server.fetch });
  live(state, total - 49, total);
  state.setFollowing(false);
  while (shown(state)[0] > 1) {
    await state.loadOlder();
    assert.ok(shown(state).length <= MAX_KEPT_MESSAGES);
  }
  assert.deepEqual(shown(state), range(1, MAX_KEPT_MESSAGES));
  assert.equal(state.hasNewer.value, true);

  // New messages arrive while the reader is up there.
  server.ids.push(...range(total + 1, total + 3));
  live(state, total + 1, total + 3);
  live(state, total + 3, total + 3); // a repeat is not counted twice
  assert.equal(state.unread.value, 3);
  assert.deepEqual(shown(state), range(1, MAX_KEPT_MESSAGES));

  // Coming back down: contiguous pages, the oldest making way, no repeats.
  let last = MAX_KEPT_MESSAGES;
  while (state.hasNewer.value) {
    await state.loadNewer();
    const ids = shown(state);
    assert.ok(ids.length <= MAX_KEPT_MESSAGES);
    assert.deepEqual(ids, range(ids[0], ids.at(-1)!));
    assert.ok(ids.at(-1)! > last);
    last = ids.at(-1)!;
  }
  assert.equal(last, total + 3);
  assert.equal(state.hasOlder.value, true);
  // Each request asked only for ids after the last shown.
  assert.ok(server.urls.every((u) => !u.includes("before=0")));

  // Still not following: the count stays until the reader reaches the end.
  assert.equal(state.unread.value, 3);
  state.setFollowing(true);
  assert.equal(state.unread.value, 0);
  live(state, total + 4, total + 4);
  assert.equal(shown(state).at(-1), total + 4);
});

Deno.test("a full list stops growing when the reader is up; the newest are fetched again, across holes in the ids", async () => {
  // Ids jump by more than a page (rows a writer failed to insert).
  const ids = [...range(1, MAX_KEPT_MESSAGES), ...range(900, 920)];
  const server = fakeServer(ids);
  const state = createChatState({ fetch: server.fetch });
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  for (const id of range(900, 920)) state.receiveMessage(message(id));
  assert.deepEqual(shown(state), range(1, MAX_KEPT_MESSAGES));
  assert.equal(state.hasNewer.value, true);
  assert.equal(state.unread.value, 21);

  // It walks the hole in ranges of at most 200 ids, up to the first found.
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 900);
  assert.equal(state.hasNewer.value, true);
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 920);
  assert.equal(shown(state).length, MAX_KEPT_MESSAGES);
  assert.equal(state.hasNewer.value, false);
  assert.deepEqual(server.urls, [
    "/messages?before=501&limit=200",
    "/messages?before=701&limit=200",
    "/messages?before=901&limit=200",
    "/messages?before=921&limit=200",
  ]);
});

Deno.test("messages arriving during a loadNewer keep it from claiming the end", async () => {
  const server = fakeServer(range(1, 400));
  const state = createChatState({ fetch: server.fetch });
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  live(state, MAX_KEPT_MESSAGES + 1, 400);
  server.during = () => {
    server.during = null;
    server.ids.push(401);
    state.receiveMessage(message(401));
  };
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 400);
  assert.equal(state.hasNewer.value, true);
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 401);
  assert.equal(state.hasNewer.value, false);
});

Deno.test("loadNewer(true) jumps to the newest page; later live messages follow it", async () => {
  const server = fakeServer(range(1, 5000));
  const state = createChatState({ fetch: server.fetch });
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  live(state, MAX_KEPT_MESSAGES + 1, 5000);
  assert.equal(state.unread.value, 5000 - MAX_KEPT_MESSAGES);

  state.setFollowing(true);
  await state.loadNewer(true);
  assert.deepEqual(server.urls, [`/messages?before=5001&limit=${PAGE_SIZE}`]);
  assert.deepEqual(shown(state), range(5001 - PAGE_SIZE, 5000));
  assert.equal(state.hasNewer.value, false);
  assert.equal(state.hasOlder.value, true);
  assert.equal(state.unread.value, 0);
  // A late replay from before the jump stays out; live ones append.
  state.receiveMessage(message(10));
  live(state, 5001, 5001);
  assert.deepEqual(shown(state), range(5001 - PAGE_SIZE, 5001));
  // Scrolling up from here fetches what was skipped, in order.
  await state.loadOlder();
  assert.equal(shown(state)[0], 5001 - 2 * PAGE_SIZE);
});
