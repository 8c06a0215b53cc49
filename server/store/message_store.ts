import type { Database } from "../../db/database.ts";
import { createGroupCommit, type ItemOutcome } from "./group_commit.ts";
import type { Message, MessageInput } from "../../protocol/message.ts";
import type { ReactionEmoji } from "../../protocol/reactions.ts";
import { guard, MessageRejectedError } from "./db_errors.ts";

export { MessageRejectedError, MissingReferenceError } from "./db_errors.ts";

/** A message to store: the validated input, and the claim it was posted under (null: unverified). */
export interface NewMessage extends MessageInput {
  nameId?: number | null;
}

/** Reads and writes the room's messages; every method may throw DatabaseUnavailableError. */
export interface MessageStore {
  /**
   * Stores a message; the insert trigger NOTIFYs every instance on commit.
   * With a clientId already stored, returns that original (created: false).
   * A reply to a message that does not exist throws MissingReferenceError.
   */
  insert(input: NewMessage): Promise<{ message: Message; created: boolean }>;
  get(id: number): Promise<Message | null>;
  /** Messages with id > `afterId`, ascending, at most `limit`. */
  after(afterId: number, limit: number): Promise<Message[]>;
  /** The newest `limit` messages with id < `beforeId` (all when null), oldest first. */
  before(
    beforeId: number | null,
    limit: number,
  ): Promise<{ messages: Message[]; hasMore: boolean }>;
  /** The claim message `id` was posted under (null: unverified), or null when there is no such message. */
  owner(id: number): Promise<{ nameId: number | null } | null>;
  /** Replaces the text of message `id` if it was posted under claim `nameId`; null when no such message (any more). */
  edit(id: number, nameId: number, text: string): Promise<Message | null>;
  /** Deletes a message (the delete trigger tells every instance); false if there was none. */
  remove(id: number): Promise<boolean>;
  /**
   * Deletes messages `ids` in one transaction, the same way as remove()
   * (retention and erasure use it); returns the ids that were there.
   */
  removeMany(ids: readonly number[]): Promise<number[]>;
  /**
   * Adds the reaction of claim `nameId` (shown as `name`) to message `id`, or
   * takes it back if it is there; says which. Throws MissingReferenceError
   * when there is no such message.
   */
  toggleReaction(
    id: number,
    nameId: number,
    name: string,
    emoji: ReactionEmoji,
  ): Promise<{ reacted: boolean }>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
}

type Row = { m: Message };

/** What insert() answers. */
type Inserted = { message: Message; created: boolean };

// Rows an INSERT just made have no reactions or preview yet: rendered
// without looking (db/migrations/015).
const NEW_MESSAGE_JSON = "message_json_with(messages, '[]'::json, null)";

/** Rows per INSERT when POSTs arrive together (6 parameters each). */
export const MAX_INSERT_BATCH = 100;

// Requests a batch's rows are matched back to when they carry no clientId:
// rows alike in all of these are interchangeable.
const contentKey = (
  author: string,
  text: string,
  replyTo: number | null,
  verified: boolean,
  pictures: readonly { id: string }[] | undefined,
) =>
  `${author}\u0000${text}\u0000${replyTo ?? ""}\u0000${verified}\u0000${
    (pictures ?? []).map((p) => p.id).join(",")
  }`;

// The uploads a message names, as the insert trigger reads them
// (db/migrations/016), or null.
const picturesParam = (input: NewMessage) =>
  input.attachments?.length ? JSON.stringify(input.attachments) : null;

/** Options of the message store. */
export interface MessageStoreOptions {
  /** Told the rows each INSERT committed, ascending (the listener publishes them early). */
  onCommitted?: (messages: readonly Message[]) => void;
}

