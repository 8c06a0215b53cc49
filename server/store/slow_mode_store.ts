import type { Database } from "../../db/database.ts";
import type { SlowMode } from "../../protocol/events.ts";
import { guard } from "./db_errors.ts";

/** Slow mode as the moderation API shows it: the event's fields and when it was set. */
export interface SlowModeSetting extends SlowMode {
  setAt: string;
}

/** When the automatic switch turns slow mode on, and what it sets. */
export interface AutoSlowModeRule {
  /** Slow mode goes on when the room had at least this many new messages… */
  messages: number;
  /** …within this many seconds. */
  windowSeconds: number;
  /** One message per name per this many seconds while it is on. */
  seconds: number;
  /** It stays on this long after the traffic fell below the threshold. */
  holdSeconds: number;
}

/** The slow_mode table (db/migrations/008): one row at most, for the one room. */
export interface SlowModeStore {
  /** The setting in force now, or null when slow mode is off. */
  current(): Promise<SlowModeSetting | null>;
  /** A moderator's setting: one message per name per `seconds`, for `durationSeconds` (null: until cleared). */
  set(
    seconds: number,
    durationSeconds: number | null,
  ): Promise<SlowModeSetting>;
  /**
   * A moderator turns slow mode off. With `pauseSeconds` > 0 the off is kept
   * as a row for that long, so the automatic switch does not turn slow mode
   * straight back on under the same traffic.
   */
  clear(pauseSeconds: number): Promise<void>;
  /**
   * The automatic switch, decided for the room in one idempotent statement
   * that every instance may run: on (or kept on) while the newest
   * `rule.messages` messages all came within the window, held for
   * `rule.holdSeconds` once the traffic is lower, never over a moderator's
   * setting in force. Changes nothing (and notifies no one) when the row is
   * already as it should be.
   */
  autoCheck(rule: AutoSlowModeRule): Promise<void>;
}

type Row = {
  seconds: number;
  set_by: "moderator" | "auto";
  until: string | null;
  set_at: string;
};

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const COLUMNS = `seconds, set_by,
  to_char(until at time zone 'UTC', ${ISO}) as until,
  to_char(set_at at time zone 'UTC', ${ISO}) as set_at`;

function toSetting(row: Row): SlowModeSetting {
  return {
    seconds: Number(row.seconds),
    until: row.until,
    by: row.set_by,
    setAt: row.set_at,
  };
}

/** Creates the slow-mode store over `db`. */
export function createSlowModeStore(db: Database): SlowModeStore {
  return {
    async current() {
      const [row] = await guard(() =>
        db.query<Row>(
          `select ${COLUMNS} from slow_mode
           where seconds > 0 and (until is null or until > now())`,
        )
      );
      return row === undefined ? null : toSetting(row);
    },
    async set(seconds, durationSeconds) {
      const [row] = await guard(() =>
        db.query<Row>(
          `insert into slow_mode as s (room, seconds, set_by, until, set_at)
           values (true, $1, 'moderator',
                   now() + make_interval(secs => $2::float8), now())
           on conflict (room) do update set seconds = excluded.seconds,
             set_by = excluded.set_by, until = excluded.until,
             set_at = excluded.set_at
           returning ${COLUMNS}`,
          [seconds, durationSeconds],
        )
      );
      return toSetting(row);
    },
    async clear(pauseSeconds) {
      await guard(() =>
        pauseSeconds > 0
          ? db.query(
            `insert into slow_mode as s (room, seconds, set_by, until, set_at)
             values (true, 0, 'moderator',
                     now() + make_interval(secs => $1::float8), now())
             on conflict (room) do update set seconds = 0,
               set_by = excluded.set_by, until = excluded.until,
               set_at = excluded.set_at`,
            [pauseSeconds],
          )
          : db.query("delete from slow_mode")
      );
    },
    async autoCheck(rule) {
      // "Busy" reads the rule.messages newest rows by the primary key (ids
      // follow commit order) and looks at the oldest of them: no scan of
      // the table and no index on created_at. The update cools a hot auto
      // row; the upsert switches on (a missing or expired row) or re-heats
      // a cooling auto row. Neither touches a moderator's row in force.
      await guard(() =>
        db.query(
          `with busy as (
             select coalesce((
               select created_at > now() - make_interval(secs => $2::float8)
               from messages order by id desc offset $1::int - 1 limit 1
             ), false) as hot
           ), cooled as (
             update slow_mode
             set until = now() + make_interval(secs => $4::float8)
             where set_by = 'auto' and until is null
               and not (select hot from busy)
             returning 1
           )
           insert into slow_mode as s (room, seconds, set_by, until, set_at)
           select true, $3::int, 'auto', null, now() from busy where hot
           on conflict (room) do update set seconds = excluded.seconds,
             set_by = 'auto', until = null,
             set_at = case when s.set_by = 'auto' and s.until > now()
                           then s.set_at else now() end
           where s.until is not null
             and (s.until <= now() or s.set_by = 'auto')`,
          [rule.messages, rule.windowSeconds, rule.seconds, rule.holdSeconds],
        )
      );
    },
  };
}
