/**
 * The webhook queue in Postgres (db/migrations/020), in two steps that any
 * number of instances run concurrently and that together POST each mention
 * to its bot once, like the push queue (server/push/queue.ts):
 *
 * 1. fanOutMentions: whoever holds the one bot_cursor row (FOR UPDATE SKIP
 *    LOCKED) reads the messages past it, records a bot_deliveries row for
 *    each bot with a webhook that a message mentions (protocol/mention.ts),
 *    and moves the cursor, in one transaction.
 * 2. claimBotDeliveries / finish / retry: a sender leases due deliveries
 *    (SKIP LOCKED, next_attempt_at moved past its timeout) in one committed
 *    statement, POSTs, then deletes the row or schedules a retry. Only an
 *    instance dying mid-send (its lease running out) makes a second POST.
 */
import type { Database, Queryable } from "../../db/database.ts";
import { mentionPattern } from "../../protocol/mention.ts";
import { retryTransient } from "../push/queue.ts";

type MessageRow = {
  id: number | string;
  name_id: number | string | null;
  /** Only for messages with an "@" that no bot wrote. */
  text: string | null;
};

type BotRow = { id: number | string; name: string };

/**
 * Step 1: records the mentions of bots in up to `batchSize` messages past
 * the cursor and moves it. Returns the messages consumed, or null when
 * another instance holds the cursor.
 *
 * Messages by bots are never delivered (two bots answering each other
 * would never stop), nor a bot's mention of itself.
 */
export function fanOutMentions(
  db: Database,
  batchSize: number,
): Promise<number | null> {
  return retryTransient(() =>
    db.transaction(async (tx) => {
      const [cursor] = await tx.query<{ message_id: number | string }>(
        "select message_id from bot_cursor for update skip locked",
      );
      if (cursor === undefined) return null;
      // KEY SHARE: a bot unregistered meanwhile waits for the deliveries.
      const bots = await tx.query<BotRow>(
        `select b.name_id as id, n.name
         from bots b join names n on n.id = b.name_id
         where b.webhook is not null
         for key share of b`,
      );
      if (bots.length === 0) {
        // No webhook to call: skip to the newest message. Ids become
        // visible in increasing order (db/migrations/001).
        await tx.query(
          `update bot_cursor set message_id =
             greatest(message_id, (select coalesce(max(id), 0) from messages))`,
        );
        return 0;
      }
      const messages = await tx.query<MessageRow>(
        `select id, name_id,
           case when not bot and strpos(text, '@') > 0 then text end as text
         from messages where id > $1 order by id limit $2`,
        [Number(cursor.message_id), batchSize],
      );
      if (messages.length === 0) return 0;
      const rows: { bot_id: number; message_id: number }[] = [];
      for (const bot of bots) {
        const pattern = mentionPattern(bot.name);
        for (const m of messages) {
          if (m.text === null || !pattern.test(m.text)) continue;
          if (m.name_id !== null && Number(m.name_id) === Number(bot.id)) {
            continue;
          }
          rows.push({ bot_id: Number(bot.id), message_id: Number(m.id) });
        }
      }
      if (rows.length > 0) {
        await tx.query(
          `insert into bot_deliveries (bot_id, message_id, message)
           select r.bot_id, r.message_id, message_json(m)
           from jsonb_to_recordset($1::text::jsonb)
             as r (bot_id bigint, message_id bigint)
           join messages m on m.id = r.message_id
           on conflict do nothing`,
          [JSON.stringify(rows)],
        );
      }
      await tx.query("update bot_cursor set message_id = $1", [
        messages[messages.length - 1].id,
      ]);
      return messages.length;
    })
  );
}

/** A delivery this instance leased: POST it, then finish or retry it. */
export interface ClaimedBotDelivery {
  id: number;
  botId: number;
  botName: string;
  messageId: number;
  /** The message's JSON as rendered at fan-out. */
  message: string;
  /** POSTs so far, this one included. */
  attempts: number;
  webhook: string | null;
  secret: string;
  allowLocal: boolean;
}

/** Step 2: leases up to `limit` due deliveries for `leaseMs` (longer than a POST may take), in one statement. */
export async function claimBotDeliveries(
  db: Queryable,
  limit: number,
  leaseMs: number,
): Promise<ClaimedBotDelivery[]> {
  const rows = await db.query<{
    id: number | string;
    bot_id: number | string;
    message_id: number | string;
    message: string;
    attempts: number;
    webhook: string | null;
    secret: string;
    allow_local: boolean;
    name: string;
  }>(
    `with claimed as (
       select id from bot_deliveries
       where next_attempt_at <= now()
       order by next_attempt_at
       limit $1
       for update skip locked
     )
     update bot_deliveries d
     set next_attempt_at = now() + make_interval(secs => $2),
         attempts = d.attempts + 1
     from claimed, bots b, names n
     where d.id = claimed.id and b.name_id = d.bot_id and n.id = b.name_id
     returning d.id, d.bot_id, d.message_id, d.message::text as message,
       d.attempts, b.webhook, b.secret, b.allow_local, n.name`,
    [limit, leaseMs / 1000],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    botId: Number(r.bot_id),
    botName: r.name,
    messageId: Number(r.message_id),
    message: r.message,
    attempts: r.attempts,
    webhook: r.webhook,
    secret: r.secret,
    allowLocal: r.allow_local,
  }));
}

/** Done with (delivered, refused or given up). */
export async function finishBotDelivery(
  db: Queryable,
  id: number,
): Promise<void> {
  await db.query("delete from bot_deliveries where id = $1", [id]);
}

/** Try again in `delayMs`, unless the lease ran out and another sender claimed it since (`attempts` tells). */
export async function retryBotDelivery(
  db: Queryable,
  delivery: Pick<ClaimedBotDelivery, "id" | "attempts">,
  delayMs: number,
): Promise<void> {
  await db.query(
    `update bot_deliveries
     set next_attempt_at = now() + make_interval(secs => $3)
     where id = $1 and attempts = $2`,
    [delivery.id, delivery.attempts, delayMs / 1000],
  );
}

/** Milliseconds until a delivery comes due (0 = now), by the database's clock; null when none is queued. */
export async function nextBotDeliveryMs(
  db: Queryable,
): Promise<number | null> {
  const [row] = await db.query<{ ms: number | string | null }>(
    `select extract(epoch from
       (select min(next_attempt_at) from bot_deliveries) - now()) * 1000 as ms`,
  );
  if (row.ms === null) return null;
  return Math.max(0, Math.ceil(Number(row.ms)));
}
