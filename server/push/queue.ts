/**
 * The durable notification queue in Postgres (db/migrations/004_push.sql),
 * in three steps that any number of instances run concurrently and that
 * together notify each subscriber once:
 *
 * 1. fanOut: whoever holds the one push_cursor row (FOR UPDATE SKIP LOCKED)
 *    reads the messages past it and folds them into one push_pending row per
 *    subscriber, then moves the cursor, all in one transaction. Posting never
 *    waits for this: it runs after the message committed, off the request.
 * 2. materialize: pending rows that are due (a mention, or the subscriber's
 *    last notification at least the interval ago) are claimed with SKIP
 *    LOCKED and turned into push_deliveries rows with their payload fixed.
 * 3. claimDeliveries / finish*: a sender leases due deliveries (SKIP LOCKED,
 *    next_attempt_at moved past its send timeout), sends, then deletes them
 *    or schedules a retry.
 */
import type { Database, Queryable } from "../../db/database.ts";
import { mentionPattern } from "../../protocol/mention.ts";
import { nameKey } from "../../protocol/names.ts";
import {
  buildPayload,
  type PendingSummary,
  previewText,
  PUSH_NAMED_AUTHORS,
} from "./payload.ts";
import type { PushMessage, PushTarget } from "./send.ts";

/** Push services replace an undelivered notification with the same topic. */
export const PUSH_TOPIC = "plaza";

/** A message as the fan-out reads it. */
export interface QueuedMessage {
  id: number;
  author: string;
  text: string;
  /** Posted with the claimed name's token: only then is it that name's own. */
  verified: boolean;
}

/** A subscriber as the fan-out sees it. */
export interface Subscriber {
  id: number;
  name: string;
}

/** One subscriber's share of a batch of messages (what is added to its push_pending row). */
export interface PendingAddition {
  subscription_id: number;
  message_count: number;
  authors: string[];
  first_message_id: number;
  last_message_id: number;
  last_author: string;
  last_text: string;
  mention_message_id: number | null;
  mention_author: string | null;
  mention_text: string | null;
}

/**
 * Folds messages (in id order) into one addition per subscriber: their own
 * messages left out, mentions by "@name" noted, texts cut to what a
 * notification shows. Subscribers with nothing new get no entry. A
 * message is a subscriber's own only when it is verified (posted with the
 * claimed name's token) under the subscriber's name as protocol/names.ts
 * compares names: anyone can type "ada" as the author, and ada should still
 * hear of that (and of its "@ada").
 */
export function summarize(
  subscribers: readonly Subscriber[],
  messages: readonly QueuedMessage[],
): PendingAddition[] {
  const previews = new Map<number, string>();
  const preview = (m: QueuedMessage) => {
    let p = previews.get(m.id);
    if (p === undefined) previews.set(m.id, p = previewText(m.text));
    return p;
  };
  const additions: PendingAddition[] = [];
  const authorKeys = new Map<number, string>();
  for (const m of messages) {
    if (m.verified) authorKeys.set(m.id, nameKey(m.author));
  }
  for (const s of subscribers) {
    const mention = mentionPattern(s.name);
    const ownKey = nameKey(s.name);
    let a: PendingAddition | null = null;
    for (const m of messages) {
      if (authorKeys.get(m.id) === ownKey) continue;
      if (a === null) {
        a = {
          subscription_id: s.id,
          message_count: 0,
          authors: [],
          first_message_id: m.id,
          last_message_id: m.id,
          last_author: m.author,
          last_text: "",
          mention_message_id: null,
          mention_author: null,
          mention_text: null,
        };
      }
      a.message_count++;
      if (
        a.authors.length <= PUSH_NAMED_AUTHORS && !a.authors.includes(m.author)
      ) {
        a.authors.push(m.author);
      }
      a.last_message_id = m.id;
      a.last_author = m.author;
      a.last_text = preview(m);
      // includes() first: most messages mention nobody, and the regex is
      // the costly part when there are many subscribers.
      if (m.text.includes("@") && mention.test(m.text)) {
        a.mention_message_id = m.id;
        a.mention_author = m.author;
        a.mention_text = preview(m);
      }
    }
    if (a !== null) additions.push(a);
  }
  return additions;
}

/** Postgres error codes worth one more try: a subscription deleted under us, a deadlock, a serialisation failure. */
const TRANSIENT_CODES = new Set(["23503", "40P01", "40001"]);

