import assert from "node:assert/strict";
import { createChatState } from "./chat_state.ts";
import type { FetchLike } from "./fetch_like.ts";
import { until } from "../test/harness/wait.ts";

const SLOW = { seconds: 10, until: null, by: "auto" } as const;

/** Claims answer with a token; posts with `post`'s status and body, counted. */
function fakeFetch(post: () => [number, unknown]) {
  let posts = 0;
  const fetch: FetchLike = (url) => {
    const [status, body] = url === "/names"
      ? [201, { token: "t" }]
      : (posts++, post());
    return Promise.resolve(
      new Response(JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      }),
    );
  };
  return { fetch, posts: () => posts };
}

Deno.test("slow mode: recorded from room events; after a send the reader waits S seconds, and off lets them send at once", () => {
  const { fetch } = fakeFetch(() => [503, {}]);
  const state = createChatState(null, fetch, 0);
  state.setName("ann");
  assert.equal(state.slowMode.value, null);
  // Off: sends are not held back.
  assert.ok(state.sendMessage("one"));
  assert.equal(state.sendAt.value, 0);

  state.setSlowMode(SLOW);
  assert.deepEqual(state.slowMode.value, SLOW);
  const before = Date.now();
  assert.ok(state.sendMessage("two"));
  const wait = state.sendAt.value - before;
  assert.ok(wait >= 10_000 && wait < 11_000, `waits ${wait} ms`);
  assert.equal(state.sendMessage("three"), false, "too soon");
  assert.deepEqual(state.outbox.value.map((i) => i.text), ["one", "two"]);

  state.setSlowMode(null);
  assert.equal(state.sendAt.value, 0);
  assert.ok(state.sendMessage("three"));
});

Deno.test("slow mode: a 429 from the server shows its sentence, not a generic error, and stays retryable", async () => {
  const sentence =
    "Slow mode is on: one message every 10 s per name. You can post again in 7 s.";
  const { fetch, posts } = fakeFetch(() => [429, { error: sentence }]);
  const state = createChatState(null, fetch, 0);
  state.setName("ann");
  state.setSlowMode(SLOW);
  state.sendMessage("hello");
  await until(() => state.outbox.value[0]?.state === "failed");
  const [item] = state.outbox.value;
  assert.equal(item.error, sentence);
  assert.equal(item.refused, false);
  assert.equal(posts(), 1);
});
