/**
 * Claimed names cached in memory, so a post under an unclaimed or claimed
 * name costs no query. Without it every POST /messages waited for one more
 * round trip outside the group commit: `deno task bench --only posting` made
 * 1,930 / 3,039 messages/s (c=16 / c=64) with the lookup and 2,847 / 5,890
 * without it (2026-12-06, 2 cores).
 *
 * Entries are dropped when any instance changes a claim (the names trigger
 * notifies plaza_names with the key, db/migrations/007), and the whole cache
 * is dropped and bypassed while LISTEN is down, since notifications are lost
 * then. An entry also expires after CLAIM_CACHE_TTL_MS, which bounds how long
 * a notification lost without LISTEN noticing can keep one stale.
 */
import type { NameRecord, NameStore } from "./name_store.ts";

/** Longest an entry is believed without a notification. */
export const CLAIM_CACHE_TTL_MS = 60_000;
/** Entries kept at most (the oldest go first): names an address invents cost memory only up to this. */
export const CLAIM_CACHE_MAX_ENTRIES = 10_000;

/** A NameStore whose byKey answers from memory while it may. */
export interface ClaimCache extends NameStore {
  /** Forgets `key` (a plaza_names notification). */
  invalidate(key: string): void;
  /** Trusts the cache while LISTEN is up; either way it starts empty. */
  setLive(live: boolean): void;
}

type Entry = { claim: NameRecord | null; at: number };

/** Options of createClaimCache; the defaults are the constants above. */
export interface ClaimCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** Wraps `inner`: byKey is cached, writes through `inner` forget what they change. */
export function createClaimCache(
  inner: NameStore,
  options: ClaimCacheOptions = {},
): ClaimCache {
  const ttlMs = options.ttlMs ?? CLAIM_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? CLAIM_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let live = false;
  // Bumped by every invalidation: a read that started before one may have
  // seen the old row, so its answer is not kept.
  let generation = 0;

  const forget = (key: string) => {
    generation++;
    entries.delete(key);
  };
  const forgetId = (id: number) => {
    generation++;
    for (const [key, entry] of entries) {
      if (entry.claim?.id === id) entries.delete(key);
    }
  };
  const keep = (key: string, claim: NameRecord | null) => {
    entries.delete(key);
    entries.set(key, { claim, at: now() });
    if (entries.size > maxEntries) {
      entries.delete(entries.keys().next().value!);
    }
  };

  return {
    ...inner,
    async byKey(key, lookup) {
      if (live && !lookup?.fresh) {
        const entry = entries.get(key);
        if (entry !== undefined && now() - entry.at < ttlMs) {
          return entry.claim;
        }
      }
      const started = generation;
      const claim = await inner.byKey(key);
      if (live && started === generation) keep(key, claim);
      return claim;
    },
    async claim(key, name, tokenHash, idleDays) {
      try {
        return await inner.claim(key, name, tokenHash, idleDays);
      } finally {
        forget(key);
      }
    },
    async finishTransfer(codeHash, tokenHash) {
      const claim = await inner.finishTransfer(codeHash, tokenHash);
      if (claim !== null) forget(claim.key);
      return claim;
    },
    async release(id) {
      try {
        return await inner.release(id);
      } finally {
        forgetId(id);
      }
    },
    async touch(id) {
      await inner.touch(id);
      // The claim is the same; only its idle time restarts.
      const at = new Date(now());
      for (const entry of entries.values()) {
        if (entry.claim?.id === id) {
          entry.claim = { ...entry.claim, lastUsedAt: at };
        }
      }
    },
    invalidate: forget,
    setLive(value) {
      live = value;
      generation++;
      entries.clear();
    },
  };
}
