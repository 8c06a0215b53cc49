import assert from "node:assert/strict";
import { createHub, type HubSubscriber } from "./hub.ts";

const message = (id: number) => ({
  id,
  author: "ada",
  text: `m${id}`,
  createdAt: "2026-11-27T10:00:00.000Z",
  clientId: null,
});

function recorder() {
  const got: { id: number; bytes: Uint8Array }[] = [];
  let ended = false;
  const subscriber: HubSubscriber = {
    deliver: (id, bytes) => got.push({ id, bytes }),
    end: () => (ended = true),
  };
  return { subscriber, got, ended: () => ended };
}

Deno.test("hub hands the same encoded bytes to every subscriber, once per id", () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  const b = recorder();
  const offA = hub.subscribe(a.subscriber);
  const offB = hub.subscribe(b.subscriber);
  hub.publish(message(1));
  hub.publish(message(2));
  hub.publish(message(2)); // a duplicate notification
  hub.publish(message(1)); // and a stale one
  assert.deepEqual(a.got.map((g) => g.id), [1, 2]);
  assert.deepEqual(b.got.map((g) => g.id), [1, 2]);
  assert.equal(a.got[0].bytes, b.got[0].bytes, "encoded once, shared");
  offA();
  hub.publish(message(3));
  assert.deepEqual(a.got.map((g) => g.id), [1, 2]);
  assert.deepEqual(b.got.map((g) => g.id), [1, 2, 3]);
  offB();
  assert.equal(hub.size, 0);
  hub.close();
});

Deno.test("hub sends heartbeats while someone listens and ends streams on close", async () => {
  const hub = createHub({ heartbeatMs: 5 });
  let beat!: () => void;
  const beaten = new Promise<void>((resolve) => (beat = resolve));
  const ended: string[] = [];
  hub.subscribe({
    deliver(id, bytes) {
      if (id === 0 && new TextDecoder().decode(bytes) === ": ping\n\n") beat();
    },
    end: () => ended.push("a"),
  });
  await beaten;
  hub.close();
  assert.deepEqual(ended, ["a"]);
  assert.equal(hub.size, 0);
});

Deno.test("hub presence: other instances' count plus this one's streams, told only on change", () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  hub.subscribe(a.subscriber);
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(text(hub.presence), 'event: presence\ndata: {"online":1}\n\n');
  hub.setRemoteOnline(4);
  hub.refreshPresence();
  hub.refreshPresence(); // unchanged: nothing more is sent
  const b = recorder();
  const offB = hub.subscribe(b.subscriber);
  hub.refreshPresence();
  offB();
  hub.refreshPresence();
  assert.deepEqual(a.got.map((g) => text(g.bytes)), [
    'event: presence\ndata: {"online":5}\n\n',
    'event: presence\ndata: {"online":6}\n\n',
    'event: presence\ndata: {"online":5}\n\n',
  ]);
  hub.close();
});
