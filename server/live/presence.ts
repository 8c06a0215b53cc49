import { PRESENCE_CHANNEL } from "../../db/channels.ts";
import type { Database } from "../../db/database.ts";
import { type Hub, MAX_PRESENCE_NAMES } from "./hub.ts";
import type { PresentName } from "./stream_names.ts";
import { createLogger, describeError } from "../observe/logger.ts";

/**
 * Keeps this instance's stream count and stream names in Postgres and the
 * room's total and names in the hub.
 */
export interface Presence {
  /** Handler for PRESENCE_CHANNEL notifications (wired to the listener). */
  onNotify(): void;
  start(): Promise<void>;
  /** Removes this instance's row so the total drops at once. */
  close(): Promise<void>;
}

/** Dependencies and timings of presence. */
export interface PresenceOptions {
  db: Database;
  hub: Hub;
  /** Unique per process, e.g. crypto.randomUUID(). */
  instanceId: string;
  /** How often the local count is checked (and written when it changed). */
  tickMs?: number;
  /** Rows older than this are ignored: their instance died without saying so. */
  staleMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/** Creates the presence keeper; counts are written at most once per tick. */
export function createPresence(options: PresenceOptions): Presence {
  const { db, hub, instanceId } = options;
  const tickMs = options.tickMs ?? 1_000;
  const staleMs = options.staleMs ?? 30_000;
  const onError = options.onError ??
    // Unwired (tests, tools): still one structured line on stderr.
    ((message, error) =>
      createLogger({ level: "error" }).error("presence_error", {
        message,
        error: describeError(error),
      }));
  // Rows are refreshed well within staleMs even when nothing changes.
  const refreshMs = Math.max(tickMs, Math.floor(staleMs / 3));
  let written = -1;
  let writtenAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let dirty = false;
  let running: Promise<void> = Promise.resolve();

  // Only the other instances' rows: this instance's own count is the hub's
  // live size, which a stream that just connected already includes.
  const remoteTotal = async () => {
    const [row] = await db.query<{ total: number | string }>(
      `select coalesce(sum(streams), 0) as total from presence
       where instance_id <> $1
         and updated_at > now() - make_interval(secs => $2)`,
      [instanceId, staleMs / 1000],
    );
    hub.setRemoteOnline(Number(row.total));
    // The first names by key: with this instance's own, the first
    // MAX_PRESENCE_NAMES of the union are among them.
    const names = await db.query<{ name_key: string; name: string }>(
      `select distinct on (n.name_key) n.name_key, n.name
       from presence_names n join presence p using (instance_id)
       where n.instance_id <> $1
         and p.updated_at > now() - make_interval(secs => $2)
       order by n.name_key, n.name
       limit $3`,
      [instanceId, staleMs / 1000, MAX_PRESENCE_NAMES],
    );
    hub.setRemoteNames(
      names.map((r): PresentName => ({ key: r.name_key, name: r.name })),
    );
  };

  // Only names that came or went since the last write: a name's further
  // tabs cost nothing. Written at once when the last write is a tick old,
  // else when it is (at most one write per tick), so a name opened here
  // reaches the other instances' next presence tick, within about a second.
  // Writes run one after another, in order; a failed one puts its keys back.
  let namesWrittenAt = -Infinity;
  let namesTimer: ReturnType<typeof setTimeout> | undefined;
  let namesRun: Promise<void> = Promise.resolve();
  const writeNames = async () => {
    const changes = hub.names.takeChanges();
    if (changes.size === 0) return;
    const gone: string[] = [];
    const keys: string[] = [];
    const shown: string[] = [];
    for (const [key, name] of changes) {
      if (name === null) {
        gone.push(key);
      } else {
        keys.push(key);
        shown.push(name);
      }
    }
    try {
      // Written and announced in one statement: others re-read on commit.
      await db.query(
        `with gone as (
           delete from presence_names
           where instance_id = $1 and name_key = any($2::text[])
         ), added as (
           insert into presence_names (instance_id, name_key, name)
           select $1, k, n from unnest($3::text[], $4::text[]) as t(k, n)
           on conflict (instance_id, name_key)
           do update set name = excluded.name
         )
         select pg_notify($5, '')`,
        [instanceId, gone, keys, shown, PRESENCE_CHANNEL],
      );
    } catch (error) {
      hub.names.markChanged(changes.keys());
      onError("Presence names update failed", error);
      writeNamesSoon();
    }
  };
  const writeNamesSoon = () => {
    if (closed || namesTimer !== undefined) return;
    namesTimer = setTimeout(() => {
      namesTimer = undefined;
      namesWrittenAt = Date.now();
      namesRun = namesRun.then(writeNames);
    }, Math.max(0, namesWrittenAt + tickMs - Date.now()));
  };
  hub.names.watch(writeNamesSoon);

  const tick = async () => {
    const count = hub.size;
    const now = Date.now();
    if (count !== written || now - writtenAt >= refreshMs) {
      // Upsert and NOTIFY in one statement: others recount when it commits.
      await db.query(
        `with up as (
           insert into presence (instance_id, streams, updated_at)
           values ($1, $2, now())
           on conflict (instance_id)
           do update set streams = excluded.streams, updated_at = now()
         )
         select pg_notify($3, '')`,
        [instanceId, count, PRESENCE_CHANNEL],
      );
      written = count;
      writtenAt = now;
    }
    if (dirty) {
      dirty = false;
      await remoteTotal();
    }
    hub.refreshPresence();
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      running = tick().catch((error) => {
        onError("Presence update failed", error);
      }).finally(schedule);
    }, tickMs);
  };

  return {
    // Recounts are batched into the next tick, so a burst of joins across
    // many instances costs one query per instance per tick.
    onNotify() {
      dirty = true;
    },
    async start() {
      dirty = true;
      // Names counted before the start go now; the next change goes at once.
      clearTimeout(namesTimer);
      namesTimer = undefined;
      await (namesRun = namesRun.then(writeNames));
      await tick();
      schedule();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(namesTimer);
      await running;
      await namesRun;
      await db.query(
        `with gone as (delete from presence where instance_id = $1),
         names as (delete from presence_names where instance_id = $1)
         select pg_notify($2, '')`,
        [instanceId, PRESENCE_CHANNEL],
      ).catch((error) => onError("Presence cleanup failed", error));
    },
  };
}
