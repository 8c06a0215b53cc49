import assert from "node:assert/strict";
import { createHub } from "./hub.ts";
import type { Message } from "../../protocol/message.ts";
import { type ChangeFeed, messageChange } from "../store/change_feed.ts";
import {
  createSseStream,
  HARD_LIMIT_FACTOR,
  STALL_GRACE_MS,
} from "./sse_stream.ts";

const message = (id: number, text = `m${id}`): Message => ({
  id,
  author: "ada",
  text,
  createdAt: "2026-11-27T10:00:00.000Z",
  clientId: null,
});

/** The change that created message `id`, as the hub is given it. */
const created = (id: number, text?: string) => messageChange(message(id, text));

/** An in-memory change log of new messages only, enough for the stream's reads. */
function memoryStore(rows: Message[]): ChangeFeed {
  const after = (afterSeq: number, limit: number) =>
    Promise.resolve(
      rows.filter((m) => m.id > afterSeq).slice(0, limit).map(messageChange),
    );
  return {
    after,
    at: (seq, id) =>
      Promise.resolve(
        rows.find((m) => m.id === seq)
          ? messageChange(rows.find((m) => m.id === seq)!)
          : { seq, kind: "gone", id },
      ),
    latest: (limit) =>
      Promise.resolve({
        messages: rows.slice(-limit),
        lastSeq: rows.at(-1)?.id ?? 0,
      }),
    lastSeq: () => Promise.resolve(rows.at(-1)?.id ?? 0),
  };
}

