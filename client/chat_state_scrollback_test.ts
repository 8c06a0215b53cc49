// The scrollback half of chat_state: loadOlder, loadNewer, loadLatest, the
// bounded list and the unread count, against a fake GET /messages.
import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import {
  type ChatState,
  createChatState,
  GAP_PAGE,
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

/** A server holding `ids`, answering before=, after= and neither like server/http/app.ts. */
function fakeServer(ids: number[]) {
  const urls: string[] = [];
  const server = {
    ids,
    urls,
    fail: false,
    // Runs once the answer is made, while it is "on its way", e.g. to
    // deliver live messages the answer does not hold.
    during: null as null | (() => void),
    fetch: (url: string) => {
      urls.push(url);
      const q = new URL(url, "http://x").searchParams;
      const limit = Number(q.get("limit") ?? 50);
      let page: number[];
      let more: boolean;
      if (q.has("after")) {
        const above = server.ids.filter((id) => id > Number(q.get("after")));
        page = above.slice(0, limit);
        more = above.length > limit;
      } else {
        const before = Number(q.get("before") ?? Infinity);
        const below = server.ids.filter((id) => id < before);
        page = below.slice(-limit);
        more = below.length > limit;
      }
      const response = server.fail
        ? new Response("<h1>502</h1>", { status: 502 })
        : Response.json({ messages: page.map(message), hasMore: more });
      server.during?.();
      return Promise.resolve(response);
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
  const state = createChatState(null, server.fetch);
  live(state, 71, 120);
  assert.equal(state.hasOlder.value, true);

  const loading = state.loadOlder();
  await state.loadOlder(); // a second call while loading does nothing
  await loading;
  assert.deepEqual(server.urls, ["/messages?before=71"]);
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
  const state = createChatState(null, server.fetch);
  live(state, 51, 60);
  server.fail = true;
  await state.loadOlder();
  assert.deepEqual(shown(state), range(51, 60));
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
  const state = createChatState(null, server.fetch);
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
  // A stream this tab opens now resumes after the newest it received, not
  // after the last shown.
  assert.equal(state.newestId(), total + 3);

  // Coming back down: contiguous pages, the oldest making way, no repeats.
  let last = MAX_KEPT_MESSAGES;
  while (state.hasNewer.value) {
    await state.loadNewer();
    // Each request asks for the ids after the last shown, a full page.
    assert.equal(
      server.urls.at(-1),
      `/messages?after=${last}&limit=${GAP_PAGE}`,
    );
    const ids = shown(state);
    assert.ok(ids.length <= MAX_KEPT_MESSAGES);
    assert.deepEqual(ids, range(ids[0], ids.at(-1)!));
    assert.ok(ids.at(-1)! > last);
    last = ids.at(-1)!;
  }
  assert.equal(last, total + 3);
  assert.equal(state.hasOlder.value, true);

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
  const state = createChatState(null, server.fetch);
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  for (const id of range(900, 920)) state.receiveMessage(message(id));
  assert.deepEqual(shown(state), range(1, MAX_KEPT_MESSAGES));
  assert.equal(state.hasNewer.value, true);
  assert.equal(state.unread.value, 21);

  // One request finds the next ids, however far the hole reaches.
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 920);
  assert.equal(shown(state).length, MAX_KEPT_MESSAGES);
  assert.equal(state.hasNewer.value, false);
  assert.deepEqual(server.urls, [
    `/messages?after=${MAX_KEPT_MESSAGES}&limit=${GAP_PAGE}`,
  ]);
});

Deno.test("messages arriving during a loadNewer keep it from claiming the end", async () => {
  const server = fakeServer(range(1, 400));
  const state = createChatState(null, server.fetch);
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

Deno.test("loadLatest far up jumps to the newest page; later live messages follow it", async () => {
  const server = fakeServer(range(1, 5000));
  const state = createChatState(null, server.fetch);
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  live(state, MAX_KEPT_MESSAGES + 1, 5000);
  assert.equal(state.unread.value, 5000 - MAX_KEPT_MESSAGES);

  state.setFollowing(true);
  await state.loadLatest();
  assert.deepEqual(server.urls, ["/messages?"]);
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

Deno.test("loadLatest far up still sees messages that came in during the wait", async () => {
  const server = fakeServer(range(1, 400));
  const state = createChatState(null, server.fetch);
  live(state, 1, MAX_KEPT_MESSAGES);
  state.setFollowing(false);
  live(state, MAX_KEPT_MESSAGES + 1, 400);
  state.setFollowing(true);
  server.during = () => {
    server.during = null;
    server.ids.push(401);
    state.receiveMessage(message(401));
  };
  await state.loadLatest();
  assert.deepEqual(shown(state), range(351, 400));
  assert.equal(state.hasNewer.value, true);
  await state.loadNewer();
  assert.deepEqual(shown(state), range(351, 401));
  assert.equal(state.hasNewer.value, false);
  assert.equal(state.unread.value, 0);
});

Deno.test("loadLatest at start joins the messages that arrived meanwhile", async () => {
  // A tab whose history no stream gave: another tab's relays come in
  // while the newest page is on its way.
  const server = fakeServer(range(1, 120));
  const state = createChatState(null, server.fetch);
  server.during = () => {
    server.ids.push(121);
    live(state, 121, 121);
  };
  await state.loadLatest();
  assert.deepEqual(server.urls, ["/messages?"]);
  assert.deepEqual(shown(state), range(71, 121));
  assert.equal(state.hasNewer.value, false);
  assert.equal(state.hasOlder.value, true);
  assert.equal(state.unread.value, 0);
  assert.equal(state.newestId(), 121);

  // A failed one changes nothing.
  server.fail = true;
  await state.loadLatest();
  assert.deepEqual(shown(state), range(71, 121));
});

Deno.test("showAround puts a fetched stretch in place of the list, away from the end; scrollback fills both sides, and at the end live messages join again", async () => {
  const server = fakeServer(range(1, 1000));
  const state = createChatState(null, server.fetch);
  live(state, 951, 1000);
  state.showAround(range(400, 450).map(message), true);
  assert.deepEqual(shown(state), range(400, 450));
  assert.equal(state.hasOlder.value, true);
  assert.equal(state.hasNewer.value, true);
  // Live messages wait for the reader to come back down.
  live(state, 1001, 1001);
  assert.deepEqual(shown(state), range(400, 450));
  assert.equal(state.unread.value, 1);
  // A late replay from before the stretch stays out.
  state.receiveMessage(message(10));
  await state.loadOlder();
  assert.equal(shown(state)[0], 400 - PAGE_SIZE);
  server.ids.push(1001);
  await state.loadNewer();
  assert.equal(shown(state).at(-1), 450 + GAP_PAGE);

  // A stretch that reaches the newest: nothing is missing after it.
  state.showAround(range(990, 1001).map(message), false);
  assert.equal(state.hasNewer.value, false);
  assert.equal(state.hasOlder.value, false);
  state.setFollowing(true);
  live(state, 1002, 1002);
  assert.equal(shown(state).at(-1), 1002);
  // Nothing to show changes nothing.
  state.showAround([], true);
  assert.equal(shown(state).length, 13);
});
