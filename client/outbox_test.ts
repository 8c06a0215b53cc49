import assert from "node:assert/strict";
import {
  deliver,
  newClientId,
  OUTBOX_KEY,
  type OutboxItem,
  readOutbox,
  storeOutboxItem,
} from "./outbox.ts";

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
  };
}

const item = (clientId: string, text = "hi"): OutboxItem => ({
  clientId,
  author: "ada",
  text,
  state: "sending",
});

Deno.test("client ids are lowercase UUIDs, each new", () => {
  const a = newClientId();
  assert.match(
    a,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.notEqual(newClientId(), a);
});

Deno.test("storing keeps other tabs' items; a send cut short reads back as failed", () => {
  const storage = memoryStorage();
  storeOutboxItem(storage, "a", item("a"));
  storeOutboxItem(storage, "b", item("b"));
  storeOutboxItem(storage, "a", { ...item("a", "edited"), state: "failed" });
  assert.deepEqual(
    readOutbox(storage).map((i) => [i.clientId, i.text, i.state]),
    [
      ["b", "hi", "failed"],
      ["a", "edited", "failed"],
    ],
  );
  storeOutboxItem(storage, "b");
  assert.deepEqual(readOutbox(storage).map((i) => i.clientId), ["a"]);
});

Deno.test("corrupt, foreign or blocked storage reads as empty and never throws", () => {
  const storage = memoryStorage();
  storage.data.set(OUTBOX_KEY, "{not json");
  assert.deepEqual(readOutbox(storage), []);
  storage.data.set(
    OUTBOX_KEY,
    '[null, 3, {"text": "no id"}, {"clientId": "x"}]',
  );
  assert.deepEqual(readOutbox(storage), []);
  assert.deepEqual(readOutbox(null), []);
  const blocked = {
    getItem: (): string | null => {
      throw new DOMException("blocked", "SecurityError");
    },
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  assert.deepEqual(readOutbox(blocked), []);
  storeOutboxItem(blocked, "a", item("a"));
});

Deno.test("only content errors (4xx but 408 and 429) count as refused", async () => {
  const answer = (status: number, body = "") => () =>
    Promise.resolve(new Response(body, { status }));
  const cases: [number, boolean][] = [
    [400, true],
    [413, true],
    [408, false],
    [429, false],
    [500, false],
    [503, false],
  ];
  for (const [status, refused] of cases) {
    const result = await deliver(answer(status), item("a"), 0);
    assert.deepEqual(result, {
      error: `The server answered ${status}.`,
      refused,
    }, `HTTP ${status}`);
  }
  const sentence = await deliver(
    answer(400, '{"error":"Field \\"text\\" must not be empty."}'),
    item("a"),
    0,
  );
  assert.deepEqual(sentence, {
    error: 'Field "text" must not be empty.',
    refused: true,
  });
});

Deno.test("a lockdown's 403 is its own sentence, not a name this device lost", async () => {
  const body = JSON.stringify({
    error: "The room is read-only for now. Reason: raid",
    lockdown: { scope: "all", since: null, reason: "raid", setAt: "x" },
  });
  const fetch = () => Promise.resolve(new Response(body, { status: 403 }));
  assert.deepEqual(await deliver(fetch, item("a"), 0, "token"), {
    error: "The room is read-only for now. Reason: raid",
    refused: true,
  });
});
