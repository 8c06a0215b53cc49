/**
 * `deno run -A bench/hub_loop.ts [streams]`: the cost of handing one message
 * to every stream, without sockets: Plaza's hub and createSseStream against a
 * plain loop of `enqueue` calls on bare ReadableStreams, each stream drained
 * by a read loop like the one Deno.serve runs on a response body. Prints the
 * median and p90 of 100 messages for each. Isolates the JavaScript side of the
 * fan-out gap described in docs/benchmarks.md.
 */
import { createHub } from "../server/live/hub.ts";
import type { Message } from "../protocol/message.ts";
import { encodeMessageEvent } from "../server/live/sse_format.ts";
import { createSseStream } from "../server/live/sse_stream.ts";
import { type ChangeFeed, messageChange } from "../server/store/change_feed.ts";

const streams = Number(Deno.args[0] ?? 10_000);
const MESSAGES = 100;

const message = (id: number): Message => ({
  id,
  author: "bench",
  text: `bench-1-${id}`,
  createdAt: new Date().toISOString(),
  clientId: null,
});

// Enough of a store for live streams that start with no history.
const unused = () => Promise.reject(new Error("not used by the bench"));
const changes: ChangeFeed = {
  after: () => Promise.resolve([]),
  at: unused,
  latest: () => Promise.resolve({ messages: [], lastSeq: 0 }),
  lastSeq: () => Promise.resolve(0),
};

/** Reads until the stream ends, as Deno.serve does with a response body. */
function drain(stream: ReadableStream<Uint8Array>): void {
  const reader = stream.getReader();
  (async () => {
    while (!(await reader.read()).done) {
      // discard
    }
  })();
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): string {
  return sorted[Math.floor((sorted.length - 1) * p)].toFixed(2);
}

async function time(
  name: string,
  send: (id: number) => Promise<void>,
): Promise<void> {
  const times: number[] = [];
  for (let id = 1; id <= MESSAGES; id++) {
    const t0 = performance.now();
    await send(id);
    times.push(performance.now() - t0);
    // Let the readers take their chunks before the next message.
    await tick(5);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(6)} ${streams} streams: median ${
      percentile(times, 0.5)
    } ms, p90 ${percentile(times, 0.9)} ms per message`,
  );
}

// The bare loop: one controller per stream, one enqueue each.
const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
for (let i = 0; i < streams; i++) {
  drain(
    new ReadableStream<Uint8Array>({ start: (c) => void controllers.push(c) }),
  );
}
await tick(200);
await time("bare", (id) => {
  const bytes = encodeMessageEvent(message(id));
  for (const c of controllers) c.enqueue(bytes);
  return Promise.resolve();
});
for (const c of controllers) c.close();

// Plaza: the hub flushes in a microtask queued by publish(); awaiting one
// resolved promise resumes right after it, before the readers run.
const hub = createHub({ heartbeatMs: 3_600_000 });
for (let i = 0; i < streams; i++) {
  drain(createSseStream({
    hub,
    changes,
    start: { history: 0 },
    retryMs: 1000,
    heartbeatMs: 3_600_000,
    maxBufferedBytes: 1 << 20,
  }));
}
await tick(200);
await time("plaza", async (id) => {
  hub.publish(messageChange(message(id)));
  await Promise.resolve();
});
hub.close();
