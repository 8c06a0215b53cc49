/**
 * The durable notification queue in Postgres (db/migrations/004_push.sql and
 * 010_push_fanout.sql), in three steps that any number of instances run
 * concurrently and that together notify each subscriber once. No step reads
 * or writes a row per subscriber for each message:
 *
 * 1. fanOut (fanout.ts): whoever holds the one push_cursor row (FOR UPDATE
 *    SKIP LOCKED) reads the messages past it, records a push_mentions row
 *    for each subscription a message mentions, and moves the cursor. Posting
 *    never waits for this: it runs after the message committed, off the
 *    request.
 * 2. materialize (materialize.ts): each subscriber keeps a cursor,
 *    notified_through. Idle subscribers behind the fan-out's cursor start
 *    waiting; those due (mentioned, or their interval up) are claimed with
 *    SKIP LOCKED, their summary computed in SQL from the messages past their
 *    cursor, and turned into push_deliveries rows with their payload fixed.
 * 3. claimDeliveries / finish* (here): a sender leases due deliveries (SKIP
 *    LOCKED, next_attempt_at moved past its send timeout), sends, then
 *    deletes them or schedules a retry.
 */
import type { Queryable } from "../../db/database.ts";
import type { PushMessage, PushTarget } from "./send.ts";

/** Push services replace an undelivered notification with the same topic. */
export const PUSH_TOPIC = "plaza";

/** Postgres error codes worth one more try: a subscription deleted under us, a deadlock, a serialisation failure. */
const TRANSIENT_CODES = new Set(["23503", "40P01", "40001"]);

/** Runs `work` again (up to three times in all) when it fails with a transient error. */
export async function retryTransient<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (
        attempt >= 3 || typeof code !== "string" || !TRANSIENT_CODES.has(code)
      ) {
        throw error;
      }
    }
  }
}

/** A delivery this instance leased: send it, then finish it one way or another. */
export interface ClaimedDelivery {
  id: number;
  subscriptionId: number;
  /** Sends so far, this one included. */
  attempts: number;
  target: PushTarget;
  message: Omit<PushMessage, "ttlSeconds">;
}

/**
 * Step 3: leases up to `limit` due deliveries for `leaseMs` (longer than a
 * send may take). One statement: the lease is committed before anything is
 * sent, so no transaction stays open across the network. If this instance
 * dies mid-send, the lease runs out and another instance sends again (the
 * one case where a notification can arrive twice).
 */
export async function claimDeliveries(
  db: Queryable,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const rows = await db.query<{
    id: number | string;
    subscription_id: number | string;
    attempts: number;
    payload: string;
    topic: string;
    urgency: string;
    endpoint: string;
    p256dh: string;
    auth: string;
  }>(
    `with claimed as (
       select id from push_deliveries
       where next_attempt_at <= now()
       order by next_attempt_at
       limit $1
       for update skip locked
     )
     update push_deliveries d
     set next_attempt_at = now() + make_interval(secs => $2),
         attempts = d.attempts + 1
     from claimed, push_subscriptions s
     where d.id = claimed.id and s.id = d.subscription_id
     returning d.id, d.subscription_id, d.attempts, d.payload, d.topic,
       d.urgency, s.endpoint, s.p256dh, s.auth`,
    [limit, leaseMs / 1000],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    subscriptionId: Number(r.subscription_id),
    attempts: r.attempts,
    target: { endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth },
    message: {
      payload: r.payload,
      topic: r.topic,
      urgency: r.urgency === "high" ? "high" : "normal",
    },
  }));
}

/**
 * Sent: the delivery is done with, and the subscriber's interval starts now.
 * materialize() set last_notified_at when it made the notification, but one
 * retried for minutes would otherwise be followed by the next at once. The
 * subscriber row is locked before the delivery, in the order an unsubscribe
 * (delete cascading to deliveries) takes them.
 */
export async function finishSentDelivery(
  db: Queryable,
  id: number,
): Promise<void> {
  await db.query(
    `with sent as (
       update push_subscriptions s set last_notified_at = now(), refusals = 0
       from push_deliveries d
       where d.id = $1 and s.id = d.subscription_id
       returning d.id
     )
     delete from push_deliveries where id in (select id from sent)`,
    [id],
  );
}

/** Given up (or refused): the delivery is done with. */
export async function finishDelivery(db: Queryable, id: number): Promise<void> {
  await db.query("delete from push_deliveries where id = $1", [id]);
}

/** Refusals in a row after which a subscription is dropped. */
export const PUSH_MAX_REFUSALS = 3;

/**
 * The push service refused this delivery for good (400, 401, 403, 413…): the
 * delivery is done with, and a subscription refused PUSH_MAX_REFUSALS times
 * in a row is removed. Returns whether it was.
 */
export async function refuseDelivery(
  db: Queryable,
  delivery: Pick<ClaimedDelivery, "id" | "subscriptionId">,
): Promise<boolean> {
  await db.query("delete from push_deliveries where id = $1", [delivery.id]);
  // Two statements: a row updated in one WITH clause cannot be deleted in
  // another of the same statement.
  const [row] = await db.query<{ refusals: number }>(
    `update push_subscriptions set refusals = refusals + 1
     where id = $1 returning refusals`,
    [delivery.subscriptionId],
  );
  if (row === undefined || row.refusals < PUSH_MAX_REFUSALS) return false;
  await removeSubscription(db, delivery.subscriptionId);
  return true;
}

/**
 * Try again in `delayMs` (429, 5xx, no answer). `attempts` (raised by every
 * claim) tells whether this sender still holds the lease: if it ran out and
 * another sender claimed the delivery since, the retry is not ours to set,
 * and setting it would cut the current holder's lease short.
 */
export async function retryDelivery(
  db: Queryable,
  delivery: Pick<ClaimedDelivery, "id" | "attempts">,
  delayMs: number,
): Promise<void> {
  await db.query(
    `update push_deliveries
     set next_attempt_at = now() + make_interval(secs => $3)
     where id = $1 and attempts = $2`,
    [delivery.id, delivery.attempts, delayMs / 1000],
  );
}

/** The push service says the subscription is gone (404/410): forget it and all it had queued. */
export async function removeSubscription(
  db: Queryable,
  subscriptionId: number,
): Promise<void> {
  await db.query("delete from push_subscriptions where id = $1", [
    subscriptionId,
  ]);
}

/** Milliseconds from a timestamp expression's value to now (0 = due), or null when there is none. */
async function msUntil(
  db: Queryable,
  at: string,
  params: unknown[],
): Promise<number | null> {
  // The database's clock, the one the rows are stamped with.
  const [row] = await db.query<{ ms: number | string | null }>(
    `select extract(epoch from (${at}) - now()) * 1000 as ms`,
    params,
  );
  if (row.ms === null) return null;
  return Math.max(0, Math.ceil(Number(row.ms)));
}

/** Milliseconds until a delivery comes due (0 = now), or null when none is queued. */
export function nextDeliveryMs(db: Queryable): Promise<number | null> {
  return msUntil(db, "select min(next_attempt_at) from push_deliveries", []);
}
