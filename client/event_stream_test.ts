import assert from "node:assert/strict";
import {
  connectEventStream,
  type ConnectionStatus,
  DEFAULT_HEARTBEAT_MS,
  MAX_RETRY_MS,
} from "./event_stream.ts";

/** One request to the fake server: the test writes its body bit by bit. */
interface Request {
  url: string;
  signal: AbortSignal;
  write(text: string): void;
  end(): void;
}

function fakeServer(status = 200) {
  const requests: Request[] = [];
  const fetch = (url: string, init: RequestInit): Promise<Response> => {
    const signal = init.signal as AbortSignal;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
    });
    // Like a browser: aborting the request errors its body.
    signal.addEventListener("abort", () => {
      try {
        controller.error(signal.reason);
      } catch {
        // Already closed.
      }
    });
    requests.push({
      url,
      signal,
      write: (text) => controller.enqueue(new TextEncoder().encode(text)),
      end: () => controller.close(),
    });
    if (status !== 200) {
      controller.close();
      return Promise.resolve(new Response(body, { status }));
    }
    return Promise.resolve(new Response(body));
  };
  return { requests, fetch, latest: () => requests.at(-1)! };
}

interface Timer {
  fn: () => void;
  ms: number;
  cancelled: boolean;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(status = 200, random = () => 0.999) {
  const server = fakeServer(status);
  const events: [string, string][] = [];
  const statuses: [ConnectionStatus, number | null][] = [];
  const timers: Timer[] = [];
  const handle = connectEventStream(
    (type, data) =>
      type === "status"
        ? statuses.push(JSON.parse(data))
        : events.push([type, data]),
    0,
    server.fetch,
    (fn, ms) => {
      const timer: Timer = {
        // A timer that fired is spent, like a cancelled one.
        fn: () => {
          timer.cancelled = true;
          fn();
        },
        ms,
        cancelled: false,
      };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    random,
  );
  /** Timers still waiting: watchdogs and reconnects. */
  const live = () => timers.filter((t) => !t.cancelled);
  return { ...server, handle, events, statuses, timers, live };
}

const MESSAGE = '{"id":42,"author":"ada","text":"hi","createdAt":"x"}';

Deno.test("events are parsed across chunk boundaries, comments skipped", async () => {
  const { handle, latest, events, statuses } = setup();
  await tick();
  assert.equal(latest().url, "/stream");
  assert.deepEqual(statuses, [["live", null]]);
  latest().write(
    'retry: 2000\n\nevent: hello\ndata: {"heartbeatMs":15000}\n\n',
  );
  latest().write(": ping\n\nid: 42\nevent: message\nda");
  latest().write(`ta: ${MESSAGE}\n\nevent: presence\ndata: {"online":3}\n`);
  latest().write('\nevent: typing\ndata: {"author":"bob"}\n\ndata: plain\n\n');
  await tick();
  assert.deepEqual(events, [
    ["hello", '{"heartbeatMs":15000}'],
    ["message", MESSAGE],
    ["presence", '{"online":3}'],
    ["typing", '{"author":"bob"}'],
    ["message", "plain"],
  ]);
  handle.close();
  await tick();
});

Deno.test("an ended stream or an HTTP error reconnects with since=<last id>, after backoff", async () => {
  const { handle, latest, requests, statuses, live } = setup();
  await tick();
  latest().write(`id: 41\nevent: message\ndata: {}\n\nid: 42\ndata: {}\n\n`);
  // Half an event: its id must not move the resume point.
  latest().write("id: 43\ndata: {}\n");
  latest().end();
  await tick();
  const [status, at] = statuses.at(-1)!;
  assert.equal(status, "reconnecting");
  assert.ok(at !== null && at > Date.now() && at <= Date.now() + 1000);
  const [retry] = live();
  assert.ok(retry.ms > 500 && retry.ms <= 1000);
  retry.fn();
  await tick();
  assert.equal(requests.length, 2);
  assert.equal(latest().url, "/stream?since=42");
  handle.close();
  await tick();

  // A 502 from a proxy during a deploy: EventSource would give up for good.
  const bad = setup(502);
  await tick();
  assert.deepEqual(bad.statuses.map(([s]) => s), ["reconnecting"]);
  assert.equal(bad.live().length, 1);
  bad.handle.close();
  assert.equal(bad.live().length, 0);
});

Deno.test("backoff doubles to a 30 s cap, with jitter, and resets once events past the hello flow", async () => {
  const { handle, live, latest } = setup(200, () => 0.999);
  await tick();
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    latest().end();
    await tick();
    const retry = live().at(-1)!;
    waits.push(retry.ms);
    retry.fn();
    await tick();
  }
  assert.deepEqual(
    waits.map((ms) => Math.ceil(ms / 1000) * 1000),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.ok(waits.every((ms) => ms <= MAX_RETRY_MS));

  // A hello alone (the server's database is down) keeps backing off…
  latest().write("event: hello\ndata: {}\n\n");
  latest().end();
  await tick();
  assert.equal(Math.ceil(live().at(-1)!.ms / 1000) * 1000, 30000);
  live().at(-1)!.fn();
  await tick();
  // …a real event resets it.
  latest().write('event: presence\ndata: {"online":1}\n\n');
  latest().end();
  await tick();
  assert.ok(live().at(-1)!.ms <= 1000);
  handle.close();
  await tick();

  const low = setup(200, () => 0);
  await tick();
  low.latest().end();
  await tick();
  assert.equal(low.live()[0].ms, 500); // jitter goes down to half the delay
  low.handle.close();
});

Deno.test("the watchdog drops a stream silent for two heartbeats; any bytes feed it", async () => {
  const { handle, latest, live, requests } = setup();
  await tick();
  assert.deepEqual(live().map((t) => t.ms), [2 * DEFAULT_HEARTBEAT_MS]);
  latest().write('event: hello\ndata: {"heartbeatMs":1000}\n\n');
  await tick();
  assert.deepEqual(live().map((t) => t.ms), [2000]);
  latest().write(": ping\n\n"); // invisible to EventSource, not to us
  await tick();
  const [watchdog] = live();
  assert.equal(live().length, 1);
  watchdog.fn(); // two heartbeats of silence
  await tick();
  assert.equal(requests[0].signal.aborted, true);
  const [retry] = live();
  retry.fn();
  await tick();
  assert.equal(requests.length, 2);
  handle.close();
  await tick();
  assert.equal(requests[1].signal.aborted, true);
  assert.equal(live().length, 0);
});

Deno.test("retryNow skips the wait; close() stops everything for good", async () => {
  const { handle, latest, live, requests } = setup();
  await tick();
  handle.retryNow(); // live: nothing to skip
  await tick();
  assert.equal(requests.length, 1);
  latest().end();
  await tick();
  const [retry] = live();
  handle.retryNow();
  await tick();
  assert.equal(retry.cancelled, true);
  assert.equal(requests.length, 2);

  latest().end();
  await tick();
  const [pending] = live();
  handle.close();
  assert.equal(pending.cancelled, true);
  handle.retryNow();
  await tick();
  assert.equal(requests.length, 2);
});

Deno.test("the stream is fetched at low priority, so it never holds the page's load open", async () => {
  const inits: RequestInit[] = [];
  const handle = connectEventStream(
    () => {},
    0,
    (_url, init) => {
      inits.push(init);
      return Promise.reject(new Error("offline"));
    },
    () => () => {},
  );
  await tick();
  handle.close();
  assert.equal(inits[0]?.priority, "low");
});

Deno.test("restart ends a live stream and opens the next at once, resuming, without a reconnecting status", async () => {
  const { handle, latest, requests, statuses, live } = setup();
  await tick();
  latest().write(`id: 7\ndata: ${MESSAGE}\n\n`);
  await tick();
  handle.restart();
  await tick();
  await tick();
  assert.equal(requests.length, 2);
  assert.equal(requests[0].signal.aborted, true);
  assert.equal(latest().url, "/stream?since=7");
  assert.ok(statuses.every(([s]) => s === "live"), JSON.stringify(statuses));
  // While waiting to reconnect, restart skips the wait.
  latest().end();
  await tick();
  const [retry] = live().filter((t) => t.ms < DEFAULT_HEARTBEAT_MS);
  handle.restart();
  await tick();
  assert.equal(retry.cancelled, true);
  assert.equal(requests.length, 3);
  handle.close();
  handle.restart();
  await tick();
  assert.equal(requests.length, 3);
});
