import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import {
  type ChatState,
  createChatState,
  MAX_KEPT_MESSAGES,
  MAX_SENT_IDS,
  NAME_STORAGE_KEY,
  nameError,
  type NameStorage,
  SENT_KEY,
} from "./chat_state.ts";
import { MAX_AUTHOR_LENGTH } from "../protocol/limits.ts";
import type { FetchLike } from "./fetch_like.ts";
import { OUTBOX_KEY } from "./outbox.ts";
import { until } from "../test/harness/wait.ts";

function message(id: number, author = "ann", text = `hello ${id}`): Message {
  return {
    id,
    author,
    text,
    createdAt: new Date(id * 1000).toISOString(),
    clientId: null,
  };
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
    // Each name is claimed on its first send; the claims are tested in
    // chat_state_names_test.ts, the sends here.
    if (url === "/names") return Promise.resolve(json({ token: "t" }, 201));
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
  const state = createChatState(storage);
  assert.equal(state.name.value, "Bea");

  assert.equal(state.setName("  Cleo  "), undefined);
  assert.equal(state.name.value, "Cleo");
  assert.equal(data.get(NAME_STORAGE_KEY), "Cleo");
  assert.equal(createChatState(storage).name.value, "Cleo");
});

Deno.test("invalid names are refused and leave the current name alone", () => {
  const { storage, data } = memoryStorage();
  const state = createChatState(storage);
  assert.equal(state.name.value, null);
  assert.equal(state.setName("   "), "Please enter a name.");
  assert.match(
    state.setName("x".repeat(MAX_AUTHOR_LENGTH + 1)) ?? "",
    /at most 32/,
  );
  assert.match(state.setName("a\u0007b") ?? "", /control characters/);
  assert.equal(state.name.value, null);
  assert.equal(data.size, 0);

  // Length counts code points, like the server: 32 emoji fit.
  assert.equal(nameError("😀".repeat(MAX_AUTHOR_LENGTH)), undefined);
  assert.match(
    nameError("é".repeat(MAX_AUTHOR_LENGTH + 1)) ?? "",
    /at most 32/,
  );
});

Deno.test("an invalid stored name is ignored, a throwing storage is survived", () => {
  const blank = memoryStorage({ [NAME_STORAGE_KEY]: "   " });
  assert.equal(createChatState(blank.storage).name.value, null);

  const broken: NameStorage = {
    getItem: () => {
      throw new DOMException("blocked", "SecurityError");
    },
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  const state = createChatState(broken);
  assert.equal(state.name.value, null);
  assert.equal(state.setName("Dan"), undefined);
  assert.equal(state.name.value, "Dan");
});

/**
 * Resolves once every send `state` queued so far has gone out: sends go one
 * at a time, in order, so a probe sent now reaches fetch only after them
 * (and after their answers were handled). The probe is then dropped, from
 * the outbox and from `calls`.
 */
async function settled(state: ChatState, calls: Call[]): Promise<void> {
  assert.equal(state.sendMessage("probe"), true);
  const probe = state.outbox.value.at(-1)!.clientId;
  const isProbe = (call: Call) => sentForm(call).clientId === probe;
  await until(() => calls.some(isProbe), { what: "the probe send" });
  calls.splice(calls.findIndex(isProbe), 1);
  state.discardSend(probe);
}

function sentForm(call: Call): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(String(call.init.body)));
}

function withClientId(m: Message, clientId: string): Message {
  return { ...m, clientId };
}

Deno.test("a send shows as pending at once and its confirmation replaces it, once", async () => {
  let reply = (_: Response) => {};
  const { fetch, calls } = fakeFetch(() => new Promise((r) => (reply = r)));
  const { storage, data } = memoryStorage();
  const state = createChatState(storage, fetch, 0);
  state.setName("Eve");

  assert.equal(state.sendMessage("  hi there \n"), true);
  const [pending] = state.outbox.value;
  assert.equal(pending.state, "sending");
  assert.equal(pending.text, "hi there");
  assert.match(pending.clientId, /^[0-9a-f-]{36}$/);
  assert.match(data.get(OUTBOX_KEY) ?? "", /hi there/);

  await until(() => calls.length === 1);
  assert.equal(calls[0].url, "/messages");
  assert.equal(calls[0].init.method, "POST");
  assert.deepEqual(sentForm(calls[0]), {
    author: "Eve",
    text: "hi there",
    clientId: pending.clientId,
  });
  const stored = withClientId(message(7, "Eve", "hi there"), pending.clientId);
  reply(json(stored, 201));
  await until(() => state.outbox.value.length === 0);
  assert.deepEqual(state.messages.value, [stored]);
  assert.equal(data.get(OUTBOX_KEY), "[]");
  // The reply may overtake older messages still on their way in the stream,
  // so a stream resumes from the stream's ids only.
  assert.equal(state.newestId(), 0);

  state.receiveMessage(stored); // the stream echo
  assert.deepEqual(state.messages.value, [stored]);
  assert.equal(state.newestId(), 7);
});

