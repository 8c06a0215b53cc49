import {
  type Database,
  DatabaseUnavailableError,
  isUnavailableError,
} from "../../db/database.ts";
import { createGroupCommit, type ItemOutcome } from "./group_commit.ts";
import type { Message, MessageInput } from "../../protocol/message.ts";

/** Reads and writes the room's messages; every method may throw DatabaseUnavailableError. */
export interface MessageStore {
  /**
   * Stores a message; the insert trigger NOTIFYs every instance on commit.
   * With a clientId already stored, returns that original (created: false).
   */
  insert(input: MessageInput): Promise<{ message: Message; created: boolean }>;
  get(id: number): Promise<Message | null>;
  /** Messages with id > `afterId`, ascending, at most `limit`. */
  after(afterId: number, limit: number): Promise<Message[]>;
  /** The newest `limit` messages with id < `beforeId` (all when null), oldest first. */
  before(
    beforeId: number | null,
    limit: number,
  ): Promise<{ messages: Message[]; hasMore: boolean }>;
  /** The highest committed id, 0 for an empty room. */
  maxId(): Promise<number>;
  /** Deletes a message (the delete trigger tells every instance); false if there was none. */
  remove(id: number): Promise<boolean>;
  /** Ids up to `upToId` deleted in the last day, for a client resuming from there. */
  recentDeletes(upToId: number): Promise<number[]>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
}

/** The database refused a row the validator let through (a CHECK the two disagree on). */
export class MessageRejectedError extends Error {
  override name = "MessageRejectedError";
}

type Row = { m: Message };

/** What insert() answers. */
type Inserted = { message: Message; created: boolean };

/** Rows per INSERT when POSTs arrive together (3 parameters each). */
export const MAX_INSERT_BATCH = 100;

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailableError(error)) throw new DatabaseUnavailableError(error);
    const code = (error as { code?: unknown }).code;
    // 23514 check_violation, 22xxx data exceptions (e.g. bad encoding).
    if (
      code === "23514" || (typeof code === "string" && code.startsWith("22"))
    ) {
      throw new MessageRejectedError(
        "The message was refused by the database's checks.",
        { cause: error },
      );
    }
    throw error;
  }
}

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
  const rows = async (text: string, params: unknown[]) =>
    (await db.query<Row>(text, params)).map((r) => r.m);
  const insertOne = (input: MessageInput) =>
    guard(async (): Promise<Inserted> => {
      // ON CONFLICT waits for a concurrent insert of the same clientId to
      // commit, so the lookup below always finds the winner.
      const [m] = await rows(
        `insert into messages (author, text, client_id) values ($1, $2, $3)
         on conflict (client_id) do nothing
         returning message_json(messages) as m`,
        [input.author, input.text, input.clientId ?? null],
      );
      if (m !== undefined) committed([m]);
      if (m !== undefined || !input.clientId) {
        return { message: m, created: true };
      }
      return { message: await original(input.clientId), created: false };
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
    inputs: MessageInput[],
  ): Promise<ItemOutcome<Inserted>[]> => {
    if (inputs.length === 1) return [await settle(insertOne(inputs[0]))];
    // A clientId repeated within the batch is inserted once.
    const clientKey = (input: MessageInput) => input.clientId?.toLowerCase();
    const firstOfClient = new Map<string, MessageInput>();
    const values: MessageInput[] = [];
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
      params.push(v.author, v.text, v.clientId ?? null);
      const n = params.length;
      return `($${n - 2}, $${n - 1}, $${n})`;
    });
    let inserted: Message[];
    try {
      inserted = await guard(() =>
        rows(
          `insert into messages (author, text, client_id) values ${
            tuples.join(", ")
          }
           on conflict (client_id) do nothing
           returning message_json(messages) as m`,
          params,
        )
      );
    } catch (error) {
      // One row the checks refuse fails the statement: write them one by
      // one so that only that message is refused.
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
        const key = `${m.author}\u0000${m.text}`;
        byContent.set(key, [...(byContent.get(key) ?? []), m]);
      }
    }
    return Promise.all(inputs.map((input) => {
      const key = clientKey(input);
      if (key === undefined) {
        const m = byContent.get(`${input.author}\u0000${input.text}`)?.shift();
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
    maxId: () =>
      guard(async () => {
        const [r] = await db.query<{ max: number | string | null }>(
          "select max(id) as max from messages",
        );
        return Number(r.max ?? 0);
      }),
    remove: (id) =>
      guard(async () => {
        const gone = await db.query(
          "delete from messages where id = $1 returning id",
          [id],
        );
        return gone.length > 0;
      }),
    recentDeletes: (upToId) =>
      guard(async () => {
        const rows = await db.query<{ id: number | string }>(
          `select id from deleted_messages
           where id <= $1 and deleted_at > now() - interval '1 day'
           order by id limit 1000`,
          [upToId],
        );
        return rows.map((r) => Number(r.id));
      }),
    ping: () =>
      guard(async () => {
        await db.query("select 1");
      }),
  };
}
