/**
 * RETENTION_DAYS: messages older than that are removed (their reactions,
 * previews and anything else a delete removes go with them) through the
 * ordinary delete path, so each removal is a `delete` change in the log that
 * live streams and resumes see. One instance at a time does the work: it
 * leases the job's row in `maintenance_leases` (db/migrations/019); the
 * others find the lease held, or the job done recently, and do nothing.
 */
import type { Database } from "../../db/database.ts";
import type { MessageStore } from "./message_store.ts";
import { guard } from "./db_errors.ts";

/** Messages removed per transaction: each holds the change log's lock, so posts wait at most one batch. */
export const RETENTION_BATCH = 500;
/** How often each instance looks whether retention is due (it runs once per interval across all instances). */
export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** How long a lease lasts without renewal; the holder renews it after every batch, so a crashed holder is replaced after this. */
export const RETENTION_LEASE_MS = 2 * 60_000;
/** The first look after start-up, so a restart does not wait a whole interval. */
export const RETENTION_FIRST_DELAY_MS = 5_000;
/** The job's row in maintenance_leases. */
export const RETENTION_JOB = "retention";

/** What a retention run needs. */
export interface RetentionOptions {
  db: Database;
  /** The delete path (MessageStore.removeMany). */
  store: Pick<MessageStore, "removeMany">;
  /** RETENTION_DAYS: messages created longer ago than this are removed. */
  days: number;
  /** This instance, as the lease's holder. */
  instanceId: string;
  /** Least time between two runs across all instances (RETENTION_INTERVAL_MS). */
  intervalMs?: number;
  /** Messages per transaction (RETENTION_BATCH). */
  batch?: number;
  /** True when the instance is stopping: the run ends after its batch. */
  stopping?: () => boolean;
}

/**
 * One run if it is due and no other instance holds it: the number of
 * messages removed, or null when this instance did nothing.
 */
export async function runRetention(
  options: RetentionOptions,
): Promise<number | null> {
  const { db, instanceId } = options;
  const intervalMs = options.intervalMs ?? RETENTION_INTERVAL_MS;
  const batch = options.batch ?? RETENTION_BATCH;
  const claimed = await guard(async () => {
    await db.query(
      `insert into maintenance_leases (job) values ($1)
       on conflict (job) do nothing`,
      [RETENTION_JOB],
    );
    // Row-locked: of two instances claiming at once, the second re-reads
    // the row after the first commits and finds it held.
    return (await db.query(
      `update maintenance_leases
       set holder = $2, held_until = now() + make_interval(secs => $3)
       where job = $1 and held_until < now()
         and done_at <= now() - make_interval(secs => $4)
       returning job`,
      [RETENTION_JOB, instanceId, RETENTION_LEASE_MS / 1000, intervalMs / 1000],
    )).length > 0;
  });
  if (!claimed) return null;
  let removed = 0;
  for (;;) {
    const rows = await guard(() =>
      db.query<{ id: number | string }>(
        `select id from messages
         where created_at < now() - make_interval(days => $1)
         order by created_at, id limit $2`,
        [options.days, batch],
      )
    );
    if (rows.length > 0) {
      removed += (await options.store.removeMany(rows.map((r) => Number(r.id))))
        .length;
    }
    if (rows.length < batch || options.stopping?.()) break;
    // Renewed after each batch; lost (taken over after it ran out), stop.
    const held = await guard(() =>
      db.query(
        `update maintenance_leases
         set held_until = now() + make_interval(secs => $3)
         where job = $1 and holder = $2 returning job`,
        [RETENTION_JOB, instanceId, RETENTION_LEASE_MS / 1000],
      )
    );
    if (held.length === 0) return removed;
  }
  await guard(() =>
    db.query(
      `update maintenance_leases
       set holder = null, held_until = '-infinity', done_at = now()
       where job = $1 and holder = $2`,
      [RETENTION_JOB, instanceId],
    )
  );
  return removed;
}

/** A running retention schedule. */
export interface RetentionSchedule {
  /** Stops looking; waits for a run under way to finish its batch. */
  close(): Promise<void>;
}

/** Looks every `intervalMs` whether retention is due and runs it; errors go to `onError`, results to `onRun`. */
export function startRetention(
  options: RetentionOptions & {
    onError: (message: string, error: unknown) => void;
    onRun?: (removed: number) => void;
    firstDelayMs?: number;
  },
): RetentionSchedule {
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      running = runRetention({
        ...options,
        stopping: () => closed || (options.stopping?.() ?? false),
      })
        .then((removed) => {
          if (removed !== null) options.onRun?.(removed);
        })
        .catch((error) => options.onError("Retention run failed", error))
        .finally(() => schedule(options.intervalMs ?? RETENTION_INTERVAL_MS));
    }, delay);
  };
  schedule(options.firstDelayMs ?? RETENTION_FIRST_DELAY_MS);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