Deno.test("the stream's event may confirm a send before the POST answers", async () => {
  let reply = (_: Response) => {};
  const { fetch, calls } = fakeFetch(() => new Promise((r) => (reply = r)));
  const state = createChatState(null, fetch, 0);
  state.setName("Eve");
  state.sendMessage("race");
  await until(() => calls.length === 1);
  const stored = withClientId(
    message(3, "Eve", "race"),
    state.outbox.value[0].clientId,
  );
  state.receiveMessage(stored);
  assert.deepEqual(state.outbox.value, []);
  reply(json(stored, 201));
  await settled(state, calls);
  assert.deepEqual(state.messages.value, [stored]);
  assert.deepEqual(state.outbox.value, []);
});

Deno.test("a failed send survives a reload and is retried, same clientId, when the stream goes live", async () => {
  const { storage, data } = memoryStorage();
  const down = createChatState(
    storage,
    () => Promise.reject(new TypeError("Failed to fetch")),
    0,
  );
  down.setName("Gus");
  down.sendMessage("still there?");
  await until(() => down.outbox.value[0]?.state === "failed");
  const [failed] = down.outbox.value;
  assert.equal(failed.error, "Could not reach the server.");
  assert.equal(failed.refused, false);

  // A reload: a new state over the same storage.
  const { fetch, calls } = fakeFetch((call) =>
    json(
      withClientId(message(9, "Gus", "still there?"), sentForm(call).clientId),
      200,
    )
  );
  const state = createChatState(storage, fetch, 0);
  assert.equal(state.outbox.value.length, 1);
  assert.equal(state.outbox.value[0].state, "failed");
  assert.equal(calls.length, 0);
  state.setStatus("live");
  await until(() => state.outbox.value.length === 0);
  assert.equal(calls.length, 1);
  assert.equal(sentForm(calls[0]).clientId, failed.clientId);
  assert.equal(state.messages.value[0].id, 9);
  assert.equal(data.get(OUTBOX_KEY), "[]");
});

Deno.test("a send discarded in another tab is not retried here", async () => {
  const { storage } = memoryStorage();
  const down = () => Promise.reject(new TypeError("Failed to fetch"));
  const a = createChatState(storage, down, 0);
  a.setName("Gus");
  a.sendMessage("oops");
  await until(() => a.outbox.value[0]?.state === "failed");
  const { fetch, calls } = fakeFetch(() => json({}, 500));
  const b = createChatState(storage, fetch, 0);
  assert.equal(b.outbox.value.length, 1);
  a.discardSend(a.outbox.value[0].clientId);
  b.syncOutbox();
  assert.deepEqual(b.outbox.value, []);
  b.setStatus("live");
  await settled(b, calls);
  assert.equal(calls.length, 0);
});

Deno.test("a refused send shows the server's sentence and waits for the reader", async () => {
  const { fetch, calls } = fakeFetch(() =>
    json({ error: 'Field "author" must be at most 32 characters.' }, 400)
  );
  const state = createChatState(null, fetch, 0);
  state.setName("Fay");
  state.sendMessage("hello");
  await until(() => state.outbox.value[0]?.state === "failed");
  const [item] = state.outbox.value;
  assert.equal(item.error, 'Field "author" must be at most 32 characters.');
  assert.equal(item.refused, true);

  state.setStatus("live");
  state.setStatus("live");
  await settled(state, calls);
  assert.equal(calls.length, 1);

  state.retrySend(item.clientId);
  await until(() => calls.length === 2);
  assert.equal(sentForm(calls[1]).clientId, item.clientId);
  await until(() => state.outbox.value[0]?.state === "failed");
  state.discardSend(item.clientId);
  assert.deepEqual(state.outbox.value, []);
  assert.deepEqual(state.messages.value, []);
});

