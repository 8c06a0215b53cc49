import {
  type Database,
  DatabaseUnavailableError,
  isUnavailableError,
} from "./database.ts";
import type { Message, MessageInput } from "./message.ts";

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

/** A MessageStore over `db`; rows are rendered by the SQL function message_json. */
export function createMessageStore(db: Database): MessageStore {
  const rows = async (text: string, params: unknown[]) =>
    (await db.query<Row>(text, params)).map((r) => r.m);
  return {
    insert: (input) =>
      guard(async () => {
        // ON CONFLICT waits for a concurrent insert of the same clientId to
        // commit, so the lookup below always finds the winner.
        const [m] = await rows(
          `insert into messages (author, text, client_id) values ($1, $2, $3)
           on conflict (client_id) do nothing
           returning message_json(messages) as m`,
          [input.author, input.text, input.clientId ?? null],
        );
        if (m !== undefined || !input.clientId) {
          return { message: m, created: true };
        }
        const [original] = await rows(
          "select message_json(messages) as m from messages where client_id = $1",
          [input.clientId],
        );
        return { message: original, created: false };
      }),
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
