/**
 * Runs the push queue (queue.ts) on one instance: one worker reads new
 * messages for mentions and makes the due notifications deliverable,
 * another sends them. Both are woken by new messages (through the listener),
 * by each other, and by timers set from the database's own due times; a slow
 * push service therefore never holds up the fan-out, and nothing here runs
 * on a request's path.
 */
import type { Database } from "../../db/database.ts";
import { describeError, type Logger, silentLogger } from "../observe/logger.ts";
import { fanOut } from "./fanout.ts";
import { materialize, nextPendingMs } from "./materialize.ts";
import {
  claimDeliveries,
  type ClaimedDelivery,
  finishDelivery,
  finishSentDelivery,
  nextDeliveryMs,
  PUSH_MAX_REFUSALS,
  refuseDelivery,
  removeSubscription,
  retryDelivery,
} from "./queue.ts";
import type { PushSender, SendOutcome } from "./send.ts";
import type { VisibilityStore } from "./visibility.ts";

/** How long a push service keeps a notification for an offline device: a day-old chat ping is still worth seeing. */
export const PUSH_TTL_SECONDS = 86_400;
/** Longest wait between retries, whatever the backoff or Retry-After say. */
export const MAX_RETRY_MS = 3_600_000;

/** Runs this instance's share of the push queue. */
export interface PushDispatcher {
  /** Starts both workers, which look at the queue at once (what a stopped instance left is due now). */
  start(): void;
  /** Something may have changed (a new message): look at the queue soon. */
  wake(): void;
  /** Runs both workers now and resolves when that round is done (Deno.cron's handler waits on it). */
  catchUp(): Promise<void>;
  /** Stops; in-flight sends are abandoned and left due at once for another instance. */
  close(): Promise<void>;
}

/** Dependencies and timings of the dispatcher. */
export interface PushDispatcherOptions {
  db: Database;
  sender: PushSender;
  visibility: VisibilityStore;
  /** Least time between two notifications to one subscriber, mentions aside. */
  intervalMs: number;
  /** First retry delay; doubles with each attempt. */
  retryMs: number;
  /** Sends before a notification is given up. */
  maxAttempts: number;
  /** A send's own timeout; leases last longer than this. */
  sendTimeoutMs: number;
  /** Look at the queue at least this often, even unwoken (lost wake-ups, other instances' expired leases). */
  idleMs?: number;
  /** Messages per fan-out transaction, and notifications per claim. */
  batchSize?: number;
  logger?: Logger;
}

/** Delay before retry number `attempts` (1-based): Retry-After when longer, doubling otherwise, capped. */
export function retryDelayMs(
  attempts: number,
  retryMs: number,
  retryAfterMs: number | null,
): number {
  const backoff = retryMs * 2 ** Math.min(attempts - 1, 30);
  return Math.min(MAX_RETRY_MS, Math.max(backoff, retryAfterMs ?? 0));
}

// A round that found work it could not take (rows locked by another
// instance) waits this long instead of spinning.
const BUSY_MS = 50;
/** How long catchUpPush waits for this process's Plaza to start (a cron run can boot the instance). */
export const CATCH_UP_START_WAIT_MS = 30_000;
// Wake-ups during a round are served this long after it: under a burst of
// messages each instance runs a few fan-outs a second, not hundreds.
const AGAIN_MS = 100;

/** How long a new message's wake-up waits before a fan-out round, so that a busy room runs one round for many messages, not one each (a notification is no worse for 100 ms). */
export const MESSAGE_WAKE_DELAY_MS = 100;

