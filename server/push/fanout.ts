/**
 * Step 1 of the push queue (see queue.ts): reading new messages once, in
 * order, for what cannot wait for a subscriber's interval: mentions. Its
 * cost per message does not depend on how many subscribe: a message that
 * names nobody writes nothing, and one that does writes a push_mentions row
 * for each subscription it names, found through the name_key index.
 */
import type { Database } from "../../db/database.ts";
import { MAX_AUTHOR_LENGTH } from "../../protocol/limits.ts";
import { mentionPattern } from "../../protocol/mention.ts";
import { nameKey } from "../../protocol/names.ts";
import { retryTransient } from "./queue.ts";

/** Most distinct names looked up for one batch: "@" spam must not make the lookup unbounded. */
const MAX_MENTION_KEYS = 2_000;

// What may not stand right before "@" or right after a name for it to be
// a mention (protocol/mention.ts).
const WORD = /[\p{L}\p{N}_]/u;

/**
 * The keys (protocol/names.ts) of every name `text` could mention: after
 * each "@" that does not follow a letter or digit, each run of up to
 * MAX_AUTHOR_LENGTH characters that ends before a non-word character.
 * A superset: mentionPattern has the last word on each.
 */
export function mentionKeys(text: string): string[] {
  const keys = new Set<string>();
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] !== "@" || (i > 0 && WORD.test(chars[i - 1]))) continue;
    let candidate = "";
    for (let j = i + 1; j < chars.length && j <= i + MAX_AUTHOR_LENGTH; j++) {
      candidate += chars[j];
      const next = chars[j + 1];
      if (next === undefined || !WORD.test(next)) keys.add(nameKey(candidate));
    }
  }
  return [...keys];
}

/** What one fanOut did. */
export interface FanOutResult {
  /** Messages consumed, or null when another instance holds the cursor (it was woken by the same NOTIFY, and runs again if it was busy). */
  consumed: number | null;
  /** False when nobody is subscribed: then nothing else can be queued either. */
  anySubscriber: boolean;
}

type MessageRow = {
  id: number | string;
  author: string;
  verified: boolean;
  /** Only for messages with an "@". */
  text: string | null;
};

type NamedRow = {
  id: number | string;
  name: string;
  name_key: string;
  notified_through: number | string;
};

/**
 * Step 1: records the mentions in up to `batchSize` messages past the
 * cursor and moves the cursor, in one transaction. Whoever holds the one
 * push_cursor row (FOR UPDATE SKIP LOCKED) does it; the others skip.
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
      const [{ any }] = await tx.query<{ any: boolean }>(
        "select exists (select 1 from push_subscriptions) as any",
      );
      if (!any) {
        // Nobody to tell: skip to the newest message. Ids become visible in
        // increasing order (db/migrations/001), so none below it can appear.
        await tx.query(
          `update push_cursor set message_id =
             greatest(message_id, (select coalesce(max(id), 0) from messages))`,
        );
        return { consumed: 0, anySubscriber: false };
      }
      // Texts only where an "@" could make a mention: most have none.
      const messages = await tx.query<MessageRow>(
        `select id, author, name_id is not null as verified,
           case when strpos(text, '@') > 0 then text end as text
         from messages where id > $1 order by id limit $2`,
        [Number(cursor.message_id), batchSize],
      );
      if (messages.length === 0) return { consumed: 0, anySubscriber: true };
      const keys = new Set<string>();
      for (const m of messages) {
        if (m.text === null) continue;
        for (const key of mentionKeys(m.text)) {
          if (keys.size < MAX_MENTION_KEYS) keys.add(key);
        }
      }
      if (keys.size > 0) {
        const named = await tx.query<NamedRow>(
          // KEY SHARE: none of them can be deleted before the mentions are
          // written. = any(array(…)), not in (…): the index, whatever the
          // planner guesses of the list's length.
          `select id, name, name_key, notified_through
           from push_subscriptions where name_key = any(array(
             select jsonb_array_elements_text($1::text::jsonb)))
           for key share`,
          [JSON.stringify([...keys])],
        );
        const rows = mentionRows(messages, named);
        if (rows.length > 0) {
          await tx.query(
            `insert into push_mentions (subscription_id, message_id)
             select r.subscription_id, r.message_id
             from jsonb_to_recordset($1::text::jsonb)
               as r (subscription_id bigint, message_id bigint)
             on conflict do nothing`,
            [JSON.stringify(rows)],
          );
        }
      }
      await tx.query("update push_cursor set message_id = $1", [
        messages[messages.length - 1].id,
      ]);
      return { consumed: messages.length, anySubscriber: true };
    })
  );
}

/**
 * Which subscriptions each message mentions: by mentionPattern, not in a
 * message that is the subscriber's own (verified under the same name key)
 * nor in one the subscriber's cursor has passed already.
 */
function mentionRows(
  messages: readonly MessageRow[],
  named: readonly NamedRow[],
): { subscription_id: number; message_id: number }[] {
  const rows: { subscription_id: number; message_id: number }[] = [];
  for (const s of named) {
    const pattern = mentionPattern(s.name);
    for (const m of messages) {
      if (m.text === null || !pattern.test(m.text)) continue;
      if (m.verified && nameKey(m.author) === s.name_key) continue;
      if (Number(m.id) <= Number(s.notified_through)) continue;
      rows.push({ subscription_id: Number(s.id), message_id: Number(m.id) });
    }
  }
  return rows;
}
