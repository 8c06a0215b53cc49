import { CHANGES_CHANNEL } from "../../db/channels.ts";
import type { Database, ListenSession } from "../../db/database.ts";
import type { Hub } from "./hub.ts";
import { createLogger, describeError } from "../observe/logger.ts";
import type { Message } from "../../protocol/message.ts";
import {
  type Change,
  type ChangeFeed,
  messageChange,
  parseChangeNote,
} from "../store/change_feed.ts";

/** Handler for a channel whose notifications are signals, not stored rows. */
export type SignalHandler = (payload: string) => void;

/**
 * Keeps one LISTEN session per instance and feeds every committed change
 * (new messages, edits, deletes, reactions), once and in order of their
 * numbers, to the hub.
 */
export interface NotifyListener {
  /** Resolves once the first LISTEN is live; rejects if it cannot be opened. */
  start(): Promise<void>;
  /** True while the LISTEN session is up and caught up. */
  readonly live: boolean;
  /**
   * Messages this instance just committed, ascending: published at once
   * when their ids directly follow the last change number published,
   * instead of a turn later with their NOTIFY (which is then skipped as
   * already published).
   */
  committed(messages: readonly Message[]): void;
  /** Stops listening and reconnecting. */
  close(): Promise<void>;
}

/** Dependencies and timings of the listener. */
export interface NotifyListenerOptions {
  db: Database;
  changes: ChangeFeed;
  hub: Hub;
  /**
   * Other channels on the same session (presence, typing): passed straight
   * through, with no ordering or back-fill, as nothing of them is stored.
   */
  signals?: Record<string, SignalHandler>;
  /** First reconnect delay; doubles up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** How often the session is pinged; a ping unanswered within this time rebuilds it. */
  watchdogMs?: number;
  /** Where failures are reported. */
  onError?: (message: string, error: unknown) => void;
  /** Told when the session goes live (caught up) or down, e.g. for logs. */
  onLiveChange?: (live: boolean) => void;
  /**
   * Told each change after the hub has it: every committed change once and
   * in order, back-fill included (the push dispatcher wakes on messages).
   */
  onPublish?: (change: Change) => void;
}

const BACKFILL_PAGE = 1000;