/** A loop that runs its step when woken, or when the step asks to run again. */
export interface Worker {
  /** Runs a round now (or right after the one running). */
  wake(): void;
  /** Runs a round within `ms` (or right after the one running); wakes in between join it. */
  wakeSoon(ms: number): void;
  /** Lets a running round finish, runs a fresh one and waits for it. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs `step` when woken or when its last result (ms until the next run, or
 * null for idle) says so; wakes during a run coalesce into one more run.
 */
export function createWorker(
  step: () => Promise<number | null>,
  idleMs: number,
  onError: (error: unknown) => void,
): Worker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // When the timer fires (Infinity: no timer).
  let dueAt = Infinity;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  let failures = 0;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    dueAt = Infinity;
    if (closed) return;
    dueAt = Date.now() + ms;
    timer = setTimeout(wake, ms);
  };
  const run = async () => {
    let next: number | null;
    try {
      next = await step();
      failures = 0;
    } catch (error) {
      onError(error);
      // The database is likely in trouble: back off up to the idle period.
      failures++;
      next = Math.min(idleMs, 100 * 2 ** Math.min(failures, 10));
    }
    if (again) {
      again = false;
      next = Math.min(next ?? AGAIN_MS, AGAIN_MS);
    }
    schedule(Math.min(next ?? idleMs, idleMs));
  };
  function wake() {
    if (closed) return;
    if (running !== null) {
      again = true;
      return;
    }
    clearTimeout(timer);
    dueAt = Infinity;
    running = run().finally(() => {
      running = null;
    });
  }
  return {
    wake,
    wakeSoon(ms) {
      if (closed) return;
      if (running !== null) {
        again = true;
        return;
      }
      if (dueAt > Date.now() + ms) schedule(ms);
    },
    async catchUp() {
      // A round already running may have read the queue before the work
      // the caller cares about: wait for it, then run one of our own.
      while (running !== null) await running;
      wake();
      await running;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      clearTimeout(timer);
    },
  };
}

