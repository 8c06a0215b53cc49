import type { Database } from "../../db/database.ts";
import { guard } from "./db_errors.ts";
import { nameKey } from "../../protocol/names.ts";

/** How far back `removeRecentMessages` reaches. */
export const RECENT_MESSAGES_SECONDS = 60 * 60;

/** A ban as the API shows it. */
export interface Ban {
  id: number;
  /** The banned name (null for an address ban). */
  name: string | null;
  /** The banned IP address or CIDR range (null for a name ban). */
  address: string | null;
  reason: string | null;
  createdAt: string;
  /** When it ends by itself; null = until lifted. */
  expiresAt: string | null;
}

/** A ban to add; exactly one of name and address. */
export interface NewBan {
  name: string | null;
  address: string | null;
  reason: string | null;
  durationSeconds: number | null;
}

/** The bans table. */
export interface BanStore {
  add(ban: NewBan): Promise<Ban>;
  /** Bans in force now, oldest first. */
  active(): Promise<Ban[]>;
  /** Lifts a ban; false when there is none with that id. */
  remove(id: number): Promise<boolean>;
  /**
   * Deletes the last RECENT_MESSAGES_SECONDS of messages posted under
   * `name` (claimed or not); the delete trigger logs and announces each.
   * Returns how many.
   */
  removeRecentMessages(name: string): Promise<number>;
}

type BanRow = {
  id: number | string;
  name: string | null;
  address: string | null;
  reason: string | null;
  created_at: string;
  expires_at: string | null;
};

const COLUMNS = `id, name, address, reason,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
  to_char(expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as expires_at`;

function toBan(row: BanRow): Ban {
  return {
    id: Number(row.id),
    name: row.name,
    address: row.address,
    reason: row.reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Creates the ban store over `db`. */
export function createBanStore(db: Database): BanStore {
  return {
    async add(ban) {
      const [row] = await guard(() =>
        db.query<BanRow>(
          `insert into bans (name_key, name, address, reason, expires_at)
         values ($1, $2, $3, $4,
                 now() + make_interval(secs => $5::float8))
         returning ${COLUMNS}`,
          [
            ban.name === null ? null : nameKey(ban.name),
            ban.name,
            ban.address,
            ban.reason,
            ban.durationSeconds,
          ],
        )
      );
      return toBan(row);
    },
    async active() {
      const rows = await guard(() =>
        db.query<BanRow>(
          `select ${COLUMNS} from bans
         where expires_at is null or expires_at > now()
         order by id`,
        )
      );
      return rows.map(toBan);
    },
    async remove(id) {
      const rows = await guard(() =>
        db.query("delete from bans where id = $1 returning id", [id])
      );
      return rows.length > 0;
    },
    async removeRecentMessages(name) {
      // Names are compared by their key, which only the app computes (see
      // db/migrations/005): read the recent authors, delete the matching ids.
      const key = nameKey(name);
      const recent = await guard(() =>
        db.query<{ id: number | string; author: string }>(
          `select id, author from messages
         where created_at > now() - make_interval(secs => $1)`,
          [RECENT_MESSAGES_SECONDS],
        )
      );
      const ids = recent.filter((m) => nameKey(m.author) === key)
        .map((m) => Number(m.id));
      if (ids.length === 0) return 0;
      const gone = await guard(() =>
        db.query(
          "delete from messages where id = any($1::bigint[]) returning id",
          [ids],
        )
      );
      return gone.length;
    },
  };
}
