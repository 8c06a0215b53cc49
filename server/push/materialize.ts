/**
 * Step 2 of the push queue (see queue.ts): subscribers whose notification
 * is due get it made, their summary computed in SQL from the messages past
 * their cursor. Its work is per notification (each costs a push request
 * anyway), bounded by `limit` per transaction: idle subscribers caught up
 * with the messages, and waiting ones whose interval is not up, are not
 * read (see the indexes in db/migrations/010_push_fanout.sql).
 */
import type { Database, Queryable } from "../../db/database.ts";
import {
  buildPayload,
  type PendingSummary,
  previewText,
  PUSH_NAMED_AUTHORS,
} from "./payload.ts";
import { PUSH_TOPIC, retryTransient } from "./queue.ts";

// How far materialize may look: messages the fan-out has read for mentions
// (so none is counted before its mention is known), that exist.
const THROUGH = `least((select message_id from push_cursor),
  (select coalesce(max(id), 0) from messages))`;

// Idle subscribers with messages past their cursor start waiting for their
// interval. The newest message wakes every idle subscriber at once: each of
// them is owed a notification, so this too is work per notification.
const WAKE = `
update push_subscriptions set waiting = true
where id = any(array(
  select id from push_subscriptions
  where not waiting and notified_through < $1
  order by notified_through
  limit $2
  for no key update skip locked))
returning id`;

// Due: waiting with the interval up (since the last notification, or since
// quiet_from while a tab shows the room), or mentioned past the cursor by a
// message not deleted since; a subscriber with a notification still in
// flight waits for it. Each candidate is looked up by index, one at a time
// (scalar subqueries, limit in index order), whatever the planner guesses
// of the tables' sizes: a hash join would read every subscription. The row
// is locked (NO KEY UPDATE, so the fan-out's foreign-key checks pass): a
// concurrent unsubscribe then waits instead of deadlocking. visible_until:
// when the subscriber's latest tab report runs out, if one still counts.
const IN_FLIGHT = (id: string) =>
  `(select d.id from push_deliveries d where d.subscription_id = ${id})`;
export const CLAIM = `
select s.id, s.notified_through, s.name_key, s.mode,
  coalesce(s.muted_until > now(), false) as muted,
  (select max(v.expires_at) from push_visibility v
   where v.subscription_id = s.id and v.expires_at > now()) as visible_until
from push_subscriptions s
where s.id = any(array(
    (select w.id from push_subscriptions w
     where w.waiting and greatest(
         coalesce(w.last_notified_at, '-infinity'),
         coalesce(w.quiet_from, '-infinity'))
       <= now() - make_interval(secs => $2)
       and ${IN_FLIGHT("w.id")} is null
     order by greatest(
         coalesce(w.last_notified_at, '-infinity'),
         coalesce(w.quiet_from, '-infinity'))
     limit $4)
    union
    select pm.subscription_id from push_mentions pm
    where pm.message_id <= $1
      and pm.message_id > (select m.notified_through from push_subscriptions m
                           where m.id = pm.subscription_id)
      and (select mm.id from messages mm where mm.id = pm.message_id) is not null
      and ${IN_FLIGHT("pm.subscription_id")} is null))
order by s.id
limit $3
for no key update of s skip locked`;

