import assert from "node:assert/strict";
import type { Message } from "../server/message.ts";
import {
  connectEventStream,
  type ConnectionStatus,
  type EventSourceLike,
  MAX_RETRY_MS,
} from "./event_stream.ts";

class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  #listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.#listeners.set(type, [...this.#listeners.get(type) ?? [], listener]);
  }

  close() {
    this.closed = true;
    this.readyState = 2;
  }

  emit(type: string, data?: string) {
    if (type === "open") this.readyState = 1;
    for (const l of this.#listeners.get(type) ?? []) {
      l(new MessageEvent(type, { data }));
    }
  }

  /** An HTTP error answer: the browser gives up and reports CLOSED. */
  fail() {
    this.readyState = 2;
    this.emit("error");
  }
}

function message(id: number): Message {
  return {
    id,
    author: "ann",
    text: `m${id}`,
    createdAt: "2025-01-01T00:00:00.000Z",
  };
}

function setup(random = () => 0.999) {
  FakeEventSource.instances = [];
  const received: Message[] = [];
  const statuses: ConnectionStatus[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const handle = connectEventStream({
    onMessage: (m) => received.push(m),
    onStatus: (s) => statuses.push(s),
    EventSourceImpl: FakeEventSource,
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    random,
  });
  const latest = () => FakeEventSource.instances.at(-1)!;
  return { handle, received, statuses, timers, latest };
}

Deno.test("messages flow through and status goes connecting -> live", () => {
  const { handle, received, statuses, latest } = setup();
  assert.equal(latest().url, "/stream");
  latest().emit("open");
  latest().emit("message", JSON.stringify(message(1)));
  latest().emit("message", "not json");
  latest().emit("message", JSON.stringify({ id: "2" }));
  assert.deepEqual(received, [message(1)]);
  assert.deepEqual(statuses, ["connecting", "live"]);
  handle.close();
  assert.equal(latest().closed, true);
});

Deno.test("while the browser retries by itself we only report reconnecting", () => {
  const { handle, statuses, timers, latest } = setup();
  latest().emit("open");
  latest().readyState = 0; // CONNECTING: a network error the browser handles
  latest().emit("error");
  assert.deepEqual(statuses, ["connecting", "live", "reconnecting"]);
  assert.equal(timers.length, 0);
  assert.equal(FakeEventSource.instances.length, 1);
  handle.close();
});

Deno.test("a closed stream is reopened with since=<last id> after backoff", () => {
  const { handle, timers, latest, statuses } = setup();
  latest().emit("open");
  latest().emit("message", JSON.stringify(message(41)));
  latest().emit("message", JSON.stringify(message(42)));
  latest().fail();
  assert.equal(latest().closed, true);
  assert.equal(statuses.at(-1), "reconnecting");
  assert.equal(timers.length, 1);
  assert.ok(timers[0].ms > 500 && timers[0].ms <= 1000);

  timers[0].fn();
  assert.equal(FakeEventSource.instances.length, 2);
  assert.equal(latest().url, "/stream?since=42");
  handle.close();
});

Deno.test("backoff doubles to a 30 s cap, with jitter, and resets once live", () => {
  const { handle, timers, latest } = setup(() => 0.999);
  for (let i = 0; i < 8; i++) {
    latest().fail();
    timers.at(-1)!.fn();
  }
  const ceilings = timers.map((t) => Math.ceil(t.ms / 1000) * 1000);
  assert.deepEqual(
    ceilings,
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.ok(timers.every((t) => t.ms <= MAX_RETRY_MS));

  latest().emit("open");
  latest().fail();
  assert.ok(timers.at(-1)!.ms <= 1000);
  handle.close();

  const low = setup(() => 0);
  low.latest().fail();
  assert.equal(low.timers[0].ms, 500); // jitter goes down to half the delay
  low.handle.close();
});

Deno.test("close() cancels a pending reconnect", () => {
  const { handle, timers, latest } = setup();
  latest().fail();
  handle.close();
  assert.equal(timers[0].cancelled, true);
  assert.equal(FakeEventSource.instances.length, 1);
});
