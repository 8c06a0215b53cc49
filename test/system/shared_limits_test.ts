// The abuse limits hold for the room, not per instance: every instance on
// one database spends from the same budget per client address.
import assert from "node:assert/strict";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { openSse, type SseClient } from "../harness/sse_client.ts";
import { loadConfig } from "../../server/config.ts";
import { type Plaza, startPlaza } from "../../server/plaza.ts";

async function post(url: string, text: string): Promise<number> {
  const res = await fetch(`${url}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: "ann", text }),
  });
  await res.body?.cancel();
  return res.status;
}

async function typing(url: string): Promise<number> {
  const res = await fetch(`${url}/typing`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: "ann" }),
  });
  await res.body?.cancel();
  return res.status;
}

/** Posts `count` times, alternating over `instances`; returns the statuses. */
async function alternate(
  instances: Plaza[],
  count: number,
  send: (url: string, i: number) => Promise<number>,
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    statuses.push(await send(instances[i % instances.length].url, i));
  }
  return statuses;
}

async function withTwo(
  url: string,
  env: Record<string, string>,
  fn: (instances: Plaza[]) => Promise<void>,
): Promise<void> {
  const instances = await Promise.all(
    [1, 2].map(() => startTestInstance(url, env)),
  );
  try {
    await fn(instances);
  } finally {
    await Promise.all(instances.map((i) => i.close()));
  }
}

Deno.test("POST_RATE holds across two instances", async () => {
  await withTestDatabase(async (url) => {
    await withTwo(
      url,
      { POST_RATE: "5/60s", POST_BURST: "5" },
      async (instances) => {
        const statuses = await alternate(
          instances,
          12,
          (u, i) => post(u, `m${i}`),
        );
        const accepted = statuses.filter((s) => s === 201).length;
        assert.ok(
          accepted >= 5 && accepted <= 6,
          `accepted ${accepted}: ${statuses}`,
        );
        assert.deepEqual(
          statuses.filter((s) => s !== 201),
          Array(12 - accepted).fill(429),
        );
      },
    );
  });
});

Deno.test("TYPING_RATE holds across two instances", async () => {
  await withTestDatabase(async (url) => {
    await withTwo(
      url,
      { TYPING_RATE: "1/60s", TYPING_BURST: "3" },
      async (instances) => {
        const statuses = await alternate(instances, 8, (u) => typing(u));
        const accepted = statuses.filter((s) => s === 204 || s === 202);
        assert.ok(
          accepted.length >= 3 && accepted.length <= 4,
          `accepted ${accepted.length}: ${statuses}`,
        );
        assert.equal(
          statuses.filter((s) => s === 429).length,
          8 - accepted.length,
        );
      },
    );
  });
});

Deno.test("STREAMS_PER_ADDRESS holds across two instances", async () => {
  await withTestDatabase(async (url) => {
    await withTwo(url, { STREAMS_PER_ADDRESS: "4" }, async (instances) => {
      const streams: SseClient[] = [];
      try {
        for (let i = 0; i < 6; i++) {
          streams.push(
            await openSse(`${instances[i % 2].url}/stream?history=0`),
          );
        }
        assert.deepEqual(
          streams.map((s) => s.response.status),
          [200, 200, 200, 200, 429, 429],
        );
        // A closed stream gives its slot back, on the other instance too.
        await streams[0].close();
        const again = await waitForStatus(instances[1].url, 200);
        streams.push(again);
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });
  });
});

/** Opens streams until one answers `status` (a released slot is counted down asynchronously). */
async function waitForStatus(url: string, status: number): Promise<SseClient> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = await openSse(`${url}/stream?history=0`);
    if (client.response.status === status) return client;
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no stream answered ${status}`);
}

Deno.test("the default POST_RATE limits (on PGlite, counted in its database)", async () => {
  const dataDir = await Deno.makeTempDir();
  // The defaults (10/10s, burst 5): no POST_RATE or POST_BURST given.
  const plaza = await startPlaza(loadConfig({
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    DIST_DIR: "./this-test-serves-no-client",
  }));
  try {
    const statuses = await alternate([plaza], 8, (u, i) => post(u, `m${i}`));
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429, 429]);
  } finally {
    await plaza.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
