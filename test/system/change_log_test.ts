// The change log end to end: instances sharing one Postgres (and the
// embedded PGlite) stream every change once and in order, resumed streams
// replay what they missed, and every client ends with the state GET
// /messages gives, through concurrency, psql writes and a database restart.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  claimName,
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import { startPgCluster } from "../harness/pg_cluster.ts";
import { seededRandom } from "../harness/seeded_random.ts";
import {
  allMessages,
  applyEvent,
  messagesIn,
  resumingClient,
  type RoomState,
} from "../harness/room_state.ts";
import { runTraffic, type Writer } from "../harness/room_traffic.ts";
import { openSse } from "../harness/sse_client.ts";
import type { Plaza } from "../../server/plaza.ts";

const seed = Number(Deno.env.get("CHANGE_LOG_SEED") ?? Date.now() % 2 ** 31);

async function claimWriters(instances: Plaza[], names: string[]) {
  const writers: Writer[] = [];
  for (const [i, name] of names.entries()) {
    writers.push({
      name,
      token: await claimName(instances[i % instances.length].url, name),
    });
  }
  return writers;
}

/** Waits for every client to reach the room's last change, then compares each with GET /messages on every instance. */
async function settleAndCompare(
  instances: Plaza[],
  clients: ReturnType<typeof resumingClient>[],
  deletes: number[],
) {
  // A last message marks the end: once a client has it, it has everything.
  const last = await postJson(instances[0].url, "sentinel", "the end");
  await Promise.all(clients.map((c) => c.finish(last.id)));
  const expected = await allMessages(instances[0].url);
  for (const instance of instances.slice(1)) {
    assert.deepEqual(await allMessages(instance.url), expected);
  }
  for (const [i, client] of clients.entries()) {
    assert.deepEqual(messagesIn(client.state), expected, `client ${i}`);
    const seen = new Set(client.seen);
    for (const d of deletes) {
      assert.ok(seen.has(d), `client ${i} never heard of delete ${d}`);
    }
  }
}

async function deleteSeqs(url: string): Promise<number[]> {
  const sql = postgres(url, { onnotice: () => {} });
  try {
    return (await sql<{ seq: number }[]>`
      select seq::int from changes where kind = 'delete'`).map((r) => r.seq);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test(`two instances: concurrent posts, edits, reactions and deletes (API and psql) while streams resume at random points; every stream ends as GET /messages (seed ${seed})`, async () => {
  const random = seededRandom(seed);
  await withTestDatabase(async (url) => {
    const instances = await Promise.all(
      [0, 1].map(() => startTestInstance(url, { HEARTBEAT_MS: "100" })),
    );
    const sql = postgres(url, { onnotice: () => {} });
    try {
      const writers = await claimWriters(instances, ["ada", "bob", "cy"]);
      const urls = instances.map((i) => i.url);
      const clients = [1, 2, 3, 4].map((k) =>
        resumingClient(urls, seededRandom(seed + k))
      );
      await runTraffic({ urls, writers, sql, random, operations: 60 });
      await settleAndCompare(instances, clients, await deleteSeqs(url));
    } finally {
      await sql.end({ timeout: 1 });
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});

Deno.test(`through a Postgres restart: streams resumed mid-outage still end as GET /messages (seed ${seed})`, async () => {
  const random = seededRandom(seed ^ 0x5eed);
  const cluster = await startPgCluster();
  const instances = await Promise.all(
    [0, 1].map(() => startTestInstance(cluster.url, { HEARTBEAT_MS: "100" })),
  );
  const sql = postgres(cluster.url, { onnotice: () => {} });
  try {
    const writers = await claimWriters(instances, ["ada", "bob"]);
    const urls = instances.map((i) => i.url);
    const clients = [1, 2, 3].map((k) =>
      resumingClient(urls, seededRandom(seed + k))
    );
    const traffic = runTraffic({
      urls,
      writers,
      sql,
      random,
      operations: 50,
      tolerateOutage: true,
    });
    // Restart while the traffic runs: some changes are written while the
    // listeners are away, some right after, by psql too.
    await new Promise((r) => setTimeout(r, 300));
    await cluster.restart("fast");
    await traffic;
    await settleAndCompare(instances, clients, await deleteSeqs(cluster.url));
  } finally {
    await sql.end({ timeout: 1 });
    await Promise.all(instances.map((i) => i.close()));
    await cluster.stop();
  }
});

Deno.test("embedded PGlite: edits, reactions, replies and deletes stream live and replay on resume, also after a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "plaza_pglite_changes_" });
  const live: RoomState = new Map();
  const changeEvents = (events: { id?: string; event: string }[]) =>
    events.filter((e) => e.id !== undefined);
  try {
    let plaza = await startTestInstance(null, { DATA_DIR: dataDir });
    let first;
    try {
      const stream = await openSse(`${plaza.url}/stream?since=0`);
      const ada = await claimName(plaza.url, "ada");
      first = await postJson(plaza.url, "ada", "first", { token: ada });
      const send = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${plaza.url}${path}`, {
          method,
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${ada}`,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        await res.body?.cancel();
        assert.ok(res.ok, `${method} ${path}: ${res.status}`);
      };
      const second = await postJson(plaza.url, "bob", "second");
      await send("POST", "/messages", {
        author: "ada",
        text: "re",
        replyTo: second.id,
      });
      await send("PATCH", `/messages/${first.id}`, { text: "first, edited" });
      await send("POST", `/messages/${second.id}/reactions`, { emoji: "👍" });
      await send("DELETE", `/messages/${first.id}`);
      await stream.until((e) => changeEvents(e).length >= 6);
      await stream.close();
      for (const e of stream.events) applyEvent(live, e);
      assert.deepEqual(messagesIn(live), await allMessages(plaza.url));
      assert.deepEqual(
        changeEvents(stream.events).map((e) => e.event),
        ["message", "message", "message", "edit", "reaction", "delete"],
      );
    } finally {
      await plaza.close();
    }
    plaza = await startTestInstance(null, { DATA_DIR: dataDir });
    try {
      // A client that had only the first message resumes after the restart:
      // it is told of the rest, the delete of its message included.
      const resumed = await openSse(`${plaza.url}/stream`, {
        lastEventId: first.id,
      });
      await resumed.until((e) => e.some((x) => x.event === "delete"));
      await resumed.close();
      const state: RoomState = new Map([[first.id, first]]);
      for (const e of resumed.events) applyEvent(state, e);
      assert.deepEqual(messagesIn(state), await allMessages(plaza.url));
      assert.deepEqual(messagesIn(state), messagesIn(live));
      assert.deepEqual(
        changeEvents(resumed.events).map((e) => e.event),
        // The edit of a message deleted since is skipped; its delete is not.
        ["message", "message", "reaction", "delete"],
      );
    } finally {
      await plaza.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
