import {
  type Database,
  DatabaseUnavailableError,
  isUnavailableError,
} from "../../db/database.ts";
import {
  type AddressLimiter,
  createRateLimiter,
  type RateDecision,
} from "./rate_limiter.ts";

/**
 * How often (at most) a shared limiter deletes buckets that have refilled
 * completely: a full bucket is the same as no row, so the table holds only
 * addresses seen lately. Done on a take, so no timer needs closing.
 */
export const BUCKET_SWEEP_MS = 60_000;
/** How often an instance marks its stream_counts rows as still alive. */
export const STREAM_REFRESH_MS = 10_000;
/** stream_counts rows not refreshed for this long belong to a dead instance. */
export const STREAM_STALE_MS = 30_000;

// The bucket's tokens as of now ($3 capacity, $4 per second); ON CONFLICT
// DO UPDATE takes no FROM, so the expression is repeated where it is needed.
const REFILLED = `least($3::float8, b.tokens + extract(epoch from
  clock_timestamp() - b.at)::float8 * $4::float8)`;

/** Runs `work`, turning a lost connection into the error the app answers 503 for. */
async function unavailableAs503<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailableError(error)) throw new DatabaseUnavailableError(error);
    throw error;
  }
}

/** Bucket size and refill rate of a shared limiter. */
export interface SharedRateOptions {
  /** Tells limits apart in the one table (`post`, `typing`). */
  kind: string;
  capacity: number;
  perSecond: number;
}

/**
 * A token bucket per (kind, address) in the database, refilled and spent in
 * one atomic statement, so every instance sharing the database spends from
 * one budget. A local bucket with the same size and rate runs in front: it
 * holds at least as many tokens as the shared one (it spends only what the
 * shared one granted here), so a refusal it gives is one the database would
 * give too, and a flood from one address costs no round trip.
 */
export function createSharedRateLimiter(
  db: Database,
  options: SharedRateOptions,
): AddressLimiter {
  const local = createRateLimiter({
    capacity: options.capacity,
    perSecond: options.perSecond,
  });
  // A bucket untouched this long is full again.
  const fullAfterSeconds = options.capacity / options.perSecond;
  let sweptAt = Date.now();
  const sweep = () => {
    if (Date.now() - sweptAt < BUCKET_SWEEP_MS) return;
    sweptAt = Date.now();
    db.query(
      `delete from rate_buckets
       where kind = $1 and at < now() - make_interval(secs => $2)`,
      [options.kind, fullAfterSeconds],
    ).catch(() => {
      // The next sweep tries again; rows only cost a little space.
    });
  };
  return {
    async take(key): Promise<RateDecision> {
      const ahead = local.peek(key);
      if (!ahead.ok) return ahead;
      sweep();
      const decision = await takeSharedToken(db, options, key);
      if (decision.ok) local.take(key);
      return decision;
    },
  };
}

/**
 * Spends a token of the bucket (options.kind, key) in the database, refilled
 * and spent in one atomic statement. With `unlessClientId`, a message with
 * that clientId already stored is let through without spending (the same
 * statement looks), so a retried send is never refused for its first try.
 */
export async function takeSharedToken(
  db: Database,
  options: SharedRateOptions,
  key: string,
  unlessClientId: string | null = null,
): Promise<RateDecision> {
  // `refilled` is the bucket as of now; a take is granted when it holds a
  // whole token.
  const params: unknown[] = [
    options.kind,
    key,
    options.capacity,
    options.perSecond,
  ];
  const upsert =
    `insert into rate_buckets as b (kind, address, tokens, at, granted)
     select $1::text, $2::text, $3::float8 - 1, clock_timestamp(), true ${
      unlessClientId === null ? "" : `where not exists (
       select 1 from messages where client_id = $5::uuid)`
    }
     on conflict (kind, address) do update set
       tokens = case when ${REFILLED} >= 1 then ${REFILLED} - 1
                     else ${REFILLED} end,
       granted = ${REFILLED} >= 1,
       at = clock_timestamp()
     returning granted, tokens`;
  if (unlessClientId !== null) params.push(unlessClientId);
  const [row] = await unavailableAs503(() =>
    db.query<{ granted: boolean; tokens: number }>(upsert, params)
  );
  // No row: the clientId is stored, nothing was spent.
  if (row === undefined || row.granted) return { ok: true };
  return {
    ok: false,
    retryAfterSeconds: Math.max(
      1,
      Math.ceil((1 - Number(row.tokens)) / options.perSecond),
    ),
  };
}

