// End-to-end over real HTTP and a real Postgres: the guarantees a chat user
// relies on (nothing lost, nothing twice, every instance sees everything).
import assert from "node:assert/strict";
import { seededRandom } from "../test/harness/seeded_random.ts";
import { findPgBin } from "../test/harness/pg_cluster.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../test/harness/fixtures.ts";
import {
  messageEvents,
  messagesOf,
  openSse,
  type SseEvent,
} from "../test/harness/sse_client.ts";

const ids = (ms: { id: number }[]) => ms.map((m) => m.id);

Deno.test("a posted message arrives on an open stream, with the SSE headers and retry line", async () => {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url);
    try {
      const stream = await openSse(`${plaza.url}/stream`);
      assert.equal(stream.response.status, 200);
      assert.equal(
        stream.response.headers.get("content-type"),
        "text/event-stream; charset=utf-8",
      );
      assert.equal(
        stream.response.headers.get("cache-control"),
        "no-cache, no-transform",
      );
      assert.equal(stream.response.headers.get("x-accel-buffering"), "no");
      const sent = await postJson(plaza.url, "ada", "hello, room");
      await stream.untilMessages(1);
      assert.equal(stream.retry, 2000);
      const [event] = messageEvents(stream);
      assert.equal(event.id, String(sent.id));
      assert.deepEqual(JSON.parse(event.data), sent);
      // The opening event tells clients the heartbeat interval.
      assert.deepEqual(stream.events[0], {
        id: undefined,
        event: "hello",
        data: '{"heartbeatMs":15000}',
      });
      await stream.close();
    } finally {
      await plaza.close();
    }
  });
});

Deno.test("a new stream first gets the latest messages oldest first (history, default 50)", async () => {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url);
    try {
      const posted = [];
      for (let i = 0; i < 60; i++) {
        posted.push(await postJson(plaza.url, "ada", `m${i}`));
      }
      const byDefault = await openSse(`${plaza.url}/stream`);
      await byDefault.untilMessages(50);
      assert.deepEqual(ids(messagesOf(byDefault)), ids(posted.slice(10)));
      const three = await openSse(`${plaza.url}/stream?history=3`);
      await three.untilMessages(3);
      const none = await openSse(`${plaza.url}/stream?history=0`);
      const live = await postJson(plaza.url, "bob", "live");
      await three.untilMessages(4);
      await none.untilMessages(1);
      await byDefault.untilMessages(51);
      assert.deepEqual(
        ids(messagesOf(three)),
        [...ids(posted.slice(57)), live.id],
      );
      assert.deepEqual(ids(messagesOf(none)), [live.id]);
      await Promise.all([byDefault.close(), three.close(), none.close()]);
    } finally {
      await plaza.close();
    }
  });
});