/** A MessageStore over `db`; rows are rendered by the SQL function message_json. */
export function createMessageStore(
  db: Database,
  options: MessageStoreOptions = {},
): MessageStore {
  const committed = (messages: readonly Message[]) => {
    try {
      options.onCommitted?.(messages);
    } catch {
      // Only a shortcut: the rows are committed and their NOTIFY delivers
      // them anyway, so the caller must still get its success.
    }
  };
  const rows = async (text: string, params: unknown[], prepare = false) =>
    (await db.query<Row>(text, params, { prepare })).map((r) => r.m);
  const insertOne = (input: NewMessage) =>
    guard(async (): Promise<Inserted> => {
      // ON CONFLICT waits for a concurrent insert of the same clientId to
      // commit, so the lookup below always finds the winner.
      const [m] = await rows(
        `insert into messages
           (author, text, client_id, reply_to, name_id, attachments)
         values ($1, $2, $3, $4, $5, $6::text::jsonb)
         on conflict (client_id) do nothing
         returning ${NEW_MESSAGE_JSON} as m`,
        [
          input.author,
          input.text,
          input.clientId ?? null,
          input.replyTo ?? null,
          input.nameId ?? null,
          picturesParam(input),
        ],
        // Every message comes through here or the batch below: prepared,
        // the INSERT is one round trip instead of two (bench/post_floor.ts,
        // a POST's 201 at the median: 2.65 ms unprepared, 2.24 prepared,
        // means of six and five runs on a 2-core machine).
        true,
      );
      if (m !== undefined) committed([m]);
      if (m !== undefined || !input.clientId) {
        return { message: m, created: true };
      }
      return { message: await original(input.clientId), created: false };
    });
  // The one delete path: a moderator's delete, an author's, retention and
  // erasure all come here, so whatever a delete must also remove is done
  // for each of them.
  const removeMany = (ids: readonly number[]) =>
    guard(async () => {
      if (ids.length === 0) return [];
      const gone = await db.query<{ id: number | string }>(
        "delete from messages where id = any($1::bigint[]) returning id",
        [ids],
      );
      return gone.map((r) => Number(r.id));
    });
  const original = async (clientId: string) => {
    const [m] = await rows(
      "select message_json(messages) as m from messages where client_id = $1",
      [clientId],
    );
    if (m === undefined) {
      throw new Error(`no message with clientId ${clientId}`);
    }
    return m;
  };
  const settle = async <T>(work: Promise<T>): Promise<ItemOutcome<T>> => {
    try {
      return { ok: true, value: await work };
    } catch (error) {
      return { ok: false, error };
    }
  };

  // Messages POSTed while the previous INSERT is in flight go in one
  // statement: one trip, one commit (and one NOTIFY flush) for all of them.
  // Ids and the ordering lock are per row as before, so ids still become
  // visible in commit order.
  const insertBatch = async (
    inputs: NewMessage[],
  ): Promise<ItemOutcome<Inserted>[]> => {
    if (inputs.length === 1) return [await settle(insertOne(inputs[0]))];
    // A clientId repeated within the batch is inserted once.
    const clientKey = (input: NewMessage) => input.clientId?.toLowerCase();
    const firstOfClient = new Map<string, NewMessage>();
    const values: NewMessage[] = [];
    for (const input of inputs) {
      const key = clientKey(input);
      if (key !== undefined) {
        if (firstOfClient.has(key)) continue;
        firstOfClient.set(key, input);
      }
      values.push(input);
    }
    const params: unknown[] = [];
    const tuples = values.map((v) => {
      params.push(
        v.author,
        v.text,
        v.clientId ?? null,
        v.replyTo ?? null,
        v.nameId ?? null,
        picturesParam(v),
      );
      const n = params.length;
      return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}::bigint, $${
        n - 1
      }::bigint, $${n}::text::jsonb)`;
    });
    let inserted: Message[];
    try {
      inserted = await guard(() =>
        rows(
          `insert into messages (author, text, client_id, reply_to, name_id, attachments) values ${
            tuples.join(", ")
          }
           on conflict (client_id) do nothing
           returning ${NEW_MESSAGE_JSON} as m`,
          params,
          // One text per batch size: at most MAX_INSERT_BATCH stay prepared.
          true,
        )
      );
    } catch (error) {
      // One row the checks refuse (or a reply to a missing message) fails
      // the statement: write them one by one so that only that message is
      // refused.
      if (!(error instanceof MessageRejectedError)) throw error;
      const outcomes: ItemOutcome<Inserted>[] = [];
      for (const input of inputs) outcomes.push(await settle(insertOne(input)));
      return outcomes;
    }
    // RETURNING promises no order: match rows to requests by clientId, and
    // the rest by content (messages with the same author and text in one
    // statement are interchangeable), lowest id first.
    inserted.sort((a, b) => a.id - b.id);
    committed(inserted);
    const byClient = new Map<string, Message>();
    const byContent = new Map<string, Message[]>();
    for (const m of inserted) {
      if (m.clientId) byClient.set(m.clientId.toLowerCase(), m);
      else {
        const key = contentKey(
          m.author,
          m.text,
          m.replyTo?.id ?? null,
          m.verified === true,
          m.attachments,
        );
        byContent.set(key, [...(byContent.get(key) ?? []), m]);
      }
    }
    return Promise.all(inputs.map((input) => {
      const key = clientKey(input);
      if (key === undefined) {
        const m = byContent.get(contentKey(
          input.author,
          input.text,
          input.replyTo ?? null,
          (input.nameId ?? null) !== null,
          input.attachments,
        ))?.shift();
        return m
          ? { ok: true, value: { message: m, created: true } }
          : settle(Promise.reject(new Error("inserted row not returned")));
      }
      const m = byClient.get(key);
      if (m !== undefined) {
        const created = firstOfClient.get(key) === input;
        return { ok: true, value: { message: m, created } };
      }
      // Stored before this batch: answer with the original.
      return settle(
        guard(async () => ({
          message: await original(input.clientId!),
          created: false,
        })),
      );
    }));
  };
  const inserts = createGroupCommit(insertBatch, MAX_INSERT_BATCH);

  return {
    insert: (input) => inserts.add(input),
    get: (id) =>
      guard(async () => {
        const [m] = await rows(
          "select message_json(messages) as m from messages where id = $1",
          [id],
        );
        return m ?? null;
      }),
    after: (afterId, limit) =>
      guard(() =>
        rows(
          "select message_json(messages) as m from messages where id > $1 order by id limit $2",
          [afterId, limit],
        )
      ),
    before: (beforeId, limit) =>
      guard(async () => {
        // One extra row tells whether older messages remain.
        // Two statements rather than "$1 is null or id < $1", which a
        // cached generic plan may turn into a full scan.
        const newestFirst = beforeId === null
          ? await rows(
            "select message_json(messages) as m from messages order by id desc limit $1",
            [limit + 1],
          )
          : await rows(
            "select message_json(messages) as m from messages where id < $1 order by id desc limit $2",
            [beforeId, limit + 1],
          );
        const hasMore = newestFirst.length > limit;
        return {
          messages: newestFirst.slice(0, limit).reverse(),
          hasMore,
        };
      }),
    owner: (id) =>
      guard(async () => {
        const [row] = await db.query<{ name_id: number | string | null }>(
          "select name_id from messages where id = $1",
          [id],
        );
        if (row === undefined) return null;
        return { nameId: row.name_id === null ? null : Number(row.name_id) };
      }),
    edit: (id, nameId, text) =>
      guard(async () => {
        // The edit trigger stamps editedAt and logs the change (when the
        // text differs); the name_id condition makes a claim that changed
        // meanwhile (released, claimed again) miss.
        const [m] = await rows(
          `update messages set text = $3 where id = $1 and name_id = $2
           returning message_json(messages) as m`,
          [id, nameId, text],
        );
        return m ?? null;
      }),
    remove: async (id) => (await removeMany([id])).length > 0,
    removeMany,
    toggleReaction: (id, nameId, name, emoji) =>
      guard(async () => {
        // One statement: the delete finds the reaction if it is there, the
        // insert runs only if it was not. Both are logged by the trigger.
        const [row] = await db.query<{ reacted: boolean }>(
          `with gone as (
             delete from reactions
             where message_id = $1 and name_id = $2 and emoji = $3
             returning 1
           ), added as (
             insert into reactions (message_id, name_id, name, emoji)
             select $1, $2, $4, $3 where not exists (select 1 from gone)
             on conflict do nothing
             returning 1
           )
           select exists (select 1 from added) as reacted`,
          [id, nameId, emoji, name],
        );
        return { reacted: row.reacted };
      }),
    ping: () =>
      guard(async () => {
        await db.query("select 1");
      }),
  };
}
