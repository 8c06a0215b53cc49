import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { createChatState, type NameStorage } from "./chat_state.ts";
import type { FetchLike } from "./fetch_like.ts";
import { TOKEN_KEY } from "./names.ts";
import { until } from "../test/harness/wait.ts";

interface Call {
  url: string;
  form: Record<string, string>;
  auth: string | undefined;
}

// A fake server: answer(call) gives status and body for each request.
function fakeServer(answer: (call: Call) => [number, unknown] | Error) {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    const call = {
      url,
      form: Object.fromEntries(init.body as URLSearchParams),
      auth: (init.headers as Record<string, string>).Authorization,
    };
    calls.push(call);
    const a = answer(call);
    if (a instanceof Error) return Promise.reject(a);
    return Promise.resolve(
      new Response(JSON.stringify(a[1]), { status: a[0] }),
    );
  };
  return { fetch, calls };
}

function stored(call: Call, id: number): [number, Message] {
  const { author, text, clientId } = call.form;
  return [201, {
    id,
    author,
    text,
    clientId,
    createdAt: new Date(id * 1000).toISOString(),
    verified: true,
  }];
}

function memoryStorage() {
  const data = new Map<string, string>();
  const storage: NameStorage = {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
  return { storage, data };
}

Deno.test("the first send claims the name, keeps its token and posts with it; later sends reuse it", async () => {
  const { fetch, calls } = fakeServer((call) =>
    call.url === "/names"
      ? [201, { name: "Eve", token: "tok-1" }]
      : stored(call, calls.length)
  );
  const { storage, data } = memoryStorage();
  const chat = createChatState(storage, fetch, 0);
  chat.setName("Eve");
  chat.sendMessage("one");
  chat.sendMessage("two");
  await until(() => chat.messages.value.length === 2);
  assert.deepEqual(calls.map((c) => [c.url, c.auth]), [
    ["/names", undefined],
    ["/messages", "Bearer tok-1"],
    ["/messages", "Bearer tok-1"],
  ]);
  assert.deepEqual(calls[0].form, { name: "Eve" });
  // Kept per name, under the key the server compares names by.
  assert.equal(data.get(TOKEN_KEY + "eve"), "tok-1");
  // A reload finds the token: no second claim.
  const again = createChatState(storage, fetch, 0);
  again.sendMessage("three");
  await until(() => again.messages.value.length === 1);
  assert.equal(calls.filter((c) => c.url === "/names").length, 1);
});

Deno.test("a taken name fails the send with the suggestion, and a retry goes under the name chosen then", async () => {
  const { fetch, calls } = fakeServer((call) =>
    call.url !== "/names"
      ? stored(call, 5)
      : call.form.name === "Eve"
      ? [409, { error: "That name is taken.", suggestion: "Eve_2" }]
      : [201, { name: call.form.name, token: "tok-2" }]
  );
  const chat = createChatState(null, fetch, 0);
  chat.setName("Eve");
  chat.sendMessage("hello");
  await until(() => chat.outbox.value[0].state === "failed");
  const [item] = chat.outbox.value;
  assert.equal(item.refused, true);
  assert.match(item.error!, /“Eve”.*“Eve_2”/);
  assert.deepEqual(chat.taken.value, { name: "Eve", suggestion: "Eve_2" });
  assert.equal(calls.length, 1, "nothing is posted under a taken name");
  // A live stream does not retry it unchanged.
  chat.setStatus("live");
  assert.equal(calls.length, 1);

  assert.equal(chat.setName("Eve_2"), undefined);
  assert.equal(chat.taken.value, null);
  chat.retrySend(item.clientId);
  await until(() => chat.messages.value.length === 1);
  assert.deepEqual(calls.slice(1).map((c) => [c.url, c.auth]), [
    ["/names", undefined],
    ["/messages", "Bearer tok-2"],
  ]);
  assert.equal(calls[2].form.author, "Eve_2");
  assert.equal(calls[2].form.clientId, item.clientId);
});

Deno.test("a claim that cannot reach the server is retried with the send when the stream is live", async () => {
  let down = true;
  const { fetch, calls } = fakeServer((call) =>
    down
      ? new TypeError("offline")
      : call.url === "/names"
      ? [201, { name: "Eve", token: "tok-3" }]
      : stored(call, 9)
  );
  const chat = createChatState(null, fetch, 0);
  chat.setName("Eve");
  chat.sendMessage("queued");
  await until(() => chat.outbox.value[0].state === "failed");
  assert.equal(chat.outbox.value[0].refused, false);
  assert.equal(chat.taken.value, null);
  down = false;
  chat.setStatus("live");
  await until(() => chat.messages.value.length === 1);
  assert.equal(calls.at(-1)!.auth, "Bearer tok-3");
});

Deno.test("a 409 for a name another tab just claimed uses that tab's token", async () => {
  const { storage, data } = memoryStorage();
  const { fetch, calls } = fakeServer((call) => {
    if (call.url !== "/names") return stored(call, 2);
    // The other tab's claim lands first.
    data.set(TOKEN_KEY + "eve", "tok-other");
    return [409, { error: "taken", suggestion: null }];
  });
  const chat = createChatState(storage, fetch, 0);
  chat.setName("Eve");
  chat.sendMessage("hi");
  await until(() => chat.messages.value.length === 1);
  assert.equal(calls[1].auth, "Bearer tok-other");
  assert.equal(chat.taken.value, null);
});

Deno.test("a token the server no longer takes fails the send with a sentence; a retry goes under the name chosen then", async () => {
  const { storage, data } = memoryStorage();
  data.set(TOKEN_KEY + "eve", "moved-away");
  const { fetch, calls } = fakeServer((call) =>
    call.url === "/names"
      ? [201, { name: call.form.name, token: "tok-4" }]
      : call.auth === "Bearer moved-away"
      ? [403, { error: 'That token is not the token of the name "Eve".' }]
      : stored(call, 4)
  );
  const chat = createChatState(storage, fetch, 0);
  chat.setName("Eve");
  chat.sendMessage("still me?");
  await until(() => chat.outbox.value[0].state === "failed");
  const [item] = chat.outbox.value;
  assert.match(item.error!, /no longer holds the name “Eve”/);
  assert.equal(item.refused, true);
  chat.setName("Eve2");
  chat.retrySend(item.clientId);
  await until(() => chat.messages.value.length === 1);
  assert.equal(calls.at(-1)!.form.author, "Eve2");
  assert.equal(calls.at(-1)!.auth, "Bearer tok-4");
});