async function retryTransient<T>(work: () => Promise<T>): Promise<T> {
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

// Merges an addition into the subscriber's row: counts add up, new authors
// are appended (in order, at most PUSH_NAMED_AUTHORS + 1), the latest message
// and mention win. The join drops subscribers deleted since they were read.
const UPSERT_PENDING = `
insert into push_pending as p (
  subscription_id, message_count, authors, first_message_id, last_message_id,
  last_author, last_text, mention_message_id, mention_author, mention_text)
select r.subscription_id, r.message_count,
  array(select jsonb_array_elements_text(r.authors)),
  r.first_message_id, r.last_message_id, r.last_author, r.last_text,
  r.mention_message_id, r.mention_author, r.mention_text
from jsonb_to_recordset($1::text::jsonb) as r (
  subscription_id bigint, message_count integer, authors jsonb,
  first_message_id bigint, last_message_id bigint, last_author text,
  last_text text, mention_message_id bigint, mention_author text,
  mention_text text)
join push_subscriptions s on s.id = r.subscription_id
order by r.subscription_id
on conflict (subscription_id) do update set
  message_count = p.message_count + excluded.message_count,
  authors = (p.authors || array(
    select a from unnest(excluded.authors) as a where a <> all (p.authors)
  ))[1:$2],
  last_message_id = excluded.last_message_id,
  last_author = excluded.last_author,
  last_text = excluded.last_text,
  mention_message_id = coalesce(excluded.mention_message_id, p.mention_message_id),
  mention_author = coalesce(excluded.mention_author, p.mention_author),
  mention_text = coalesce(excluded.mention_text, p.mention_text)`;

/** What one fanOut did. */
export interface FanOutResult {
  /** Messages consumed, or null when another instance holds the cursor (it was woken by the same NOTIFY, and runs again if it was busy). */
  consumed: number | null;
  /** False when nobody is subscribed: then nothing else can be queued either. */
  anySubscriber: boolean;
}

/**
 * Step 1: folds up to `batchSize` messages past the cursor into pending rows
 * and moves the cursor.
 */
export function fanOut(
  db: Database,
  batchSize: number,
): Promise<FanOutResult> {
  return retryTransient(() =>
    db.transaction(async (tx) => {
      const [cursor] = await tx.query<{ message_id: number | string }>(
        "select message_id from push_cursor for update skip locked",
      );
      if (cursor === undefined) return { consumed: null, anySubscriber: true };
      const from = Number(cursor.message_id);
      const subscribers =
        (await tx.query<{ id: number | string; name: string }>(
          "select id, name from push_subscriptions",
        )).map((s) => ({ id: Number(s.id), name: s.name }));
      if (subscribers.length === 0) {
        // Nobody to tell: skip to the newest message. Ids become visible in
        // increasing order (db/migrations/001), so none below it can appear.
        await tx.query(
          `update push_cursor set message_id =
             greatest(message_id, (select coalesce(max(id), 0) from messages))`,
        );
        return { consumed: 0, anySubscriber: false };
      }
      const messages = (await tx.query<
        { id: number | string; author: string; text: string; verified: boolean }
      >(
        `select id, author, text, name_id is not null as verified
         from messages where id > $1 order by id limit $2`,
        [from, batchSize],
      )).map((m) => ({
        id: Number(m.id),
        author: m.author,
        text: m.text,
        verified: m.verified,
      }));
      if (messages.length === 0) return { consumed: 0, anySubscriber: true };
      // Someone looking at the room sees these messages there.
      const visible = new Set(
        (await tx.query<{ subscription_id: number | string }>(
          `select distinct subscription_id from push_visibility
           where expires_at > now()`,
        )).map((r) => Number(r.subscription_id)),
      );
      const additions = summarize(
        subscribers.filter((s) => !visible.has(s.id)),
        messages,
      );
      if (additions.length > 0) {
        await tx.query(UPSERT_PENDING, [
          JSON.stringify(additions),
          PUSH_NAMED_AUTHORS + 1,
        ]);
      }
      await tx.query("update push_cursor set message_id = $1", [
        messages[messages.length - 1].id,
      ]);
      return { consumed: messages.length, anySubscriber: true };
    })
  );
}

type PendingRow = {
  subscription_id: number | string;
  message_count: number;
  authors: string[];
  first_message_id: number | string;
  last_message_id: number | string;
  last_author: string;
  last_text: string;
  mention_message_id: number | string | null;
  mention_author: string | null;
  mention_text: string | null;
  visible: boolean;
  last_kept: boolean;
  mention_kept: boolean;
};

/**
 * The summary to notify, without the text of a message deleted (moderated)
 * since it was folded in; null when that leaves nothing to tell.
 */
function summaryOf(row: PendingRow): PendingSummary | null {
  // One message: it is both the last and any mention.
  if (row.message_count === 1 && !row.last_kept) return null;
  return {
    messageCount: row.message_count,
    authors: row.authors,
    firstMessageId: Number(row.first_message_id),
    last: {
      messageId: Number(row.last_message_id),
      author: row.last_author,
      text: row.last_text,
    },
    // Several messages without a mention are only counted (buildPayload).
    mention: row.mention_message_id === null || !row.mention_kept ? null : {
      messageId: Number(row.mention_message_id),
      author: row.mention_author ?? "",
      text: row.mention_text ?? "",
    },
  };
}

// A row is due when it holds a mention or the subscriber's last notification
// is at least the interval old; a subscriber with a notification still in
// flight waits for it. The subscriber row is locked too (NO KEY UPDATE, so
// fan-outs' foreign-key checks pass): a concurrent unsubscribe then waits
// instead of deadlocking with the last_notified_at update.
const CLAIM_PENDING = `
select p.*, exists (
    select 1 from push_visibility v
    where v.subscription_id = p.subscription_id and v.expires_at > now()
  ) as visible,
  exists (select 1 from messages m where m.id = p.last_message_id) as last_kept,
  exists (select 1 from messages m where m.id = p.mention_message_id)
    as mention_kept
from push_pending p
join push_subscriptions s on s.id = p.subscription_id
where (p.mention_message_id is not null
    or s.last_notified_at is null
    or s.last_notified_at <= now() - make_interval(secs => $1))
  and not exists (
    select 1 from push_deliveries d where d.subscription_id = p.subscription_id
  )
order by p.subscription_id
limit $2
for update of p skip locked
for no key update of s skip locked`;

/** What materialize did: deliveries made, and pending rows dropped (their subscriber was looking, or their one message was deleted). */
export interface MaterializeResult {
  created: number;
  dropped: number;
  /** Whether rows were left for another round (the limit was reached). */
  more: boolean;
}

/** Step 2: turns up to `limit` due pending rows into deliveries. */
export function materialize(
  db: Database,
  intervalMs: number,
  limit: number,
): Promise<MaterializeResult> {
  return retryTransient(() =>
    db.transaction(async (tx) => {
      const rows = await tx.query<PendingRow>(CLAIM_PENDING, [
        intervalMs / 1000,
        limit,
      ]);
      if (rows.length === 0) return { created: 0, dropped: 0, more: false };
      const ids = rows.map((r) => Number(r.subscription_id));
      await tx.query(
        `delete from push_pending where subscription_id in
           (select jsonb_array_elements_text($1::text::jsonb)::bigint)`,
        [JSON.stringify(ids)],
      );
      const deliveries = rows.filter((r) => !r.visible).flatMap((r) => {
        const summary = summaryOf(r);
        if (summary === null) return [];
        return [{
          subscription_id: Number(r.subscription_id),
          payload: JSON.stringify(buildPayload(summary)),
          topic: PUSH_TOPIC,
          urgency: summary.mention === null ? "normal" : "high",
        }];
      });
      if (deliveries.length > 0) {
        await tx.query(
          `insert into push_deliveries (subscription_id, payload, topic, urgency)
           select subscription_id, payload, topic, urgency
           from jsonb_to_recordset($1::text::jsonb) as r (
             subscription_id bigint, payload text, topic text, urgency text)`,
          [JSON.stringify(deliveries)],
        );
        await tx.query(
          `update push_subscriptions set last_notified_at = now()
           where id in (select jsonb_array_elements_text($1::text::jsonb)::bigint)`,
          [JSON.stringify(deliveries.map((d) => d.subscription_id))],
        );
      }
      return {
        created: deliveries.length,
        dropped: rows.length - deliveries.length,
        more: rows.length === limit,
      };
    })
  );
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

/** Milliseconds until a pending row comes due for materialize (0 = now), or null when none waits. */
export function nextPendingMs(
  db: Queryable,
  intervalMs: number,
): Promise<number | null> {
  // Rows whose subscriber has a delivery in flight are left out: the sender
  // wakes the queue when that delivery is done.
  return msUntil(
    db,
    `select min(case
         when p.mention_message_id is not null or s.last_notified_at is null
           then now()
         else s.last_notified_at + make_interval(secs => $1)
       end)
     from push_pending p
     join push_subscriptions s on s.id = p.subscription_id
     where not exists (
       select 1 from push_deliveries d where d.subscription_id = p.subscription_id
     )`,
    [intervalMs / 1000],
  );
}

/** Milliseconds until a delivery comes due (0 = now), or null when none is queued. */
export function nextDeliveryMs(db: Queryable): Promise<number | null> {
  return msUntil(db, "select min(next_attempt_at) from push_deliveries", []);
}
