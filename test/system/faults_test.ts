// Faults a chat server meets in production: the database going away, an
// instance killed with -9, a shutdown with a request in flight.
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Message } from "../../protocol/message.ts";
import { postJson, startTestInstance } from "../harness/fixtures.ts";
import { startPgCluster } from "../harness/pg_cluster.ts";
import { startServerProcess } from "../harness/server_process.ts";
import {
  messageEvents,
  messagesOf,
  openSse,
  type SseClient,
} from "../harness/sse_client.ts";
import { withTestDatabase } from "../harness/fixtures.ts";
import { until } from "../harness/wait.ts";

const ids = (ms: { id: number }[]) => ms.map((m) => m.id);

const status = async (url: string) => {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
};

Deno.test("database outage: 503 while down, streams stay open, then every message exactly once", async () => {
  const cluster = await startPgCluster();
  const a = await startTestInstance(cluster.url, { HEARTBEAT_MS: "100" });
  const b = await startTestInstance(cluster.url, { HEARTBEAT_MS: "100" });
  const streams: SseClient[] = [];
  try {
    streams.push(await openSse(`${a.url}/stream?history=0`));
    streams.push(await openSse(`${b.url}/stream?history=0`));
    const first = await postJson(a.url, "ada", "before the outage");
    for (const s of streams) await s.untilMessages(1);

    await cluster.stopServer("fast");
    const refused = await fetch(`${a.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"author":"ada","text":"during the outage"}',
    });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.match((await refused.json()).error, /unavailable/);
    assert.equal(await status(`${a.url}/healthz`), 503);
    assert.equal(await status(`${b.url}/healthz`), 503);
    // Open streams stay open and keep beating.
    const beats = streams.map((s) => s.comments.length);
    for (const [i, s] of streams.entries()) {
      await s.until(() => s.comments.length >= beats[i] + 3);
    }

    await cluster.startServer();
    // Another writer gets in, perhaps before the instances have noticed the
    // database is back (then only their back-fill can deliver these rows).
    const sql = postgres(cluster.url, { onnotice: () => {} });
    const direct: Message[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const [row] = await sql<{ m: Message }[]>`
          insert into messages (author, text) values ('psql', ${`direct ${i}`})
          returning message_json(messages) as m`;
        direct.push(row.m);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
    await until(
      async () =>
        await status(`${a.url}/healthz`) === 200 &&
        await status(`${b.url}/healthz`) === 200,
      { timeoutMs: 20_000, intervalMs: 50, what: "healthz back to 200" },
    );
    const after = await postJson(b.url, "bob", "after the outage");
    const expected = [first, ...direct, after];
    for (const s of streams) {
      await s.untilMessages(expected.length);
      assert.deepEqual(ids(messagesOf(s)), ids(expected));
    }
  } finally {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all([a.close(), b.close()]);
    await cluster.stop();
  }
});

Deno.test("an instance killed with -9: its clients resume elsewhere, and on it once restarted, losing nothing", async () => {
  await withTestDatabase(async (url) => {
    const survivor = await startTestInstance(url);
    let victim = await startServerProcess({ DATABASE_URL: url });
    try {
      const reader = await openSse(`${victim.url}/stream?history=0`);
      const seen = await postJson(survivor.url, "ada", "seen before the crash");
      await reader.untilMessages(1);
      await victim.kill();
      await reader.ended;
      await reader.close();
      const missed = [];
      for (let i = 0; i < 5; i++) {
        missed.push(
          await postJson(survivor.url, "bob", `while it was down ${i}`),
        );
      }
      const lastId = messageEvents(reader).at(-1)!.id;
      assert.equal(lastId, String(seen.id));
      // Resume on the surviving instance…
      const elsewhere = await openSse(`${survivor.url}/stream`, {
        lastEventId: lastId,
      });
      await elsewhere.untilMessages(5);
      assert.deepEqual(ids(messagesOf(elsewhere)), ids(missed));
      await elsewhere.close();
      // …or on the crashed one once it is back.
      victim = await startServerProcess({ DATABASE_URL: url });
      const back = await openSse(`${victim.url}/stream`, {
        lastEventId: lastId,
      });
      await back.untilMessages(5);
      assert.deepEqual(ids(messagesOf(back)), ids(missed));
      await back.close();
    } finally {
      await victim.kill();
      await survivor.close();
    }
  });
});

Deno.test("SIGTERM finishes a POST already in flight before exiting", async () => {
  await withTestDatabase(async (url) => {
    const server = await startServerProcess({ DATABASE_URL: url });
    const sql = postgres(url, { onnotice: () => {}, max: 2 });
    try {
      const port = Number(new URL(server.url).port);
      // Hold the lock every insert takes (see db/migrations), so the POST
      // below is certainly still in its handler when SIGTERM arrives.
      const holder = await sql.reserve();
      await holder`begin`;
      await holder`select pg_advisory_xact_lock(7461626)`;
      const post = fetch(`${server.url}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"author":"ada","text":"sent as the server stops"}',
      });
      await until(
        async () => {
          const [row] = await sql`
          select count(*)::int as n from pg_locks
          where locktype = 'advisory' and not granted`;
          return row.n === 1;
        },
        {
          timeoutMs: 5_000,
          intervalMs: 50,
          what: "the insert waits for the lock",
        },
      );
      server.child.kill("SIGTERM");
      // Once the server stops accepting, the shutdown is under way.
      await until(
        async () => {
          try {
            (await Deno.connect({ hostname: "127.0.0.1", port })).close();
            return false;
          } catch {
            return true;
          }
        },
        { timeoutMs: 5_000, intervalMs: 50, what: "server stops accepting" },
      );
      await holder`commit`;
      holder.release();
      const res = await post;
      assert.equal(res.status, 201, await server.stderr);
      const stored = await res.json();
      assert.equal((await server.exited()).code, 0);
      const [row] = await sql`select count(*)::int as n from messages`;
      assert.equal(row.n, 1);
      assert.equal(stored.text, "sent as the server stops");
    } finally {
      await server.kill();
      await sql.end({ timeout: 1 });
    }
  });
});

Deno.test("SIGTERM while a POST body is still arriving: 503 with Retry-After, never a 500", async () => {
  await withTestDatabase(async (url) => {
    const server = await startServerProcess({ DATABASE_URL: url });
    try {
      const port = Number(new URL(server.url).port);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const body = '{"author":"ada","text":"half sent"}';
      await conn.write(new TextEncoder().encode(
        "POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      ));
      // A request on another connection answered after this one was sent:
      // by then the server is reading this body.
      const health = await fetch(`${server.url}/healthz`);
      await health.body?.cancel();
      server.child.kill("SIGTERM");
      // The rest of the body is never sent: Deno drops a body still arriving
      // once shutdown begins, and the handler answers without it. (Sending it
      // would race the server closing the connection.)
      const reply = new Uint8Array(8192);
      let n: number | null = null;
      try {
        n = await conn.read(reply);
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      }
      conn.close();
      const text = new TextDecoder().decode(reply.subarray(0, n ?? 0));
      // The client is told to send it again (with its clientId, harmlessly);
      // never a 500.
      assert.match(text, /^HTTP\/1\.1 503/, text);
      assert.match(text, /retry-after: 1/i);
      assert.equal((await server.exited()).code, 0);
    } finally {
      await server.kill();
    }
  });
});