/** Resolves once the hub has written this tick's events (it flushes in a microtask). */
const endOfTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Reads until `marker` has gone by: proves the stream is live. */
async function readPast(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  marker: string,
) {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(marker)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before ${JSON.stringify(marker)}`);
    text += decoder.decode(value, { stream: true });
  }
}

async function readIds(stream: ReadableStream<Uint8Array>, count: number) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const ids = () =>
    [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  while (ids().length < count) {
    text += decoder.decode((await reader.read()).value, { stream: true });
  }
  await reader.cancel();
  return ids();
}

Deno.test("a resumed stream pages through a large backlog, then goes live without repeats", async () => {
  const rows = Array.from({ length: 1203 }, (_, i) => message(i + 1));
  const hub = createHub({ heartbeatMs: 60_000 });
  const stream = createSseStream({
    hub,
    changes: memoryStore(rows),
    start: { since: 2 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 4096,
  });
  // Published while the backlog is read: one already in it, one new.
  hub.publish(created(1203));
  hub.publish(created(1204));
  const ids = await readIds(stream, 1202);
  assert.deepEqual(ids, Array.from({ length: 1202 }, (_, i) => i + 3));
  assert.equal(hub.size, 0);
  hub.close();
});

Deno.test("a stream whose reader stalls past its buffer is dropped and unsubscribed", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  let closed = false;
  let dropped = 0;
  const stream = createSseStream({
    hub,
    changes: memoryStore([]),
    start: { history: 0 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 64 * 1024,
    onClose: () => (closed = true),
    onDrop: () => dropped++,
  });
  const reader = stream.getReader();
  // Reading message 1 proves the backlog is done and the stream is live.
  hub.publish(created(1));
  await readPast(reader, "id: 1\n");
  // From here on nobody reads.
  let id = 1;
  while (!closed && id < 1000) {
    hub.publish(created(++id, "x".repeat(1000)));
    await endOfTick();
  }
  assert.ok(closed, "never dropped");
  assert.equal(dropped, 1, "onDrop (the slow-client counter) told once");
  // At the hard limit: 4 budgets of 64 KiB, about 250 such messages.
  assert.ok(id < 300, `dropped only after ${id} messages`);
  assert.equal(hub.size, 0);
  await assert.rejects(() => reader.read(), /too slow/);
  hub.close();
});

Deno.test("a stream ends by itself after its (jittered) maximum age", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  let ended!: () => void;
  const closed = new Promise<void>((resolve) => (ended = resolve));
  const stream = createSseStream({
    hub,
    changes: memoryStore([]),
    start: { history: 0 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 4096,
    maxAgeMs: 20,
    onClose: ended,
  });
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // Drain until the server side ends the stream.
  }
  await closed;
  assert.equal(hub.size, 0);
  hub.close();
});

Deno.test("open streams with a maximum age keep one timer between them, not one each", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  // Timers set and not yet cleared while the streams open.
  const live = new Set<unknown>();
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  globalThis.setTimeout = ((...args: Parameters<typeof set>) => {
    const id = set(...args);
    live.add(id);
    return id;
  }) as typeof set;
  globalThis.clearTimeout = ((id: number | undefined) => {
    live.delete(id);
    clear(id);
  }) as typeof clear;
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      readers.push(
        createSseStream({
          hub,
          changes: memoryStore([]),
          start: { history: 0 },
          retryMs: 1000,
          heartbeatMs: 60_000,
          maxBufferedBytes: 4096,
          maxAgeMs: 60_000,
        }).getReader(),
      );
    }
  } finally {
    globalThis.setTimeout = set;
    globalThis.clearTimeout = clear;
  }
  assert.equal(hub.size, 50);
  assert.equal(live.size, 1, `${live.size} timers for 50 streams`);
  for (const reader of readers) await reader.cancel();
  assert.equal(hub.size, 0);
  hub.close();
});

Deno.test("a burst beyond the budget does not drop a reader that keeps reading", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const budget = 64 * 1024;
  const stream = createSseStream({
    hub,
    changes: memoryStore([]),
    start: { history: 0 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: budget,
  });
  const reader = stream.getReader();
  hub.publish(created(1));
  await readPast(reader, "id: 1\n");
  // Twice the budget in one go, under the hard limit.
  const burst = Math.floor((budget * (HARD_LIMIT_FACTOR / 2)) / 1100);
  for (let id = 2; id <= burst + 1; id++) {
    hub.publish(created(id, "x".repeat(1000)));
  }
  assert.equal(hub.size, 1, "still subscribed");
  let got = 0;
  while (got < burst) {
    const { value } = await reader.read();
    got += new TextDecoder().decode(value).split("event: message").length - 1;
  }
  hub.publish(created(burst + 2));
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), new RegExp(`id: ${burst + 2}`));
  await reader.cancel();
  hub.close();
});

Deno.test("a reader that stays over budget longer than the grace period is dropped", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  let now = 0;
  let closed = false;
  const stream = createSseStream({
    hub,
    changes: memoryStore([]),
    start: { history: 0 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 4096,
    now: () => now,
    onClose: () => (closed = true),
  });
  const reader = stream.getReader();
  hub.publish(created(1));
  await readPast(reader, "id: 1\n");
  // Over budget but under the hard limit, and nobody reads.
  hub.publish(created(2, "x".repeat(6000)));
  await endOfTick();
  assert.equal(closed, false);
  now += STALL_GRACE_MS - 1;
  hub.publish(created(3));
  await endOfTick();
  assert.equal(closed, false, "within the grace period");
  now += 2;
  hub.publish(created(4));
  await endOfTick();
  assert.equal(closed, true, "stalled past the grace period");
  await assert.rejects(() => reader.read(), /too slow/);
  hub.close();
});

/** Reads until `marker` has gone by; returns everything read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  marker: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(marker)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before ${JSON.stringify(marker)}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** The online counts of the presence events in `text`, in order. */
const presenceCounts = (text: string) =>
  [...text.matchAll(
    /^event: presence\ndata: \{"online":(\d+),"names":\[\]\}$/gm,
  )].map((m) => Number(m[1]));

Deno.test("a new stream never gets the same presence twice in a row (its opening count, then the hub's broadcast of it)", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  const open = () =>
    createSseStream({
      hub,
      changes: memoryStore([]),
      start: { history: 0 },
      retryMs: 1000,
      heartbeatMs: 60_000,
      maxBufferedBytes: 64 * 1024,
    }).getReader();
  // Ends a tick with a marker event and reads each stream past it.
  let marks = 0;
  const mark = async (readers: ReadableStreamDefaultReader<Uint8Array>[]) => {
    const author = `mark-${++marks}`;
    hub.signal("typing", { author });
    return await Promise.all(readers.map((r) => readUntil(r, author)));
  };
  const a = open();
  // The opening presence counts the stream itself: 1.
  let seenA = await readUntil(a, "event: presence");
  // Another stream comes and goes before the presence tick: the total is
  // back to 1 when the tick tells every stream, and `a` already has 1.
  const b = open();
  await readUntil(b, "event: presence");
  await b.cancel();
  hub.refreshPresence();
  seenA += (await mark([a]))[0];
  // A stream opens between ticks: it starts with 2, then the tick tells
  // everyone 2, which only `a` did not know yet.
  const c = open();
  let seenC = await readUntil(c, "event: presence");
  hub.refreshPresence();
  let [moreA, moreC] = await mark([a, c]);
  seenA += moreA;
  seenC += moreC;
  // Real changes still go out, going back included.
  for (const remote of [3, 0]) {
    hub.setRemoteOnline(remote);
    hub.refreshPresence();
    [moreA, moreC] = await mark([a, c]);
    seenA += moreA;
    seenC += moreC;
  }
  assert.deepEqual(presenceCounts(seenA), [1, 2, 5, 2]);
  assert.deepEqual(presenceCounts(seenC), [2, 5, 2]);
  await a.cancel();
  await c.cancel();
  hub.close();
});

Deno.test("a stream that starts with history skips live changes its history already holds, and sends edits, reactions and deletes with their numbers", async () => {
  const rows = [message(1), message(2), message(5, "edited")];
  const hub = createHub({ heartbeatMs: 60_000 });
  // The history is read as of change 9: it holds the edit of message 5
  // (change 9) already.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const feed = memoryStore(rows);
  const stream = createSseStream({
    hub,
    changes: {
      ...feed,
      latest: async (limit) => {
        await held;
        return { messages: rows.slice(-limit), lastSeq: 9 };
      },
    },
    start: { history: 50 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 64 * 1024,
  });
  // Published while the history is read: the edit it holds, then newer ones.
  hub.publish({ seq: 9, kind: "edit", message: message(5, "edited") });
  hub.publish({ seq: 10, kind: "reaction", id: 5, reactions: [] });
  hub.publish({ seq: 11, kind: "delete", id: 2 });
  await endOfTick();
  release();
  const reader = stream.getReader();
  const text = await readUntil(reader, "id: 11\n");
  await reader.cancel();
  assert.deepEqual(
    [...text.matchAll(/^id: (\d+)\nevent: (\w+)$/gm)].map((m) =>
      `${m[1]} ${m[2]}`
    ),
    ["1 message", "2 message", "5 message", "10 reaction", "11 delete"],
  );
  hub.close();
});

Deno.test("room state: a stream gets the current one as it goes live, then each change once (repeats of the same state are not sent)", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  hub.setRoom({
    slowMode: { seconds: 5, until: null, by: "auto" },
    notice: null,
    lockdown: null,
  });
  const stream = createSseStream({
    hub,
    changes: memoryStore([message(1)]),
    start: { history: 10 },
    retryMs: 1000,
    heartbeatMs: 60_000,
    maxBufferedBytes: 1 << 20,
  });
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const read = async (marker: string) => {
    while (!text.includes(marker)) {
      text += decoder.decode((await reader.read()).value, { stream: true });
    }
  };
  try {
    await read('"lockdown":null}\n\n');
    // After the history: the client has the messages, then the room.
    assert.ok(text.indexOf("event: message") < text.indexOf("event: room"));
    hub.setRoom({
      slowMode: { seconds: 5, until: null, by: "auto" },
      notice: null,
      lockdown: null,
    });
    hub.setRoom({ slowMode: null, notice: null, lockdown: null });
    await read('{"slowMode":null,"notice":null,"lockdown":null}');
    assert.deepEqual(
      [...text.matchAll(/^event: room\ndata: (.*)$/gm)].map((m) => m[1]),
      [
        '{"slowMode":{"seconds":5,"until":null,"by":"auto"},"notice":null,"lockdown":null}',
        '{"slowMode":null,"notice":null,"lockdown":null}',
      ],
    );
  } finally {
    await reader.cancel();
    hub.close();
  }
});
