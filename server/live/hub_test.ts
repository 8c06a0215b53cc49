import assert from "node:assert/strict";
import {
  createHub,
  type HubBatch,
  type HubSubscriber,
  MAX_PRESENCE_NAMES,
} from "./hub.ts";
import { messageChange } from "../store/change_feed.ts";

const message = (id: number) =>
  messageChange({
    id,
    author: "ada",
    text: `m${id}`,
    createdAt: "2026-11-27T10:00:00.000Z",
    clientId: null,
  });

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A subscriber that keeps every batch; `next()` resolves at the next one. */
function recorder() {
  const batches: HubBatch[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  const subscriber: HubSubscriber = {
    deliver(batch) {
      batches.push(batch);
      wake?.();
      wake = null;
    },
    end: () => (ended = true),
  };
  return {
    subscriber,
    batches,
    ids: () => batches.flatMap((b) => b.events.map((e) => e.id)),
    next: () => new Promise<void>((resolve) => (wake = resolve)),
    ended: () => ended,
  };
}

Deno.test("hub hands the same encoded bytes to every subscriber, once per id", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  const b = recorder();
  hub.subscribe(a.subscriber);
  hub.subscribe(b.subscriber);
  const first = b.next();
  hub.publish(message(1));
  await first;
  const second = b.next();
  hub.publish(message(2));
  hub.publish(message(2)); // a duplicate notification
  hub.publish(message(1)); // and a stale one
  await second;
  assert.deepEqual(a.ids(), [1, 2]);
  assert.deepEqual(b.ids(), [1, 2]);
  assert.equal(a.batches[0].bytes, b.batches[0].bytes, "encoded once, shared");
  hub.unsubscribe(a.subscriber);
  const third = b.next();
  hub.publish(message(3));
  await third;
  assert.deepEqual(a.ids(), [1, 2]);
  assert.deepEqual(b.ids(), [1, 2, 3]);
  hub.unsubscribe(b.subscriber);
  assert.equal(hub.size, 0);
  hub.close();
});

Deno.test("hub coalesces one tick's events into one write per stream, in order", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  hub.subscribe(a.subscriber);
  const delivered = a.next();
  hub.publish(message(1));
  hub.signal("delete", { id: 1 });
  hub.publish(message(2));
  hub.publish(message(3));
  assert.equal(a.batches.length, 0, "nothing is written before the tick ends");
  await delivered;
  assert.equal(a.batches.length, 1);
  const [batch] = a.batches;
  assert.deepEqual(batch.events.map((e) => e.id), [1, 0, 2, 3]);
  assert.equal(batch.firstId, 1);
  assert.equal(batch.lastId, 3);
  assert.equal(
    text(batch.bytes),
    batch.events.map((e) => text(e.bytes)).join(""),
  );
  assert.match(
    text(batch.bytes),
    /^id: 1\n.*event: delete\n.*id: 2\n.*id: 3\n/s,
  );
  hub.close();
});

Deno.test("hub sends heartbeats while someone listens and ends streams on close", async () => {
  const hub = createHub({ heartbeatMs: 5 });
  let beat!: () => void;
  const beaten = new Promise<void>((resolve) => (beat = resolve));
  const ended: string[] = [];
  hub.subscribe({
    deliver(batch) {
      if (batch.firstId === 0 && text(batch.bytes) === ": ping\n\n") beat();
    },
    end: () => ended.push("a"),
  });
  await beaten;
  hub.close();
  assert.deepEqual(ended, ["a"]);
  assert.equal(hub.size, 0);
});

Deno.test("hub presence: other instances' count plus this one's streams, told only on change", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  hub.subscribe(a.subscriber);
  assert.equal(
    text(hub.presence),
    'event: presence\ndata: {"online":1,"names":[]}\n\n',
  );
  const told = async (refresh: () => void) => {
    const next = a.next();
    refresh();
    await next;
  };
  hub.setRemoteOnline(4);
  await told(() => hub.refreshPresence());
  const b = recorder();
  hub.subscribe(b.subscriber);
  await told(() => {
    hub.refreshPresence();
    hub.refreshPresence(); // unchanged: nothing more is sent
  });
  await told(() => {
    hub.unsubscribe(b.subscriber);
    hub.refreshPresence();
  });
  assert.deepEqual(a.batches.map((batch) => text(batch.bytes)), [
    'event: presence\ndata: {"online":5,"names":[]}\n\n',
    'event: presence\ndata: {"online":6,"names":[]}\n\n',
    'event: presence\ndata: {"online":5,"names":[]}\n\n',
  ]);
  hub.close();
});

