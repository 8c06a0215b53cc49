/**
 * The room as export records: every column of a message, its reactions, its
 * link preview and what it says of its pictures (not their bytes), read in pages from a keyset cursor on (created_at, id)
 * so an export of any size holds one page at a time. room_import.ts writes
 * the same records back.
 */
import type { Queryable } from "../../db/database.ts";
import { guard } from "./db_errors.ts";

/** Messages per page (one query, one chunk of the response). */
export const EXPORT_PAGE = 1_000;
/** The `format` of an export file's first line. */
export const EXPORT_FORMAT = "plaza-export";
/** Version of the record shape below; an import refuses any other. */
export const EXPORT_VERSION = 1;

/** A reaction as stored. */
export interface ExportReaction {
  nameId: number;
  name: string;
  emoji: string;
  createdAt: string;
}

/** A message's link preview as stored. */
export interface ExportPreview {
  url: string;
  status: string;
  title: string | null;
  description: string | null;
  image: string | null;
  site: string | null;
  claimedAt: string;
}

/** A picture as a message names it; its bytes are not in an export (see docs/operating.md, "Backup and restore"). */
export interface ExportAttachment {
  id: string;
  width: number;
  height: number;
  type: string;
  alt: string;
}

/** One message with everything stored about it; times are ISO 8601 with microseconds (UTC). */
export interface ExportRecord {
  id: number;
  author: string;
  text: string;
  createdAt: string;
  clientId: string | null;
  nameId: number | null;
  editedAt: string | null;
  replyTo: number | null;
  reactions: ExportReaction[];
  preview: ExportPreview | null;
  /** Its pictures ([] for none); absent in exports made before pictures. */
  attachments: ExportAttachment[];
  /** Posted under a name registered as a bot; absent in exports made before bots. */
  bot: boolean;
}

/** The first line of an NDJSON export. */
export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: number;
  /** The range asked for (null: unbounded). */
  from: string | null;
  to: string | null;
  /** The room's last change number when the export began: an import continues numbering after it. */
  lastSeq: number;
  exportedAt: string;
}

/** Where the next page starts: after the message created at `at` (ISO 8601, microseconds) with id `id`. */
export interface ExportCursor {
  at: string;
  id: number;
}

/** A page of records as JSON lines (ExportRecord each), and the cursor after it (null: no more). */
export interface ExportPage {
  lines: string[];
  next: ExportCursor | null;
}

const TIME = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const iso = (column: string) =>
  `to_char(${column} at time zone 'UTC', ${TIME})`;

// The JSON is built by the database and passed on as text: no parse and
// stringify per message on the way out.
const PAGE = `
select json_build_object(
    'id', m.id,
    'author', m.author,
    'text', m.text,
    'createdAt', ${iso("m.created_at")},
    'clientId', m.client_id,
    'nameId', m.name_id,
    'editedAt', ${iso("m.edited_at")},
    'replyTo', m.reply_to,
    'reactions', coalesce((
      select json_agg(json_build_object(
          'nameId', r.name_id, 'name', r.name, 'emoji', r.emoji,
          'createdAt', ${iso("r.created_at")})
        order by r.created_at, r.name_id, r.emoji)
      from reactions r where r.message_id = m.id), '[]'::json),
    'preview', (
      select json_build_object(
          'url', p.url, 'status', p.status, 'title', p.title,
          'description', p.description, 'image', p.image_url,
          'site', p.site_name, 'claimedAt', ${iso("p.claimed_at")})
      from message_previews p where p.message_id = m.id),
    'attachments', coalesce(m.attachments::json, '[]'::json),
    'bot', m.bot
  )::text as line,
  ${iso("m.created_at")} as at, m.id
from messages m
where ($1::timestamptz is null or m.created_at >= $1)
  and ($2::timestamptz is null or m.created_at < $2)
  and ($3::timestamptz is null or (m.created_at, m.id) > ($3::timestamptz, $4::bigint))
order by m.created_at, m.id
limit $5`;

/** The range and where to start; `from` inclusive, `to` exclusive, both ISO 8601 or null. */
export interface ExportRange {
  from: string | null;
  to: string | null;
}

/** Reads the page of `range` after `cursor` (null: from the start); throws DatabaseUnavailableError. */
export async function exportPage(
  db: Queryable,
  range: ExportRange,
  cursor: ExportCursor | null,
  limit = EXPORT_PAGE,
): Promise<ExportPage> {
  const rows = await guard(() =>
    db.query<{ line: string; at: string; id: number | string }>(PAGE, [
      range.from,
      range.to,
      cursor?.at ?? null,
      cursor?.id ?? null,
      limit,
    ])
  );
  const lines = rows.map((r) => r.line);
  const last = rows.at(-1);
  return {
    lines,
    next: rows.length < limit || last === undefined
      ? null
      : { at: last.at, id: Number(last.id) },
  };
}

/** The header line for an export of `range` beginning now. */
export async function exportHeader(
  db: Queryable,
  range: ExportRange,
): Promise<ExportHeader> {
  const [row] = await guard(() =>
    db.query<{ s: number | string }>(
      `select greatest((select max(id) from messages),
         (select max(seq) from changes), 0) as s`,
    )
  );
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    from: range.from,
    to: range.to,
    lastSeq: Number(row.s),
    exportedAt: new Date().toISOString(),
  };
}
