/**
 * The room's pinned notice and lockdown (db/migrations/017): one row at most
 * each. Writes fire the plaza_room NOTIFY (the tables' triggers), which makes
 * every instance re-read them (server/limits/lockdown.ts's RoomSettingsState).
 */
import type { Database } from "../../db/database.ts";
import type { Lockdown, RoomNotice } from "../../protocol/events.ts";
import { guard } from "./db_errors.ts";

/** A lockdown as a moderator asks for it. */
export interface LockdownInput {
  scope: "all" | "newer";
  /** ISO time; null for `all`. */
  since: string | null;
  reason: string | null;
}

/** Reads and writes the notice and the lockdown; every method may throw DatabaseUnavailableError. */
export interface RoomStore {
  /** The notice and the lockdown in force now (null: none). */
  current(): Promise<{ notice: RoomNotice | null; lockdown: Lockdown | null }>;
  /** Sets the notice (a new version). */
  setNotice(text: string): Promise<RoomNotice>;
  /** Clears the notice; false when there was none. */
  clearNotice(): Promise<boolean>;
  /** Switches the lockdown on, or changes it. */
  setLockdown(input: LockdownInput): Promise<Lockdown>;
  /** Lifts the lockdown; false when there was none. */
  clearLockdown(): Promise<boolean>;
  /**
   * Whether claim `nameId` was made after `since` (a lockdown's `newer`
   * scope); true when the claim is gone (it counts as unclaimed).
   */
  claimedAfter(nameId: number, since: string): Promise<boolean>;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) =>
  `to_char(${column} at time zone 'UTC', ${ISO}) as ${column}`;
const NOTICE_COLUMNS = `text, version, ${iso("set_at")}`;
const LOCKDOWN_COLUMNS = `scope, ${iso("since")}, reason, ${iso("set_at")}`;

type NoticeRow = { text: string; version: number | string; set_at: string };
type LockdownRow = {
  scope: "all" | "newer";
  since: string | null;
  reason: string | null;
  set_at: string;
};

const toNotice = (row: NoticeRow): RoomNotice => ({
  text: row.text,
  version: Number(row.version),
  setAt: row.set_at,
});
const toLockdown = (row: LockdownRow): Lockdown => ({
  scope: row.scope,
  since: row.since,
  reason: row.reason,
  setAt: row.set_at,
});

/** Creates the room store over `db`. */
export function createRoomStore(db: Database): RoomStore {
  return {
    current: () =>
      guard(async () => {
        const [notice] = await db.query<NoticeRow>(
          `select ${NOTICE_COLUMNS} from room_notice`,
        );
        const [lockdown] = await db.query<LockdownRow>(
          `select ${LOCKDOWN_COLUMNS} from lockdown`,
        );
        return {
          notice: notice === undefined ? null : toNotice(notice),
          lockdown: lockdown === undefined ? null : toLockdown(lockdown),
        };
      }),
    setNotice: (text) =>
      guard(async () => {
        const [row] = await db.query<NoticeRow>(
          `insert into room_notice (room, text) values (true, $1)
           on conflict (room) do update set text = excluded.text,
             version = nextval('room_notice_version'), set_at = now()
           returning ${NOTICE_COLUMNS}`,
          [text],
        );
        return toNotice(row);
      }),
    clearNotice: () =>
      guard(async () =>
        (await db.query("delete from room_notice returning room")).length > 0
      ),
    setLockdown: (input) =>
      guard(async () => {
        const [row] = await db.query<LockdownRow>(
          `insert into lockdown (room, scope, since, reason)
           values (true, $1, $2::timestamptz, $3)
           on conflict (room) do update set scope = excluded.scope,
             since = excluded.since, reason = excluded.reason, set_at = now()
           returning ${LOCKDOWN_COLUMNS}`,
          [input.scope, input.since, input.reason],
        );
        return toLockdown(row);
      }),
    clearLockdown: () =>
      guard(async () =>
        (await db.query("delete from lockdown returning room")).length > 0
      ),
    claimedAfter: (nameId, since) =>
      guard(async () => {
        const [row] = await db.query<{ after: boolean }>(
          `select claimed_at > $2::timestamptz as after from names
           where id = $1`,
          [nameId, since],
        );
        return row === undefined || row.after;
      }),
  };
}