/** Creates the dispatcher; nothing runs until start(). */
export function createPushDispatcher(
  options: PushDispatcherOptions,
): PushDispatcher {
  const { db, sender, intervalMs } = options;
  const idleMs = options.idleMs ?? 5_000;
  const batchSize = options.batchSize ?? 100;
  const logger = options.logger ?? silentLogger;
  // Longer than any send, so a lease never runs out under a live sender.
  const leaseMs = options.sendTimeoutMs * 2 + 5_000;
  const stopping = new AbortController();
  // Expired visibility rows are harmless (they are compared with now()), so
  // pruning can wait a minute after start.
  let lastPrune = Date.now();

  const onError = (what: string) => (error: unknown) =>
    logger.error("push_error", {
      message: `Push ${what} failed`,
      error: describeError(error),
    });

  // The loops below run until the queue is caught up, which after a burst
  // can take many transactions: close() must not wait for all of them. What
  // is left stays queued in the database for whichever instance runs next.
  const queueStep = async (): Promise<number | null> => {
    for (;;) {
      if (stopping.signal.aborted) return null;
      const { consumed, anySubscriber } = await fanOut(db, batchSize);
      // No subscriber: no mentions or deliveries can exist (they go with
      // their subscription), so this round is done in one transaction.
      if (!anySubscriber) return null;
      if (consumed === null || consumed < batchSize) break;
    }
    let created = 0;
    let progress = false;
    for (;;) {
      if (stopping.signal.aborted) return null;
      const result = await materialize(db, intervalMs, batchSize);
      created += result.created;
      progress ||= result.created + result.dropped + result.woken > 0;
      if (!result.more) break;
    }
    if (created > 0) sending.wake();
    if (Date.now() - lastPrune >= 60_000) {
      lastPrune = Date.now();
      await options.visibility.prune();
    }
    const next = await nextPendingMs(db, intervalMs);
    // Due rows that were not taken are locked by another instance right now.
    return next === 0 && !progress ? BUSY_MS : next;
  };

  const finish = async (d: ClaimedDelivery, outcome: SendOutcome) => {
    switch (outcome.kind) {
      case "sent":
        await finishSentDelivery(db, d.id);
        return;
      case "gone":
        logger.debug("push_gone", {
          message:
            `Push service answered ${outcome.status}: subscription removed`,
          subscriptionId: d.subscriptionId,
        });
        await removeSubscription(db, d.subscriptionId);
        return;
      case "failed":
        // 401/403 usually mean the browser subscribed with another VAPID
        // key; 413 a payload too large; status 0, not sent at all (an
        // endpoint off PUSH_SERVICE_HOSTS, keys that cannot encrypt).
        // Sending again would not help.
        logger.warn("push_failed", {
          message: outcome.status === 0
            ? "Push notification not sent"
            : `Push service refused a notification (${outcome.status})`,
          subscriptionId: d.subscriptionId,
          status: outcome.status,
          reason: outcome.reason,
        });
        if (outcome.status === 0) {
          // Not sent at all (our own refusal: a host off the list, keys
          // that cannot encrypt): kept, in case the configuration changes.
          await finishDelivery(db, d.id);
        } else if (await refuseDelivery(db, d)) {
          // Refused again and again: junk or dead; forget it.
          logger.warn("push_gone", {
            message:
              `Push service refused ${PUSH_MAX_REFUSALS} notifications in a row: subscription removed`,
            subscriptionId: d.subscriptionId,
          });
        }
        return;
      case "retry":
        if (stopping.signal.aborted) {
          // Ours was cut short by shutdown: due at once, for another instance.
          await retryDelivery(db, d, 0);
        } else if (d.attempts >= options.maxAttempts) {
          logger.warn("push_given_up", {
            message: `Push notification given up after ${d.attempts} attempts`,
            subscriptionId: d.subscriptionId,
            status: outcome.status,
            reason: outcome.reason,
          });
          await finishDelivery(db, d.id);
        } else {
          await retryDelivery(
            db,
            d,
            retryDelayMs(d.attempts, options.retryMs, outcome.retryAfterMs),
          );
        }
        return;
    }
  };

  const sendStep = async (): Promise<number | null> => {
    let finished = 0;
    for (;;) {
      if (stopping.signal.aborted) return null;
      const claimed = await claimDeliveries(db, batchSize, leaseMs);
      // allSettled, not all: one failure must not end the step (and let
      // close() return) while the batch's other sends are still going.
      const settled = await Promise.allSettled(claimed.map(async (d) => {
        const outcome = await sender.send(
          d.target,
          { ...d.message, ttlSeconds: PUSH_TTL_SECONDS },
          stopping.signal,
        );
        await finish(d, outcome);
      }));
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      finished += claimed.length;
      if (claimed.length < batchSize) break;
    }
    // A subscriber whose notification just went may have more waiting.
    if (finished > 0) queue.wake();
    const next = await nextDeliveryMs(db);
    return next === 0 && finished === 0 ? BUSY_MS : next;
  };

  const queue = createWorker(queueStep, idleMs, onError("queue"));
  const sending = createWorker(sendStep, idleMs, onError("send"));
  let started = false;

  const dispatcher: PushDispatcher = {
    start() {
      started = true;
      running.add(dispatcher);
      for (const notify of startWaiters.splice(0)) notify();
      // At once, not after a delay: on a platform that scales to zero
      // (Deno Deploy) the instance a visitor wakes may live only seconds,
      // and no timer runs while none is up, so what a stopped instance
      // left (pending rows, leased deliveries) is due now.
      queue.wake();
      sending.wake();
    },
    wake() {
      if (started) queue.wakeSoon(MESSAGE_WAKE_DELAY_MS);
    },
    async catchUp() {
      if (!started) return;
      // Fan-out first: it makes the deliveries the sender then sends.
      await queue.catchUp();
      await sending.catchUp();
    },
    async close() {
      running.delete(dispatcher);
      stopping.abort();
      await Promise.all([queue.close(), sending.close()]);
    },
  };
  return dispatcher;
}

// The dispatchers started in this process. Deno.cron's handler has to be
// registered at module top level, before any Plaza exists (Deno Deploy reads
// the crons by evaluating the entry module), so it finds the dispatcher
// here rather than through startPlaza.
const running = new Set<PushDispatcher>();
const startWaiters: (() => void)[] = [];

/**
 * Catches up every push dispatcher running in this process and resolves
 * with how many there were; waits up to `waitMs` for one to start (a cron
 * run may be what booted the instance). 0 = none started in time.
 */
export async function catchUpPush(
  waitMs = CATCH_UP_START_WAIT_MS,
): Promise<number> {
  if (running.size === 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let notify = () => {};
    await new Promise<void>((resolve) => {
      notify = resolve;
      startWaiters.push(notify);
      timer = setTimeout(resolve, waitMs);
    });
    clearTimeout(timer);
    const i = startWaiters.indexOf(notify);
    if (i >= 0) startWaiters.splice(i, 1);
  }
  const all = [...running];
  await Promise.all(all.map((d) => d.catchUp()));
  return all.length;
}
