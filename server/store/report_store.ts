import type { Database } from "../../db/database.ts";
import { guard, MissingReferenceError } from "./db_errors.ts";
import { nameKey } from "../../protocol/names.ts";

/** Most open reports GET /moderation/reports lists (the newest). */
export const MAX_LISTED_REPORTS = 200;

/** A report as the API shows it. */
export interface Report {
  id: number;
  messageId: number;
  /** What the reader wrote; null when they wrote nothing. */
  reason: string | null;
  /** The name the reader gave (unverified); null when none. */
  reporterName: string | null;
  /** The client address the report came from. */
  reporterAddress: string;
  createdAt: string;
}

/** An open report with its message as it is now, for moderators. */
export interface OpenReport extends Report {
  message: { author: string; text: string };
  /** Open reports of the same message (from different addresses). */
  reportsOfMessage: number;
}

/** A report to add. */
export interface NewReport {
  messageId: number;
  reason: string | null;
  reporterName: string | null;
  reporterAddress: string;
}

/** The reports table (db/migrations/009_reports.sql). */
export interface ReportStore {
  /**
   * Adds a report; when this address already has one open on the message,
   * that one comes back with created false. Null: there is no such message.
   */
  add(report: NewReport): Promise<{ report: Report; created: boolean } | null>;
  /** Open reports, newest first, at most MAX_LISTED_REPORTS. */
  open(): Promise<OpenReport[]>;
  /** Closes an open report as dismissed; false when there is no open one with that id. */
  dismiss(id: number): Promise<boolean>;
}

type ReportRow = {
  id: number | string;
  message_id: number | string;
  reason: string | null;
  reporter_name: string | null;
  reporter_address: string;
  created_at: string;
};

const COLUMNS = `r.id, r.message_id, r.reason, r.reporter_name,
  r.reporter_address,
  to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;

function toReport(row: ReportRow): Report {
  return {
    id: Number(row.id),
    messageId: Number(row.message_id),
    reason: row.reason,
    reporterName: row.reporter_name,
    reporterAddress: row.reporter_address,
    createdAt: row.created_at,
  };
}

/** Creates the report store over `db`. */
export function createReportStore(db: Database): ReportStore {
  const openOne = async (messageId: number, address: string) => {
    const [row] = await guard(() =>
      db.query<ReportRow>(
        `select ${COLUMNS} from reports r
         where r.message_id = $1 and r.reporter_address = $2
           and r.resolved_at is null`,
        [messageId, address],
      )
    );
    return row === undefined ? null : toReport(row);
  };
  return {
    async add(report) {
      let rows: ReportRow[];
      try {
        // From the messages row, so a missing message inserts nothing; the
        // foreign key catches one deleted between the two.
        rows = await guard(() =>
          db.query<ReportRow>(
            `insert into reports as r
               (message_id, reason, reporter_name, reporter_key,
                reporter_address)
             select m.id, $2, $3, $4, $5 from messages m where m.id = $1
             on conflict (message_id, reporter_address)
               where resolved_at is null do nothing
             returning ${COLUMNS}`,
            [
              report.messageId,
              report.reason,
              report.reporterName,
              report.reporterName === null
                ? null
                : nameKey(report.reporterName),
              report.reporterAddress,
            ],
          )
        );
      } catch (error) {
        if (error instanceof MissingReferenceError) return null;
        throw error;
      }
      if (rows.length > 0) return { report: toReport(rows[0]), created: true };
      // Either no such message or a report already open from this address.
      const existing = await openOne(report.messageId, report.reporterAddress);
      return existing === null ? null : { report: existing, created: false };
    },
    async open() {
      const rows = await guard(() =>
        db.query<
          ReportRow & { author: string; text: string; per_message: number }
        >(
          `select ${COLUMNS}, m.author, m.text,
             count(*) over (partition by r.message_id) as per_message
           from reports r join messages m on m.id = r.message_id
           where r.resolved_at is null
           order by r.id desc
           limit $1`,
          [MAX_LISTED_REPORTS],
        )
      );
      return rows.map((row) => ({
        ...toReport(row),
        message: { author: row.author, text: row.text },
        reportsOfMessage: Number(row.per_message),
      }));
    },
    async dismiss(id) {
      const rows = await guard(() =>
        db.query(
          `update reports set resolved_at = now(), resolution = 'dismissed'
           where id = $1 and resolved_at is null returning id`,
          [id],
        )
      );
      return rows.length > 0;
    },
  };
}