Deno.test("two instances on one database: posted to A, arrives on B", async () => {
  await withTestDatabase(async (url) => {
    const a = await startTestInstance(url);
    const b = await startTestInstance(url);
    try {
      const onB = await openSse(`${b.url}/stream`);
      const onA = await openSse(`${a.url}/stream`);
      const sent = await postJson(a.url, "ada", "from A");
      const back = await postJson(b.url, "bob", "from B");
      await onB.untilMessages(2);
      await onA.untilMessages(2);
      assert.deepEqual(messagesOf(onB), [sent, back]);
      assert.deepEqual(messagesOf(onA), [sent, back]);
      await Promise.all([onA.close(), onB.close()]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

Deno.test("a row inserted with psql reaches the stream", async () => {
  const psql = findPgBin("psql");
  assert.ok(psql, "psql not found: install the postgresql client");
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url);
    try {
      const stream = await openSse(`${plaza.url}/stream`);
      const out = await new Deno.Command(psql, {
        args: [
          url,
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          "insert into messages (author, text) values ('psql', 'typed by hand')",
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      await stream.untilMessages(1);
      const [m] = messagesOf(stream);
      assert.equal(m.author, "psql");
      assert.equal(m.text, "typed by hand");
      assert.match(m.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      await stream.close();
    } finally {
      await plaza.close();
    }
  });
});

Deno.test("a message too long for a NOTIFY payload still arrives whole", async () => {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url);
    try {
      const stream = await openSse(`${plaza.url}/stream`);
      // 2000 four-byte characters: 8000 bytes, over NOTIFY's payload limit.
      const text = "😀".repeat(2000);
      const sent = await postJson(plaza.url, "ada", text);
      await stream.untilMessages(1);
      assert.deepEqual(messagesOf(stream), [sent]);
      assert.equal(messagesOf(stream)[0].text, text);
      await stream.close();
    } finally {
      await plaza.close();
    }
  });
});

Deno.test("resuming with Last-Event-ID after 100 missed messages gets exactly those, in order", async () => {
  await withTestDatabase(async (url) => {
    const plaza = await startTestInstance(url);
    try {
      const first = await openSse(`${plaza.url}/stream`);
      const seen = await postJson(plaza.url, "ada", "before leaving");
      await first.untilMessages(1);
      await first.close();
      const missed = [];
      for (let i = 0; i < 100; i++) {
        missed.push(await postJson(plaza.url, "bob", `while away ${i}`));
      }
      const resumed = await openSse(`${plaza.url}/stream`, {
        lastEventId: messageEvents(first)[0].id,
      });
      await resumed.untilMessages(100);
      const after = await postJson(plaza.url, "ada", "back");
      await resumed.untilMessages(101);
      assert.deepEqual(ids(messagesOf(resumed)), [...ids(missed), after.id]);
      assert.equal(messagesOf(resumed)[0].text, "while away 0");

      // ?since= works the same, and the header wins over it.
      const bySince = await openSse(`${plaza.url}/stream?since=${seen.id}`);
      await bySince.untilMessages(101);
      const both = await openSse(`${plaza.url}/stream?since=0`, {
        lastEventId: missed[98].id,
      });
      await both.untilMessages(2);
      assert.deepEqual(ids(messagesOf(both)), [missed[99].id, after.id]);
      await Promise.all([resumed.close(), bySince.close(), both.close()]);
    } finally {
      await plaza.close();
    }
  });
});

Deno.test("4 writers x 250 through two instances while 10 readers reconnect at random: every reader gets all 1000 ids once, ascending", async () => {
  await withTestDatabase(async (url) => {
    const instances = [
      await startTestInstance(url),
      await startTestInstance(url),
    ];
    try {
      const total = 1000;
      const read = async (r: number, markConnected: () => void) => {
        // Each reader has its own seeded schedule, so a failure replays.
        const random = seededRandom(20261127 + r);
        const got: number[] = [];
        let lastId: string | undefined;
        let hop = r;
        while (got.length < total) {
          // Each connection reads a random number of messages, then drops
          // and resumes on the other instance from its last id.
          const quota = 20 + Math.floor(random() * 180);
          const base = instances[hop++ % 2].url;
          const stream = await openSse(
            `${base}/stream${lastId === undefined ? "?history=0" : ""}`,
            { lastEventId: lastId },
          );
          markConnected();
          const target = Math.min(quota, total - got.length);
          await stream.untilMessages(target);
          await stream.close();
          // Only what was read before the disconnect counts.
          for (const e of messageEvents(stream).slice(0, target)) {
            got.push(JSON.parse(e.data).id);
            lastId = e.id;
          }
        }
        return got;
      };
      const connected: Promise<void>[] = [];
      const readers = Array.from({ length: 10 }, (_, r) => {
        let markConnected!: () => void;
        connected.push(new Promise((resolve) => (markConnected = resolve)));
        return read(r, markConnected);
      });
      // Every reader is connected (history=0) before anything is posted, so
      // each must see exactly the 1000 messages below.
      await Promise.all(connected);
      const writers = Array.from({ length: 4 }, async (_, w) => {
        const mine: number[] = [];
        for (let i = 0; i < 250; i++) {
          const base = instances[(w + i) % 2].url;
          mine.push((await postJson(base, `writer${w}`, `message ${i}`)).id);
        }
        return mine;
      });
      const written = (await Promise.all(writers)).flat().sort((a, b) => a - b);
      assert.equal(new Set(written).size, total);
      for (const got of await Promise.all(readers)) {
        assert.deepEqual(got, written);
      }
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});

const lastPresence = (events: SseEvent[]) => {
  const p = events.filter((e) => e.event === "presence").at(-1);
  return p === undefined ? null : JSON.parse(p.data).online;
};

Deno.test("presence: the online count covers streams on every instance", async () => {
  await withTestDatabase(async (url) => {
    const a = await startTestInstance(url);
    const b = await startTestInstance(url);
    try {
      const onA = await openSse(`${a.url}/stream`);
      // The first presence event already counts the new stream itself.
      await onA.until((e) => lastPresence(e) !== null);
      assert.equal(lastPresence(onA.events), 1);
      const onB = await openSse(`${b.url}/stream`);
      const alsoB = await openSse(`${b.url}/stream`);
      for (const s of [onA, onB, alsoB]) {
        await s.until((e) => lastPresence(e) === 3);
      }
      await alsoB.close();
      await onB.close();
      await onA.until((e) => lastPresence(e) === 1);
      await onA.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

Deno.test("typing: POST /typing on one instance reaches streams on another, stores nothing", async () => {
  await withTestDatabase(async (url) => {
    const a = await startTestInstance(url);
    const b = await startTestInstance(url);
    try {
      const onB = await openSse(`${b.url}/stream`);
      // Typing is not stored: a stream hears it only once live (after its
      // backlog), which its first presence event marks.
      await onB.until((e) => e.some((x) => x.event === "presence"));
      const res = await fetch(`${a.url}/typing`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ author: " ada " }),
      });
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { ok: true });
      await onB.until((e) => e.some((x) => x.event === "typing"));
      const typing = onB.events.find((x) => x.event === "typing")!;
      assert.deepEqual(JSON.parse(typing.data), { author: "ada" });
      assert.equal(typing.id, undefined, "typing must not move Last-Event-ID");
      const history = await (await fetch(`${a.url}/messages`)).json();
      assert.deepEqual(history.messages, []);
      await onB.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

Deno.test("a deleted message: a delete event on every instance, gone from history, and told to clients resuming", async () => {
  await withTestDatabase(async (url) => {
    const token = "moderation-token-for-tests";
    const a = await startTestInstance(url, { ADMIN_TOKEN: token });
    const b = await startTestInstance(url, { ADMIN_TOKEN: token });
    try {
      const onB = await openSse(`${b.url}/stream?history=0`);
      const spam = await postJson(a.url, "spam", "buy now");
      const fine = await postJson(a.url, "ada", "hello");
      await onB.untilMessages(2);
      const res = await fetch(`${a.url}/messages/${spam.id}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 204);
      await res.body?.cancel();
      await onB.until((e) => e.some((x) => x.event === "delete"));
      const deleted = onB.events.find((x) => x.event === "delete")!;
      assert.deepEqual(JSON.parse(deleted.data), { id: spam.id });
      // A delete is a change like a message: it has the next number, so
      // resuming after it does not repeat it.
      assert.ok(
        Number(deleted.id) > fine.id,
        `delete numbered ${deleted.id}, after ${fine.id}`,
      );
      await onB.close();
      // Gone from history and from resumes…
      const fresh = await openSse(`${a.url}/stream`);
      await fresh.untilMessages(1);
      assert.deepEqual(ids(messagesOf(fresh)), [fine.id]);
      await fresh.close();
      // …and a client that was away when it went is told on resume.
      const back = await openSse(`${b.url}/stream`, { lastEventId: fine.id });
      await back.until((e) => e.some((x) => x.event === "delete"));
      assert.deepEqual(
        JSON.parse(back.events.find((x) => x.event === "delete")!.data),
        { id: spam.id },
      );
      await back.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
