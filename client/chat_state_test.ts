import assert from "node:assert/strict";
import type { Message } from "../server/message.ts";
import {
  checkName,
  createChatState,
  type FetchLike,
  MAX_AUTHOR_LENGTH,
  MAX_KEPT_MESSAGES,
  NAME_STORAGE_KEY,
  type NameStorage,
} from "./chat_state.ts";

function message(id: number, author = "ann", text = `hello ${id}`): Message {
  return { id, author, text, createdAt: new Date(id * 1000).toISOString() };
}

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  const storage: NameStorage = {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
  return { storage, data };
}

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(reply: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    const call = { url, init };
    calls.push(call);
    return Promise.resolve(reply(call));
  };
  return { fetch, calls };
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

Deno.test("messages are sorted by id and each id is kept once", () => {
  const state = createChatState();
  for (const id of [3, 1, 2, 3, 5, 4, 1]) state.receiveMessage(message(id));
  assert.deepEqual(state.messages.value.map((m) => m.id), [1, 2, 3, 4, 5]);
});

Deno.test("a repeated id keeps the first copy and does not re-render", () => {
  const state = createChatState();
  state.receiveMessage(message(1, "ann", "first"));
  const before = state.messages.value;
  state.receiveMessage(message(1, "ann", "second"));
  assert.equal(state.messages.value, before);
  assert.equal(state.messages.value[0].text, "first");
});

Deno.test("only the newest MAX_KEPT_MESSAGES stay, and dropped ids stay out", () => {
  const state = createChatState();
  const total = MAX_KEPT_MESSAGES + 10;
  for (let id = 1; id <= total; id++) state.receiveMessage(message(id));
  const ids = state.messages.value.map((m) => m.id);
  assert.equal(ids.length, MAX_KEPT_MESSAGES);
  assert.equal(ids[0], 11);
  assert.equal(ids.at(-1), total);
  state.receiveMessage(message(5)); // a late replay of a dropped message
  assert.equal(state.messages.value[0].id, 11);
});

Deno.test("the name is read from and written to storage", () => {
  const { storage, data } = memoryStorage({ [NAME_STORAGE_KEY]: "Bea" });
  const state = createChatState({ storage });
  assert.equal(state.name.value, "Bea");

  assert.equal(state.setName("  Cleo  "), true);
  assert.equal(state.name.value, "Cleo");
  assert.equal(data.get(NAME_STORAGE_KEY), "Cleo");
  assert.equal(createChatState({ storage }).name.value, "Cleo");
});

Deno.test("invalid names are refused and leave the current name alone", () => {
  const { storage, data } = memoryStorage();
  const state = createChatState({ storage });
  assert.equal(state.name.value, null);
  assert.equal(state.setName("   "), false);
  assert.equal(state.setName("x".repeat(MAX_AUTHOR_LENGTH + 1)), false);
  assert.equal(state.name.value, null);
  assert.equal(data.size, 0);

  // Length counts code points, like the server: 32 emoji fit.
  assert.equal(checkName("😀".repeat(MAX_AUTHOR_LENGTH)).ok, true);
  const tooLong = checkName("é".repeat(MAX_AUTHOR_LENGTH + 1));
  assert.equal(tooLong.ok, false);
  assert.match(tooLong.ok ? "" : tooLong.error, /at most 32/);
});

Deno.test("an invalid stored name is ignored, a throwing storage is survived", () => {
  const blank = memoryStorage({ [NAME_STORAGE_KEY]: "   " });
  assert.equal(createChatState({ storage: blank.storage }).name.value, null);

  const broken: NameStorage = {
    getItem: () => {
      throw new DOMException("blocked", "SecurityError");
    },
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  const state = createChatState({ storage: broken });
  assert.equal(state.name.value, null);
  assert.equal(state.setName("Dan"), true);
  assert.equal(state.name.value, "Dan");
});

Deno.test("sendMessage posts JSON and adds the stored message once", async () => {
  const stored = message(7, "Eve", "hi there");
  const { fetch, calls } = fakeFetch(() => json(stored, 201));
  const state = createChatState({ fetch, sendTimeoutMs: 0 });
  state.setName("Eve");

  const sending = state.sendMessage("  hi there \n");
  assert.equal(state.sending.value, true);
  assert.equal(await sending, true);
  assert.equal(state.sending.value, false);
  assert.equal(state.sendError.value, null);

  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "/messages");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(
    new Headers(calls[0].init.headers).get("content-type"),
    "application/json",
  );
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), {
    author: "Eve",
    text: "hi there",
  });

  state.receiveMessage(stored); // the stream echo
  assert.deepEqual(state.messages.value, [stored]);
});

Deno.test("a refused send keeps the server's sentence as the error", async () => {
  const { fetch } = fakeFetch(() =>
    json({ error: 'Field "text" must be at most 2000 characters.' }, 400)
  );
  const state = createChatState({ fetch, sendTimeoutMs: 0 });
  state.setName("Fay");
  assert.equal(await state.sendMessage("hello"), false);
  assert.equal(
    state.sendError.value,
    'Field "text" must be at most 2000 characters.',
  );
  assert.equal(state.sending.value, false);
  assert.deepEqual(state.messages.value, []);

  state.clearSendError();
  assert.equal(state.sendError.value, null);
});

Deno.test("a non-JSON error page and a network failure give a sentence", async () => {
  const html = fakeFetch(() =>
    new Response("<h1>Bad Gateway</h1>", { status: 502 })
  );
  const state = createChatState({ fetch: html.fetch, sendTimeoutMs: 0 });
  state.setName("Gus");
  assert.equal(await state.sendMessage("hello"), false);
  assert.match(state.sendError.value ?? "", /HTTP 502/);

  const offline = createChatState({
    fetch: () => Promise.reject(new TypeError("Failed to fetch")),
    sendTimeoutMs: 0,
  });
  offline.setName("Gus");
  assert.equal(await offline.sendMessage("hello"), false);
  assert.match(offline.sendError.value ?? "", /Could not reach the server/);
  assert.equal(offline.sending.value, false);
});

Deno.test("a send that hangs past the timeout fails with a sentence", async () => {
  const state = createChatState({
    fetch: (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener(
          "abort",
          () => reject(init.signal?.reason),
        );
      }),
    sendTimeoutMs: 10,
  });
  state.setName("Hal");
  assert.equal(await state.sendMessage("anyone?"), false);
  assert.match(state.sendError.value ?? "", /took too long/);
});

Deno.test("nothing is posted when empty, nameless or already sending", async () => {
  let release = () => {};
  const { fetch, calls } = fakeFetch(() =>
    new Promise<Response>((resolve) => {
      release = () => resolve(json(message(1, "Ivy"), 201));
    })
  );
  const state = createChatState({ fetch, sendTimeoutMs: 0 });
  assert.equal(await state.sendMessage("hi"), false);
  assert.match(state.sendError.value ?? "", /name/);

  state.setName("Ivy");
  assert.equal(await state.sendMessage(" \n "), false);
  const first = state.sendMessage("one");
  assert.equal(await state.sendMessage("two"), false);
  release();
  assert.equal(await first, true);
  assert.equal(calls.length, 1);
});

Deno.test("status changes only through setStatus", () => {
  const state = createChatState();
  assert.equal(state.status.value, "connecting");
  state.setStatus("live");
  assert.equal(state.status.value, "live");
  state.setStatus("reconnecting");
  assert.equal(state.status.value, "reconnecting");
});
