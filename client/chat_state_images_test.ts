import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { createChatState, type NameStorage } from "./chat_state.ts";
import type { FetchLike } from "./fetch_like.ts";
import { deliver, OUTBOX_KEY, readOutbox } from "./outbox.ts";
import { until } from "../test/harness/wait.ts";

function memoryStorage() {
  const data = new Map<string, string>();
  const storage: NameStorage = {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
  return { storage, data };
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function echo(text: string, clientId: string): Message {
  return {
    id: 1,
    author: "ann",
    text,
    createdAt: new Date().toISOString(),
    clientId,
  };
}

// A fetch that claims names and answers each POST /messages with its message.
function server() {
  const posts: Record<string, string>[] = [];
  const fetch: FetchLike = (url, init) => {
    if (url === "/names") return Promise.resolve(json({ token: "t" }, 201));
    const form = Object.fromEntries(init.body as URLSearchParams);
    posts.push(form);
    return Promise.resolve(json(echo(form.text, form.clientId), 201));
  };
  return { fetch, posts };
}

Deno.test("pictures without words can be sent: the send carries them and the composer's strip empties", () => {
  const { fetch } = server();
  const state = createChatState(null, fetch, 0);
  state.setName("ann");
  assert.equal(state.sendMessage("  "), false, "nothing to send yet");
  state.setImages([{ key: "k1", alt: "a cat" }]);
  assert.equal(state.sendMessage("  "), true);
  assert.deepEqual(state.outbox.value[0].images, [{ key: "k1", alt: "a cat" }]);
  assert.equal(state.outbox.value[0].text, "");
  assert.deepEqual(state.images.value, []);
});

Deno.test("a send with pictures waits for the lent uploader and goes through it; sends after it keep their order", async () => {
  const { fetch, posts } = server();
  const state = createChatState(null, fetch, 0);
  state.setName("ann");
  state.setImages([{ key: "k1", alt: "" }]);
  state.sendMessage("look");
  state.sendMessage("words only, after");
  // No uploader yet: the picture's send waits, and those after it keep
  // their order behind it.
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(posts.length, 0);
  assert.equal(state.outbox.value.length, 2);

  const uploaded: string[] = [];
  state.setUploader((f, item, timeout, token) => {
    uploaded.push(...item.images!.map((p) => p.key));
    return deliver(f, item, timeout, token);
  });
  await until(() => state.outbox.value.length === 0);
  assert.deepEqual(uploaded, ["k1"]);
  assert.deepEqual(posts.map((p) => p.text), ["look", "words only, after"]);
});

Deno.test("a text-only send never waits for the uploader", async () => {
  const { fetch, posts } = server();
  const state = createChatState(null, fetch, 0);
  state.setName("ann");
  state.sendMessage("hello");
  await until(() => state.outbox.value.length === 0);
  assert.equal(posts.length, 1);
});

Deno.test("a stored picture-only send survives a reload of the outbox", () => {
  const { storage, data } = memoryStorage();
  const state = createChatState(storage, () => new Promise(() => {}), 0);
  state.setName("ann");
  state.setImages([{ key: "k1", alt: "kept" }]);
  state.sendMessage("");
  assert.match(data.get(OUTBOX_KEY)!, /"images":\[\{"key":"k1"/);
  const [again] = readOutbox(storage);
  assert.equal(again.state, "failed");
  assert.deepEqual(again.images, [{ key: "k1", alt: "kept" }]);
});