// The summaries of the claimed subscribers, from the messages in
// (notified_through, through] that are not their own: verified under their
// name key (by the claim's key, or by lower(author) for messages whose claim
// is gone). Deleted messages are gone from messages, so never counted.
// Their settings (db/migrations/014) narrow that: muted or mode 'none',
// nothing; mode 'mentions', only the messages that mention them
// (push_mentions) or reply to a message verified under their name key.
// A message with pictures is told as "sent a photo" and its alt text
// (db/migrations/016's message_push_text), never a picture's address.
const SUMMARIZE = `
select c.id, x.*
from jsonb_to_recordset($1::text::jsonb)
  as c (id bigint, notified_through bigint, name_key text, mode text,
        muted boolean)
cross join lateral (
  with told as (
    select m.id, m.author, message_push_text(m.text, m.attachments) as text
    from messages m
    where m.id > c.notified_through and m.id <= $2
      and not c.muted and c.mode <> 'none'
      and not (m.name_id is not null and (lower(m.author) = c.name_key
        or exists (select 1 from names n
                   where n.id = m.name_id and n.key = c.name_key)))
      and (c.mode = 'all'
        or exists (select 1 from push_mentions pm
                   where pm.subscription_id = c.id and pm.message_id = m.id)
        or exists (select 1 from messages p join names n on n.id = p.name_id
                   where p.id = m.reply_to and n.key = c.name_key)))
  select
    (select count(*)::int from told) as message_count,
    (select min(id) from told) as first_message_id,
    array(select author from told group by author
          order by min(id) limit $3) as authors,
    l.id as last_message_id, l.author as last_author, l.text as last_text,
    mm.id as mention_message_id, mm.author as mention_author,
    mm.text as mention_text
  from (select 1) one
  left join lateral (
    select id, author, text from told order by id desc limit 1) l on true
  left join lateral (
    select m.id, m.author, message_push_text(m.text, m.attachments) as text
    from push_mentions pm
    join messages m on m.id = pm.message_id
    where pm.subscription_id = c.id and pm.message_id > c.notified_through
      and not c.muted and c.mode <> 'none'
      and pm.message_id <= $2
    order by pm.message_id desc limit 1) mm on true
) x`;

type ClaimedRow = {
  id: number | string;
  notified_through: number | string;
  name_key: string;
  mode: string;
  muted: boolean;
  visible_until: string | Date | null;
};

type SummaryRow = {
  id: number | string;
  message_count: number;
  first_message_id: number | string | null;
  authors: string[];
  last_message_id: number | string | null;
  last_author: string | null;
  last_text: string | null;
  mention_message_id: number | string | null;
  mention_author: string | null;
  mention_text: string | null;
};

/** The summary to notify, or null when nothing is left to tell. */
function summaryOf(row: SummaryRow): PendingSummary | null {
  if (row.message_count === 0 || row.last_message_id === null) return null;
  return {
    messageCount: row.message_count,
    authors: row.authors,
    firstMessageId: Number(row.first_message_id),
    last: {
      messageId: Number(row.last_message_id),
      author: row.last_author ?? "",
      text: previewText(row.last_text ?? ""),
    },
    // Several messages without a mention are only counted (buildPayload).
    mention: row.mention_message_id === null ? null : {
      messageId: Number(row.mention_message_id),
      author: row.mention_author ?? "",
      text: previewText(row.mention_text ?? ""),
    },
  };
}

/** What materialize did. */
export interface MaterializeResult {
  /** Notifications made (push_deliveries rows). */
  created: number;
  /** Due subscribers that got none: looking at the room, or nothing left to tell (own or deleted messages). */
  dropped: number;
  /** Idle subscribers that now wait for their interval. */
  woken: number;
  /** Whether rows were left for another round (a limit was reached). */
  more: boolean;
}

const ids = (rows: readonly { id: number | string }[]) =>
  JSON.stringify(rows.map((r) => Number(r.id)));

/**
 * Step 2: wakes up to `limit` idle subscribers with something new, and
 * turns up to `limit` due ones into deliveries, in one transaction. Each
 * claimed subscriber's cursor moves to where the summary stopped: told,
 * skipped because a tab shows the room (seen there), or nothing to tell.
 */
