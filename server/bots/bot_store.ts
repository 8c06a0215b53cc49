/**
 * Registered bots (db/migrations/020's `bots`): a claimed name with a row
 * there. Registering claims the name; unregistering releases it, so the
 * bot's token stops working and its queued deliveries go with it.
 */
import type { Database } from "../../db/database.ts";
import { guard } from "../store/db_errors.ts";

/** A bot as the moderation routes list it. */
export interface BotRecord {
  /** The claim's id (names.id). */
  id: number;
  name: string;
  webhook: string | null;
  allowLocal: boolean;
  createdAt: string;
}

/** What registering a bot stores; the token comes already hashed. */
export interface NewBot {
  key: string;
  name: string;
  tokenHash: string;
  webhook: string | null;
  secret: string;
  allowLocal: boolean;
}

/** Reads and writes bots; every method may throw DatabaseUnavailableError. */
export interface BotStore {
  /** Claims the name and marks it a bot; null when the name is taken (by a bot or a person). A claim unused for `idleDays` (0 = never) is released first. */
  register(bot: NewBot, idleDays: number): Promise<BotRecord | null>;
  /** Every bot, by name. */
  list(): Promise<BotRecord[]>;
  /** Unregisters the bot with name key `key` and releases its name; false when there is no such bot. */
  remove(key: string): Promise<boolean>;
}

type Row = {
  id: number | string;
  name: string;
  webhook: string | null;
  allow_local: boolean;
  created_at: Date | string;
};

function toRecord(row: Row): BotRecord {
  return {
    id: Number(row.id),
    name: row.name,
    webhook: row.webhook,
    allowLocal: row.allow_local,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** A BotStore over `db`. */
export function createBotStore(db: Database): BotStore {
  return {
    register: (bot, idleDays) =>
      guard(() =>
        db.transaction(async (tx) => {
          if (idleDays > 0) {
            // As POST /names does: an idle claim (never a bot's) is free.
            await tx.query(
              `delete from names where key = $1
               and last_used_at < now() - make_interval(days => $2)
               and id not in (select name_id from bots)`,
              [bot.key, idleDays],
            );
          }
          const [claim] = await tx.query<{ id: number | string }>(
            `insert into names (key, name, token_hash) values ($1, $2, $3)
             on conflict (key) do nothing
             returning id`,
            [bot.key, bot.name, bot.tokenHash],
          );
          if (claim === undefined) return null;
          const [row] = await tx.query<Row>(
            `insert into bots (name_id, webhook, secret, allow_local)
             values ($1, $2, $3, $4)
             returning name_id as id, $5::text as name, webhook, allow_local,
               created_at`,
            [claim.id, bot.webhook, bot.secret, bot.allowLocal, bot.name],
          );
          return toRecord(row);
        })
      ),
    list: () =>
      guard(async () =>
        (await db.query<Row>(
          `select b.name_id as id, n.name, b.webhook, b.allow_local,
             b.created_at
           from bots b join names n on n.id = b.name_id
           order by n.key`,
        )).map(toRecord)
      ),
    remove: (key) =>
      guard(async () =>
        (await db.query(
          `delete from names n using bots b
           where n.key = $1 and b.name_id = n.id
           returning n.id`,
          [key],
        )).length > 0
      ),
  };
}
