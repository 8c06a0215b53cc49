// Each instance caches claimed names (server/store/claim_cache.ts); a claim
// made, moved or released through one instance must hold on the other within
// a second, and a token sent right after a claim elsewhere must never be
// taken for an unclaimed name.
import assert from "node:assert/strict";
import {
  claimName,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";
import type { Plaza } from "../../server/plaza.ts";
import { within } from "../harness/wait.ts";

/** How long a change of a claim may take to reach another instance. */
const PROPAGATION_MS = 1_000;
const withinPropagation = <T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
) => within(PROPAGATION_MS, read, holds);

async function post(
  base: string,
  author: string,
  token: string | null = null,
): Promise<{ status: number; verified: unknown }> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/messages`, {
    method: "POST",
    headers,
    body: JSON.stringify({ author, text: "hi" }),
  });
  const body = await res.json();
  return { status: res.status, verified: body.verified };
}

async function withTwo(fn: (a: Plaza, b: Plaza) => Promise<void>) {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { POST_RATE: "off" })),
    );
    try {
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("a name claimed on one instance needs its token on the other within a second", async () => {
  await withTwo(async (a, b) => {
    // B has seen "kim" unclaimed.
    assert.deepEqual(await post(b.url, "kim"), {
      status: 201,
      verified: false,
    });
    const token = await claimName(a.url, "kim");
    await withinPropagation(() => post(b.url, "kim"), (r) => r.status === 403);
    assert.deepEqual(await post(b.url, "kim", token), {
      status: 201,
      verified: true,
    });
  });
});

Deno.test("a name moved or released through one instance is so on the other within a second", async () => {
  await withTwo(async (a, b) => {
    const token = await claimName(a.url, "lou");
    // B caches the claim with this token.
    assert.equal((await post(b.url, "lou", token)).status, 201);
    const auth = { Authorization: `Bearer ${token}` };
    const transfer = await fetch(`${a.url}/names/lou/transfer`, {
      method: "POST",
      headers: auth,
    });
    assert.equal(transfer.status, 201);
    const { code } = await transfer.json();
    const moved = await fetch(`${a.url}/names/claim`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    assert.equal(moved.status, 201);
    const fresh = (await moved.json()).token as string;
    await withinPropagation(
      () => post(b.url, "lou", token),
      (r) => r.status === 403,
    );
    assert.deepEqual(await post(b.url, "lou", fresh), {
      status: 201,
      verified: true,
    });
    const released = await fetch(`${a.url}/names/lou`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${fresh}` },
    });
    assert.equal(released.status, 204);
    await released.body?.cancel();
    await withinPropagation(
      () => post(b.url, "lou"),
      (r) => r.status === 201 && r.verified === false,
    );
  });
});