Deno.test("an error page, a hang past the timeout: sentences, and retryable", async () => {
  const html = fakeFetch(() =>
    new Response("<h1>Bad Gateway</h1>", { status: 502 })
  );
  const state = createChatState(null, html.fetch, 0);
  state.setName("Hal");
  state.sendMessage("hello");
  await until(() => state.outbox.value[0]?.state === "failed");
  assert.equal(state.outbox.value[0].error, "The server answered 502.");
  assert.equal(state.outbox.value[0].refused, false);

  const slow = createChatState(
    null,
    (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener(
          "abort",
          () => reject(init.signal?.reason),
        );
      }),
    10,
  );
  slow.setName("Hal");
  slow.sendMessage("anyone?");
  await until(() => slow.outbox.value[0]?.state === "failed");
  assert.match(slow.outbox.value[0].error ?? "", /took too long/);
});

Deno.test("sends go out one at a time, in order; nothing is sent empty or nameless", async () => {
  const replies: (() => void)[] = [];
  let answered = 0;
  // Sends that went out while an earlier one was still unanswered.
  const early: string[] = [];
  const { fetch, calls } = fakeFetch((call) =>
    new Promise((resolve) => {
      const { text, clientId } = sentForm(call);
      if (calls.length - 1 > answered) early.push(text);
      replies.push(() => {
        answered++;
        resolve(
          json(withClientId(message(calls.length, "Ivy", text), clientId), 201),
        );
      });
    })
  );
  const state = createChatState(null, fetch, 0);
  assert.equal(state.sendMessage("hi"), false);
  state.setName("Ivy");
  assert.equal(state.sendMessage(" \n "), false);
  assert.equal(state.sendMessage("one"), true);
  assert.equal(state.sendMessage("two"), true);
  assert.deepEqual(state.outbox.value.map((i) => i.text), ["one", "two"]);
  await until(() => calls.length === 1);
  assert.equal(calls.length, 1);
  replies[0]();
  await until(() => calls.length === 2);
  replies[1]();
  await until(() => state.outbox.value.length === 0);
  assert.deepEqual(early, []);
  assert.deepEqual(state.messages.value.map((m) => m.text), ["one", "two"]);
});

Deno.test("typing shows other people for a while, never the reader", async () => {
  const state = createChatState(null, undefined, undefined, 20);
  state.setName("Eve");
  state.noteTyping("Eve");
  assert.deepEqual(state.typing.value, []);
  state.noteTyping("ann");
  state.noteTyping("bob");
  state.noteTyping("ann");
  assert.deepEqual(state.typing.value, ["bob", "ann"]);
  // A message from them ends their typing at once.
  state.receiveMessage(message(1, "ann"));
  assert.deepEqual(state.typing.value, ["bob"]);
  await until(() => state.typing.value.length === 0);
});

Deno.test("presence, offline and the reconnect time are recorded", () => {
  const state = createChatState();
  assert.equal(state.online.value, null);
  state.setPresence(3);
  assert.equal(state.online.value, 3);
  assert.deepEqual(state.names.value, []);
  state.setPresence(4, ["Ada", "bob"]);
  assert.deepEqual(state.names.value, ["Ada", "bob"]);
  state.setStatus("offline");
  assert.equal(state.status.value, "offline");
  state.setStatus("reconnecting", 1234);
  assert.equal(state.retryAt.value, 1234);
  state.setStatus("live");
  assert.equal(state.retryAt.value, null);
});

Deno.test("status changes only through setStatus", () => {
  const state = createChatState();
  assert.equal(state.status.value, "connecting");
  state.setStatus("live");
  assert.equal(state.status.value, "live");
  state.setStatus("reconnecting");
  assert.equal(state.status.value, "reconnecting");
});

Deno.test("saved messages show until the server sends any, then give way to it", () => {
  const state = createChatState();
  state.restoreMessages([message(1), message(2), message(3)]);
  assert.equal(state.saved.value, true);
  assert.deepEqual(state.messages.value.map((m) => m.id), [1, 2, 3]);
  // Offline there is no scrollback to offer, and a stream starts afresh.
  assert.equal(state.hasOlder.value, false);
  assert.equal(state.newestId(), 0);

  // The server's history may lie far beyond the saved copy: no silent gap.
  state.receiveMessage(message(50));
  state.receiveMessage(message(51));
  assert.equal(state.saved.value, false);
  assert.deepEqual(state.messages.value.map((m) => m.id), [50, 51]);
  assert.equal(state.hasOlder.value, true);
  assert.equal(state.newestId(), 51);

  // Too late: the list has the server's messages now.
  state.restoreMessages([message(1)]);
  assert.equal(state.saved.value, false);
  assert.deepEqual(state.messages.value.map((m) => m.id), [50, 51]);
});