/** Creates the listener; nothing happens until start(). */
export function createNotifyListener(
  options: NotifyListenerOptions,
): NotifyListener {
  const { db, changes, hub } = options;
  const signals = options.signals ?? {};
  const channels = [CHANGES_CHANNEL, ...Object.keys(signals)];
  const minRetryMs = options.minRetryMs ?? 250;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  const watchdogMs = options.watchdogMs ?? 15_000;
  const onError = options.onError ??
    // Unwired (tests, tools): still one structured line on stderr.
    ((message, error) =>
      createLogger({ level: "error" }).error("listen_error", {
        message,
        error: describeError(error),
      }));

  let session: ListenSession | null = null;
  let live = false;
  const setLive = (value: boolean) => {
    if (value === live) return;
    live = value;
    options.onLiveChange?.(value);
  };
  let closed = false;
  // The last change number handed to the hub; null until the first LISTEN
  // decides where "now" is, so a fresh instance does not replay the whole
  // history.
  let cursor: number | null = null;
  // Set on every (re)connect: rows committed while nobody listened must be
  // read before any new notification is published, or they would be skipped.
  let needsBackfill = true;
  let queue: Promise<void> = Promise.resolve();
  let retryMs = minRetryMs;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdogTimer: ReturnType<typeof setTimeout> | undefined;

  // Tasks queued or running; while there are none, a complete notification
  // can be published on the spot without overtaking anything.
  let pendingTasks = 0;
  const enqueue = (task: () => Promise<void>) => {
    pendingTasks++;
    const run = queue.then(task).finally(() => pendingTasks--);
    queue = run.catch((error) => {
      onError("Message listener task failed", error);
      // A failed read means the database is in trouble: rebuild the session
      // so the next connect back-fills whatever this task did not publish.
      dropSession();
    });
    return run;
  };

  const publish = (change: Change) => {
    if (cursor !== null && change.seq <= cursor) return;
    cursor = change.seq;
    hub.publish(change);
    options.onPublish?.(change);
  };

  const backfill = async () => {
    if (!needsBackfill) return;
    if (cursor === null) {
      cursor = await changes.lastSeq();
    } else {
      for (;;) {
        const page = await changes.after(cursor, BACKFILL_PAGE);
        for (const change of page) publish(change);
        if (page.length < BACKFILL_PAGE) break;
      }
    }
    needsBackfill = false;
  };

  const handle = async (payload: string) => {
    await backfill();
    const note = parseChangeNote(payload);
    if (note === null) return;
    const seq = "change" in note ? note.change.seq : note.seq;
    if (cursor !== null && seq <= cursor) return;
    // Changes too large for a NOTIFY payload arrive as their number alone.
    publish("change" in note ? note.change : await changes.at(seq, note.id));
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer !== undefined) return;
    const delay = retryMs * (0.5 + Math.random() / 2);
    retryMs = Math.min(retryMs * 2, maxRetryMs);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      track(
        connect().catch((error) => {
          onError("Message listener could not reconnect", error);
          scheduleReconnect();
        }),
      );
    }, delay);
  };

  // Sessions being closed, and other work close() must wait for.
  const background = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const done = work.catch(() => {}).finally(() => background.delete(done));
    background.add(done);
  };

  function dropSession() {
    setLive(false);
    needsBackfill = true;
    const old = session;
    session = null;
    scheduleReconnect();
    // Not awaited: closing a dead session can take seconds.
    if (old) track(old.close());
  }

  async function connect() {
    if (closed) return;
    needsBackfill = true;
    let opened: ListenSession | null = null;
    opened = await db.listen(channels, {
      onNotify: (channel, payload) => {
        if (channel === CHANGES_CHANNEL) {
          // Fast path, synchronously: the changes of one commit arrive in
          // one read, so they reach the hub in the same tick and go out as
          // one write per stream. Anything else (back-fill owed, earlier
          // work still queued, a number-only payload) keeps to the ordered
          // queue.
          if (pendingTasks === 0 && !needsBackfill) {
            const note = parseChangeNote(payload);
            if (note === null) return;
            if ("change" in note) return publish(note.change);
          }
          void enqueue(() => handle(payload));
        } else {
          signals[channel]?.(payload);
        }
      },
      onClose: (error) => {
        if (opened === null || session !== opened || closed) return;
        onError("Message listener lost its connection", error);
        dropSession();
      },
    });
    if (closed) {
      await opened.close();
      return;
    }
    session = opened;
    await enqueue(backfill);
    if (session === opened) {
      setLive(true);
      retryMs = minRetryMs;
    }
  }

  const watchdog = () => {
    watchdogTimer = setTimeout(() => track(check()), watchdogMs);
  };
  const check = async () => {
    const current = session;
    if (current !== null) {
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        current.ping().then(() => true, () => false),
        new Promise<boolean>((resolve) => {
          timeout = setTimeout(() => resolve(false), watchdogMs);
        }),
      ]);
      clearTimeout(timeout);
      if (!ok && session === current && !closed) {
        onError("Message listener did not answer a ping", null);
        dropSession();
      }
    }
    if (!closed) watchdog();
  };

  return {
    async start() {
      await connect();
      watchdog();
    },
    get live() {
      return live;
    },
    committed(messages) {
      // Change numbers (a message's id among them) are taken under a lock
      // held to commit, so once our commit is done every smaller number is
      // settled: if ours follow the cursor with no gap, nothing can still
      // come before them. Otherwise (another instance's change not heard
      // yet, a back-fill owed, work queued) the NOTIFY path delivers them
      // in order as usual.
      for (const m of messages) {
        if (
          !live || needsBackfill || pendingTasks > 0 || cursor === null ||
          m.id !== cursor + 1
        ) return;
        publish(messageChange(m));
      }
    },
    async close() {
      closed = true;
      setLive(false);
      clearTimeout(reconnectTimer);
      clearTimeout(watchdogTimer);
      const old = session;
      session = null;
      if (old) track(old.close());
      while (background.size > 0) await Promise.all(background);
      await queue;
    },
  };
}