Deno.test("hub presence names: this instance's and others', each key once, sorted by key, capped, told on change", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const a = recorder();
  hub.subscribe(a.subscriber);
  const names = () => JSON.parse(text(hub.presence).split("data: ")[1]).names;
  const offAda = hub.names.add({ key: "ada", name: "Ada" });
  const offAda2 = hub.names.add({ key: "ada", name: "Ada" });
  hub.setRemoteNames([
    { key: "ada", name: "ADA" },
    { key: "bob", name: "bob" },
    { key: "zoë", name: "Zoë" },
  ]);
  hub.names.add({ key: "carl", name: "Carl" });
  assert.deepEqual(names(), ["Ada", "bob", "Carl", "Zoë"]);
  offAda();
  assert.deepEqual(names(), ["Ada", "bob", "Carl", "Zoë"], "one tab left");
  offAda2();
  offAda2(); // twice: counted once
  assert.deepEqual(names(), ["ADA", "bob", "Carl", "Zoë"]);
  hub.setRemoteNames([]);
  assert.deepEqual(names(), ["Carl"]);
  assert.deepEqual(
    [...hub.names.takeChanges()],
    [["ada", null], ["carl", "Carl"]],
  );
  // A name change alone (same count) is told.
  const next = a.next();
  hub.refreshPresence();
  await next;
  assert.match(text(a.batches[0].bytes), /"names":\["Carl"\]/);
  const many = Array.from({ length: MAX_PRESENCE_NAMES + 5 }, (_, i) => ({
    key: `n${String(i).padStart(3, "0")}`,
    name: `N${i}`,
  }));
  hub.setRemoteNames(many);
  assert.equal(names().length, MAX_PRESENCE_NAMES);
  assert.equal(names()[0], "Carl");
  hub.close();
});

/**
 * A hub on a clock that runs with real time plus what each delivery to its
 * one subscriber adds: a hand-out that keeps the thread `costMs`.
 */
function costlyHub(costMs: number) {
  let extra = 0;
  const hub = createHub({
    heartbeatMs: 60_000,
    now: () => performance.now() + extra,
  });
  const r = recorder();
  hub.subscribe({
    ...r.subscriber,
    deliver: (batch) => {
      extra += costMs;
      r.subscriber.deliver(batch);
    },
  });
  return { hub, r, idle: (ms: number) => (extra += ms) };
}

Deno.test("after a hand-out that kept the thread, the next events wait for their turn and go out together, in one write per stream", async () => {
  // Each hand-out costs 10 ms: the next may start 15 ms after it did.
  const { hub, r } = costlyHub(10);
  const first = r.next();
  hub.publish(message(1));
  await first;
  const second = r.next();
  hub.publish(message(2));
  hub.publish(message(3));
  // After the hand-out was measured (a zero-delay timer started before this
  // one), with about 5 ms of spacing to go: a later event joins them.
  await new Promise((resolve) => setTimeout(resolve, 0));
  hub.publish(message(4));
  await second;
  assert.deepEqual(r.batches.map((b) => b.events.map((e) => e.id)), [
    [1],
    [2, 3, 4],
  ]);
  hub.close();
});

Deno.test("a hub whose last hand-out is long over hands out at once", async () => {
  const { hub, r, idle } = costlyHub(2);
  const first = r.next();
  hub.publish(message(1));
  await first;
  // The hand-out is measured once the runtime is through its writes (a
  // zero-delay timer, started before this one); then 20 ms pass.
  await new Promise((resolve) => setTimeout(resolve, 0));
  idle(20);
  hub.publish(message(2));
  // Within the same task: no timer stands between the event and the stream.
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  assert.deepEqual(r.ids(), [1, 2]);
  hub.close();
});