/** Open streams per client address (STREAMS_PER_ADDRESS). */
export interface StreamSlots {
  /** Takes a slot for `address` unless it already holds `limit`; false = refused. */
  acquire(address: string, limit: number): Promise<boolean>;
  /** Gives back a slot acquire() granted. */
  release(address: string): void;
  /** Stops refreshing and removes this instance's rows. */
  close(): Promise<void>;
}

/** Stream slots counted in this instance's memory only (one instance, or tests). */
export function createLocalStreamSlots(): StreamSlots {
  const open = new Map<string, number>();
  return {
    acquire(address, limit) {
      const n = open.get(address) ?? 0;
      if (n >= limit) return Promise.resolve(false);
      open.set(address, n + 1);
      return Promise.resolve(true);
    },
    release(address) {
      const n = (open.get(address) ?? 1) - 1;
      if (n > 0) open.set(address, n);
      else open.delete(address);
    },
    close: () => Promise.resolve(),
  };
}

/** Timings and error reporting of shared stream slots. */
export interface SharedStreamSlotsOptions {
  /** This process's id, as in presence (one row per instance and address). */
  instanceId: string;
  refreshMs?: number;
  staleMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/**
 * Stream slots counted in the stream_counts table, one row per (instance,
 * address), so STREAMS_PER_ADDRESS holds across instances. A grant checks
 * and counts under a per-address advisory lock, so two instances cannot both
 * grant the last slot. Rows of an instance that died without cleaning up
 * are ignored once they have not been refreshed for staleMs.
 */
export function createSharedStreamSlots(
  db: Database,
  options: SharedStreamSlotsOptions,
): StreamSlots {
  const { instanceId } = options;
  const refreshMs = options.refreshMs ?? STREAM_REFRESH_MS;
  const staleMs = options.staleMs ?? STREAM_STALE_MS;
  const onError = options.onError ?? (() => {});
  let pending: Promise<unknown> = Promise.resolve();
  let closed = false;
  const refresh = () => {
    pending = Promise.all([
      pending,
      db.query(
        `with gone as (
           delete from stream_counts where instance_id = $1 and streams <= 0
         )
         update stream_counts set updated_at = now() where instance_id = $1`,
        [instanceId],
      ).catch((error) => onError("Stream count refresh failed", error)),
    ]);
  };
  const timer = setInterval(refresh, refreshMs);
  return {
    async acquire(address, limit) {
      if (closed) return false;
      return await unavailableAs503(() =>
        db.transaction(async (tx) => {
          await tx.query("select pg_advisory_xact_lock(hashtext($1))", [
            `plaza_streams:${address}`,
          ]);
          const [row] = await tx.query<{ total: number | string }>(
            `select coalesce(sum(streams), 0) as total from stream_counts
           where address = $1
             and (instance_id = $2
                  or updated_at > now() - make_interval(secs => $3))`,
            [address, instanceId, staleMs / 1000],
          );
          if (Number(row.total) >= limit) return false;
          await tx.query(
            `insert into stream_counts (instance_id, address, streams)
           values ($1, $2, 1)
           on conflict (instance_id, address) do update
             set streams = stream_counts.streams + 1, updated_at = now()`,
            [instanceId, address],
          );
          return true;
        })
      );
    },
    release(address) {
      pending = Promise.all([
        pending,
        db.query(
          `update stream_counts set streams = streams - 1, updated_at = now()
           where instance_id = $1 and address = $2`,
          [instanceId, address],
        ).catch((error) => onError("Stream count update failed", error)),
      ]);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await pending;
      await db.query("delete from stream_counts where instance_id = $1", [
        instanceId,
      ]).catch((error) => onError("Stream count cleanup failed", error));
    },
  };
}