export function materialize(
  db: Database,
  intervalMs: number,
  limit: number,
): Promise<MaterializeResult> {
  return retryTransient(() =>
    db.transaction(async (tx) => {
      const [{ through: t }] = await tx.query<{ through: number | string }>(
        `select ${THROUGH} as through`,
      );
      const through = Number(t);
      const woken = (await tx.query(WAKE, [through, limit])).length;
      const claimed = await tx.query<ClaimedRow>(CLAIM, [
        through,
        intervalMs / 1000,
        limit,
        // Due ones locked by another instance are skipped: look a little
        // further than the limit.
        limit * 2,
      ]);
      const more = woken === limit || claimed.length === limit;
      if (claimed.length === 0) {
        return { created: 0, dropped: 0, woken, more };
      }
      const visible = claimed.filter((r) => r.visible_until !== null);
      const away = claimed.filter((r) => r.visible_until === null);
      const summaries = away.length === 0 ? [] : await tx.query<SummaryRow>(
        SUMMARIZE,
        [
          JSON.stringify(away.map((r) => ({
            id: Number(r.id),
            notified_through: Number(r.notified_through),
            name_key: r.name_key,
            mode: r.mode,
            muted: r.muted,
          }))),
          through,
          PUSH_NAMED_AUTHORS + 1,
        ],
      );
      const deliveries = summaries.flatMap((r) => {
        const summary = summaryOf(r);
        if (summary === null) return [];
        return [{
          subscription_id: Number(r.id),
          payload: JSON.stringify(buildPayload(summary)),
          topic: PUSH_TOPIC,
          urgency: summary.mention === null ? "normal" : "high",
        }];
      });
      // Everyone claimed is caught up to `through`, and their mentions up
      // to it are spent.
      await tx.query(
        `delete from push_mentions where message_id <= $2 and subscription_id = any(array(
           select jsonb_array_elements_text($1::text::jsonb)::bigint))`,
        [ids(claimed), through],
      );
      if (visible.length > 0) {
        // Looking at the room: what is there is seen. Held back (still
        // waiting) until the tab's report runs out, so further messages
        // cost nothing until then; a refresh moves the cursor again.
        await tx.query(
          `update push_subscriptions s set
             notified_through = greatest(notified_through, $2),
             waiting = true,
             quiet_from = (select max(v.expires_at) from push_visibility v
                           where v.subscription_id = s.id)
               - make_interval(secs => $3)
           where id = any(array(
             select jsonb_array_elements_text($1::text::jsonb)::bigint))`,
          [ids(visible), through, intervalMs / 1000],
        );
      }
      if (away.length > 0) {
        await tx.query(
          `update push_subscriptions set
             notified_through = greatest(notified_through, $2),
             waiting = false, quiet_from = null
           where id = any(array(
             select jsonb_array_elements_text($1::text::jsonb)::bigint))`,
          [ids(away), through],
        );
      }
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
           where id = any(array(
             select jsonb_array_elements_text($1::text::jsonb)::bigint))`,
          [JSON.stringify(deliveries.map((d) => d.subscription_id))],
        );
      }
      return {
        created: deliveries.length,
        dropped: claimed.length - deliveries.length,
        woken,
        more,
      };
    })
  );
}

/** Milliseconds until a subscriber comes due for materialize (0 = now), or null when none waits. */
export async function nextPendingMs(
  db: Queryable,
  intervalMs: number,
): Promise<number | null> {
  // Subscribers with a delivery in flight are left out: the sender wakes
  // the queue when that delivery is done. Each part reads a few index rows.
  const [row] = await db.query<{ ms: number | string | null }>(
    `with through as (select ${THROUGH} as id)
     select extract(epoch from (case
       -- min(), not exists(): read off the index's first entry whatever
       -- the planner believes of how many are idle.
       when (select min(notified_through) from push_subscriptions
             where not waiting) < (select id from through)
         or exists (
           select 1 from push_mentions pm
           where pm.message_id <= (select id from through)
             and pm.message_id > (select s.notified_through
               from push_subscriptions s where s.id = pm.subscription_id)
             and (select m.id from messages m where m.id = pm.message_id)
               is not null
             and ${IN_FLIGHT("pm.subscription_id")} is null)
         then now()
       else (
         -- greatest() skips nulls: never notified nor quiet is due now.
         select coalesce(greatest(last_notified_at, quiet_from)
           + make_interval(secs => $1), now())
         from push_subscriptions s
         where waiting and ${IN_FLIGHT("s.id")} is null
         order by greatest(coalesce(last_notified_at, '-infinity'),
             coalesce(quiet_from, '-infinity'))
         limit 1)
       end) - now()) * 1000 as ms`,
    [intervalMs / 1000],
  );
  if (row.ms === null) return null;
  return Math.max(0, Math.ceil(Number(row.ms)));
}

/** Subscribers owed a notification now or later (a diagnostic and a test aid: it reads every subscription). */
export async function waitingCount(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from push_subscriptions s
     where exists (
       select 1 from messages m
       where m.id > s.notified_through and m.id <= ${THROUGH}
         and not (m.name_id is not null and (lower(m.author) = s.name_key
           or exists (select 1 from names n
                      where n.id = m.name_id and n.key = s.name_key))))`,
  );
  return row.n;
}
