import assert from "node:assert/strict";
import { createClaimCache } from "./claim_cache.ts";
import type { NameRecord, NameStore } from "./name_store.ts";

/** An in-memory NameStore that counts byKey reads and can hold one. */
function fakeStore() {
  const rows = new Map<string, NameRecord>();
  let nextId = 1;
  let reads = 0;
  let held: { release: () => void } | null = null;
  const store: NameStore = {
    async byKey(key) {
      reads++;
      const row = rows.get(key) ?? null;
      if (held !== null) {
        await new Promise<void>((resolve) => held!.release = resolve);
      }
      return row;
    },
    claim(key, name, tokenHash) {
      if (rows.has(key)) return Promise.resolve(null);
      const claim = {
        id: nextId++,
        key,
        name,
        tokenHash,
        lastUsedAt: new Date(0),
        claimedAt: new Date(0),
      };
      rows.set(key, claim);
      return Promise.resolve(claim);
    },
    freeKeys: () => Promise.resolve(new Set()),
    byId: () => Promise.resolve(null),
    byTokenHash: () => Promise.resolve(null),
    touch: () => Promise.resolve(),
    startTransfer: () => Promise.resolve(new Date()),
    finishTransfer(_code, tokenHash) {
      const claim = rows.get("ada");
      if (claim === undefined) return Promise.resolve(null);
      claim.tokenHash = tokenHash;
      return Promise.resolve({ ...claim });
    },
    release(id) {
      for (const [key, row] of rows) {
        if (row.id === id) {
          rows.delete(key);
          return Promise.resolve(true);
        }
      }
      return Promise.resolve(false);
    },
  };
  return {
    store,
    rows,
    reads: () => reads,
    hold() {
      held = { release: () => {} };
    },
    letGo() {
      const h = held!;
      held = null;
      h.release();
    },
  };
}

const HASH = "a".repeat(64);

Deno.test("while live, a claim and a free name are read once; a notification forgets the key", async () => {
  const fake = fakeStore();
  const cache = createClaimCache(fake.store);
  cache.setLive(true);
  await fake.store.claim("ada", "Ada", HASH, 0);
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
  assert.equal(await cache.byKey("bob"), null);
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
  assert.equal(await cache.byKey("bob"), null);
  assert.equal(fake.reads(), 2);
  // Claimed on another instance: the notification names the key.
  await fake.store.claim("bob", "Bob", "b".repeat(64), 0);
  assert.equal(await cache.byKey("bob"), null, "cached until told");
  cache.invalidate("bob");
  assert.equal((await cache.byKey("bob"))?.name, "Bob");
  assert.equal(fake.reads(), 3);
});

Deno.test("without LISTEN nothing is cached, and going live again starts empty", async () => {
  const fake = fakeStore();
  const cache = createClaimCache(fake.store);
  await cache.byKey("ada");
  await cache.byKey("ada");
  assert.equal(fake.reads(), 2);
  cache.setLive(true);
  await cache.byKey("ada");
  cache.setLive(false);
  await fake.store.claim("ada", "Ada", HASH, 0);
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
  cache.setLive(true);
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
  assert.equal(fake.reads(), 5);
});

Deno.test("a read that overlaps a notification is not kept", async () => {
  const fake = fakeStore();
  const cache = createClaimCache(fake.store);
  cache.setLive(true);
  fake.hold();
  const stale = cache.byKey("ada");
  await fake.store.claim("ada", "Ada", HASH, 0);
  cache.invalidate("ada");
  fake.letGo();
  assert.equal(await stale, null);
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
});

Deno.test("claims, moves and releases through the cache forget what they change", async () => {
  const fake = fakeStore();
  const cache = createClaimCache(fake.store);
  cache.setLive(true);
  assert.equal(await cache.byKey("ada"), null);
  await cache.claim("ada", "Ada", HASH, 0);
  assert.equal((await cache.byKey("ada"))?.tokenHash, HASH);
  await cache.finishTransfer("code", "c".repeat(64));
  assert.equal((await cache.byKey("ada"))?.tokenHash, "c".repeat(64));
  const { id } = (await cache.byKey("ada"))!;
  assert.equal(await cache.release(id), true);
  assert.equal(await cache.byKey("ada"), null);
});

Deno.test("fresh reads skip the cache; entries expire; the oldest go past the cap", async () => {
  const fake = fakeStore();
  let now = 0;
  const cache = createClaimCache(fake.store, {
    ttlMs: 1_000,
    maxEntries: 2,
    now: () => now,
  });
  cache.setLive(true);
  await cache.byKey("ada");
  await fake.store.claim("ada", "Ada", HASH, 0);
  assert.equal(await cache.byKey("ada"), null);
  assert.equal((await cache.byKey("ada", { fresh: true }))?.name, "Ada");
  now = 999;
  assert.equal((await cache.byKey("ada"))?.name, "Ada");
  now = 2_500;
  const before = fake.reads();
  await cache.byKey("ada");
  assert.equal(fake.reads(), before + 1, "expired entry read again");
  await cache.byKey("b");
  await cache.byKey("c");
  await cache.byKey("ada");
  assert.equal(fake.reads(), before + 4, "ada was evicted by b and c");
});