Deno.test("nothing saved, nothing restored", () => {
  const state = createChatState();
  state.restoreMessages([]);
  assert.equal(state.saved.value, false);
  assert.equal(state.hasOlder.value, true);
});

// Answers every POST /messages with the stored message (ids from 1 up).
function echoFetch() {
  let id = 0;
  return fakeFetch((call) => {
    const { author, text, clientId } = sentForm(call);
    return json(withClientId(message(++id, author, text), clientId), 201);
  });
}

Deno.test("a message is the reader's own only when this device sent its clientId, never by its author's name", async () => {
  const { fetch } = echoFetch();
  const state = createChatState(null, fetch, 0);
  state.setName("ada");
  state.sendMessage("mine");
  await until(() => state.messages.value.length === 1);
  const [mine] = state.messages.value;
  assert.equal(mine.author, "ada");
  assert.equal(state.isOwn(mine), true);
  // Anyone can post as "ada": without this device's clientId it is not own.
  assert.equal(state.isOwn(message(2, "ada", "transfer the keys")), false);
  const other = withClientId(message(3, "ada"), crypto.randomUUID());
  assert.equal(state.isOwn(other), false);
  assert.equal(state.isOwn(withClientId(message(4, "ada"), "")), false);
  // Part of a sent id is not that id.
  const part = withClientId(message(5, "ada"), mine.clientId!.slice(0, 8));
  assert.equal(state.isOwn(part), false);
  // A new name keeps what this device sent its own.
  state.setName("ada lovelace");
  assert.equal(state.isOwn(mine), true);
});

Deno.test("the clientIds sent survive a reload, reach the device's other tabs, and only the latest MAX_SENT_IDS are kept", async () => {
  const { storage, data } = memoryStorage();
  const { fetch } = echoFetch();
  const a = createChatState(storage, fetch, 0);
  const b = createChatState(storage, fetch, 0); // another tab, open already
  a.setName("ada");
  a.sendMessage("first");
  const first = a.outbox.value[0].clientId;
  const echo = withClientId(message(1, "ada", "first"), first);
  assert.equal(a.isOwn(echo), true);
  // A reload: a new state over the same storage.
  assert.equal(createChatState(storage, fetch, 0).isOwn(echo), true);
  // The other tab learns it on the storage event.
  assert.equal(b.isOwn(echo), false);
  b.syncOutbox();
  assert.equal(b.isOwn(echo), true);

  for (let i = 1; i < MAX_SENT_IDS; i++) a.sendMessage(`more ${i}`);
  const second = a.outbox.value[1].clientId;
  assert.equal(a.isOwn(echo), true, "MAX_SENT_IDS sends: the first stays");
  a.sendMessage("one too many");
  assert.equal(a.isOwn(echo), false, "the oldest gives way");
  assert.equal(a.isOwn(withClientId(echo, second)), true);
  assert.ok(data.get(SENT_KEY)!.length <= MAX_SENT_IDS * 37);
  assert.equal(createChatState(storage, fetch, 0).isOwn(echo), false);
  await until(() => a.outbox.value.length === 0);
});

Deno.test("unreadable or full storage: sent clientIds still count for this visit", () => {
  const storage: NameStorage = {
    getItem: () => {
      throw new DOMException("blocked", "SecurityError");
    },
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  const state = createChatState(storage, () => new Promise(() => {}), 0);
  state.setName("ada");
  state.sendMessage("hi");
  const clientId = state.outbox.value[0].clientId;
  assert.equal(state.isOwn(withClientId(message(1, "ada"), clientId)), true);
});

Deno.test("a chosen name is folded as the server folds names (NFKC), so own typing and mentions match", () => {
  const state = createChatState(
    null,
    () => Promise.reject(new Error("offline")),
  );
  state.setName("ａｄａ");
  assert.equal(state.name.value, "ada");
});
