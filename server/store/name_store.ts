/**
 * Claimed names (db/migrations/005's `names` and `name_transfers`). Tokens
 * and transfer codes are handed in already hashed (server/http/name_auth.ts);
 * nothing here sees a secret.
 */
import type { Database } from "../../db/database.ts";
import { guard } from "./db_errors.ts";

/** A claim as stored. */
export interface NameRecord {
  /** The claim's id: a later claim of the same name gets another. */
  id: number;
  /** What names are compared by (protocol/names.ts nameKey). */
  key: string;
  /** The name as claimed. */
  name: string;
  /** SHA-256 of the token, lowercase hex. */
  tokenHash: string;
  lastUsedAt: Date;
}

/** Reads and writes claims; every method may throw DatabaseUnavailableError. */
export interface NameStore {
  /**
   * Claims `key` (shown as `name`) for the token hashed `tokenHash`. A claim
   * of the same key unused for `idleDays` (0 = never) is released first.
   * Null when the name is taken.
   */
  claim(
    key: string,
    name: string,
    tokenHash: string,
    idleDays: number,
  ): Promise<NameRecord | null>;
  /** Which of `keys` nobody holds. */
  freeKeys(keys: string[]): Promise<Set<string>>;
  /** The claim of `key`; `fresh` asks past any cache (server/store/claim_cache.ts). */
  byKey(key: string, lookup?: { fresh?: boolean }): Promise<NameRecord | null>;
  byId(id: number): Promise<NameRecord | null>;
  byTokenHash(tokenHash: string): Promise<NameRecord | null>;
  /** Marks a claim used now (its idle time starts again). */
  touch(id: number): Promise<void>;
  /** Stores the one transfer code of claim `id` (replacing an earlier one), valid for `ttlMs`; returns when it expires. */
  startTransfer(id: number, codeHash: string, ttlMs: number): Promise<Date>;
  /** Uses up a transfer code: the claim gets the new token (the old one stops working). Null when the code is unknown or expired. */
  finishTransfer(
    codeHash: string,
    tokenHash: string,
  ): Promise<NameRecord | null>;
  /** Gives a name up; false when the claim was gone already. */
  release(id: number): Promise<boolean>;
}

type Row = {
  id: number | string;
  key: string;
  name: string;
  token_hash: string;
  last_used_at: Date | string;
};

const COLUMNS = "id, key, name, token_hash, last_used_at";

function toRecord(row: Row | undefined): NameRecord | null {
  if (row === undefined) return null;
  return {
    id: Number(row.id),
    key: row.key,
    name: row.name,
    tokenHash: row.token_hash,
    lastUsedAt: new Date(row.last_used_at),
  };
}

/** A NameStore over `db`. */
export function createNameStore(db: Database): NameStore {
  const one = (text: string, params: unknown[]) =>
    guard(async () => toRecord((await db.query<Row>(text, params))[0]));
  return {
    claim: (key, name, tokenHash, idleDays) =>
      guard(() =>
        db.transaction(async (tx) => {
          if (idleDays > 0) {
            // Released lazily, here: nothing else needs an idle name gone.
            // A bot's name is a moderator's, kept until unregistered.
            await tx.query(
              `delete from names where key = $1
               and last_used_at < now() - make_interval(days => $2)
               and id not in (select name_id from bots)`,
              [key, idleDays],
            );
          }
          // A concurrent claim of the same key waits here for the other to
          // commit, then finds it taken.
          const [row] = await tx.query<Row>(
            `insert into names (key, name, token_hash) values ($1, $2, $3)
             on conflict (key) do nothing
             returning ${COLUMNS}`,
            [key, name, tokenHash],
          );
          return toRecord(row);
        })
      ),
    freeKeys: (keys) =>
      guard(async () => {
        const taken = new Set(
          (await db.query<{ key: string }>(
            "select key from names where key = any($1::text[])",
            [keys],
          )).map((r) => r.key),
        );
        return new Set(keys.filter((k) => !taken.has(k)));
      }),
    byKey: (key) => one(`select ${COLUMNS} from names where key = $1`, [key]),
    byId: (id) => one(`select ${COLUMNS} from names where id = $1`, [id]),
    byTokenHash: (tokenHash) =>
      one(`select ${COLUMNS} from names where token_hash = $1`, [tokenHash]),
    touch: (id) =>
      guard(async () => {
        await db.query("update names set last_used_at = now() where id = $1", [
          id,
        ]);
      }),
    startTransfer: (id, codeHash, ttlMs) =>
      guard(async () => {
        // Expired codes of any name go too: they are never needed again.
        const [row] = await db.query<{ expires_at: Date | string }>(
          `with stale as (
             delete from name_transfers
             where expires_at < now() and name_id <> $1
           )
           insert into name_transfers (name_id, code_hash, expires_at)
           values ($1, $2, now() + make_interval(secs => $3))
           on conflict (name_id) do update
             set code_hash = excluded.code_hash,
                 expires_at = excluded.expires_at
           returning expires_at`,
          [id, codeHash, ttlMs / 1000],
        );
        return new Date(row.expires_at);
      }),
    finishTransfer: (codeHash, tokenHash) =>
      one(
        // The code is used up even when expired: it can never work again.
        `with used as (
           delete from name_transfers where code_hash = $1
           returning name_id, expires_at
         )
         update names set token_hash = $2, last_used_at = now()
         from used
         where names.id = used.name_id and used.expires_at > now()
         returning names.id, names.key, names.name, names.token_hash,
           names.last_used_at`,
        [codeHash, tokenHash],
      ),
    release: (id) =>
      guard(async () =>
        (await db.query("delete from names where id = $1 returning id", [id]))
          .length > 0
      ),
  };
}
