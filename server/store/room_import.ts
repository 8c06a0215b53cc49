/**
 * Restores an NDJSON export (room_export.ts) into an empty Plaza with the
 * same ids: backup and restore. All of it in one transaction, so a refused
 * line leaves the room as empty as it was. The rows go in as they were
 * stored, so the triggers that number, log and announce new rows are off
 * for the transaction (the tables are locked meanwhile: no one sees them
 * off); afterwards the id sequence continues after the export's last
 * number and claims made from now on get ids no imported message carries.
 */
import type { Database, Queryable } from "../../db/database.ts";
import { MAX_ATTACHMENTS } from "../../protocol/limits.ts";
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportHeader,
  type ExportRecord,
} from "./room_export.ts";

/** Records per INSERT. */
export const IMPORT_BATCH = 1_000;

/** The file or the room is not fit for an import; the message says why and what to do. */
export class ImportRefusedError extends Error {
  override name = "ImportRefusedError";
}

/** What an import stored. */
export interface Imported {
  messages: number;
  reactions: number;
  previews: number;
}

const TABLES = ["messages", "reactions", "message_previews"];

/** Splits a byte stream into lines (without their "\n"). */
export async function* linesOf(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = parts.pop() ?? "";
    yield* parts;
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === "string";
const orNull = (ok: (v: unknown) => boolean) => (v: unknown) =>
  v === null || ok(v);

/** The record on a line, or why it is not one. */
function parseRecord(line: string): ExportRecord | string {
  let r: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return "not a JSON object";
    }
    r = value as Record<string, unknown>;
  } catch {
    return "not JSON";
  }
  const fields: [string, (v: unknown) => boolean][] = [
    ["id", (v) => isInt(v) && (v as number) > 0],
    ["author", isText],
    ["text", isText],
    ["createdAt", isText],
    ["clientId", orNull(isText)],
    ["nameId", orNull(isInt)],
    ["editedAt", orNull(isText)],
    ["replyTo", orNull(isInt)],
    ["reactions", Array.isArray],
    [
      "preview",
      (v) => v === null || (typeof v === "object" && !Array.isArray(v)),
    ],
  ];
  for (const [key, ok] of fields) {
    if (!ok(r[key])) return `"${key}" is missing or of the wrong type`;
  }
  // Newer than the first exports: absent means none, and not a bot.
  r.attachments ??= [];
  r.bot ??= false;
  if (typeof r.bot !== "boolean") return `"bot" is not true or false`;
  if (
    !Array.isArray(r.attachments) || r.attachments.length > MAX_ATTACHMENTS ||
    !r.attachments.every((a: unknown) => {
      const x = a as Record<string, unknown> | null;
      return typeof x === "object" && x !== null && isText(x.id) &&
        isInt(x.width) && isInt(x.height) && isText(x.type) &&
        typeof x.alt === "string";
    })
  ) {
    return `"attachments" is not a list of at most ${MAX_ATTACHMENTS} {id, width, height, type, alt}`;
  }
  for (const reaction of r.reactions as unknown[]) {
    const x = reaction as Record<string, unknown> | null;
    if (
      typeof x !== "object" || x === null || !isInt(x.nameId) ||
      !isText(x.name) || !isText(x.emoji) || !isText(x.createdAt)
    ) {
      return "a reaction is not {nameId, name, emoji, createdAt}";
    }
  }
  const p = r.preview as Record<string, unknown> | null;
  if (
    p !== null &&
    (!isText(p.url) || !isText(p.status) || !isText(p.claimedAt) ||
      !["title", "description", "image", "site"].every((k) =>
        p[k] === null || isText(p[k])
      ))
  ) {
    return "the preview is not {url, status, title, description, image, site, claimedAt}";
  }
  return r as unknown as ExportRecord;
}

function parseHeader(line: string | undefined): ExportHeader {
  let header: Partial<ExportHeader> | null = null;
  try {
    header = line === undefined ? null : JSON.parse(line);
  } catch {
    // Reported below.
  }
  if (
    typeof header !== "object" || header === null ||
    header.format !== EXPORT_FORMAT
  ) {
    throw new ImportRefusedError(
      `This is not a Plaza NDJSON export: its first line must be {"format":"${EXPORT_FORMAT}",…} (make one with \`deno task export\` or GET /export?format=ndjson).`,
    );
  }
  if (header.version !== EXPORT_VERSION || !isInt(header.lastSeq)) {
    throw new ImportRefusedError(
      `This export is version ${header.version}; this Plaza imports version ${EXPORT_VERSION} only.`,
    );
  }
  return header as ExportHeader;
}

async function insertBatch(tx: Queryable, batch: ExportRecord[]) {
  await tx.query(
    `insert into messages
       (id, author, text, created_at, client_id, name_id, edited_at, reply_to,
        attachments, bot)
     select r.id, r.author, r.text, r."createdAt", r."clientId", r."nameId",
       r."editedAt", r."replyTo",
       case when jsonb_array_length(r.attachments) > 0 then r.attachments end,
       r.bot
     from json_to_recordset($1::text::json) as r(id bigint, author text, text text,
       "createdAt" timestamptz, "clientId" uuid, "nameId" bigint,
       "editedAt" timestamptz, "replyTo" bigint, attachments jsonb, bot boolean)`,
    [JSON.stringify(batch)],
  );
  const reactions = batch.flatMap((m) =>
    m.reactions.map((r) => ({ ...r, messageId: m.id }))
  );
  if (reactions.length > 0) {
    await tx.query(
      `insert into reactions (message_id, name_id, name, emoji, created_at)
       select r."messageId", r."nameId", r.name, r.emoji, r."createdAt"
       from json_to_recordset($1::text::json) as r("messageId" bigint,
         "nameId" bigint, name text, emoji text, "createdAt" timestamptz)`,
      [JSON.stringify(reactions)],
    );
  }
  const previews = batch.flatMap((m) =>
    m.preview === null ? [] : [{ ...m.preview, messageId: m.id }]
  );
  if (previews.length > 0) {
    await tx.query(
      `insert into message_previews (message_id, url, status, title,
         description, image_url, site_name, claimed_at)
       select r."messageId", r.url, r.status, r.title, r.description,
         r.image, r.site, r."claimedAt"
       from json_to_recordset($1::text::json) as r("messageId" bigint, url text,
         status text, title text, description text, image text, site text,
         "claimedAt" timestamptz)`,
      [JSON.stringify(previews)],
    );
  }
  return { reactions: reactions.length, previews: previews.length };
}

/** Imports the export read from `lines` into `db`, which must hold no messages, changes or claimed names. */
export function importExport(
  db: Database,
  lines: AsyncIterable<string>,
  batchSize = IMPORT_BATCH,
): Promise<Imported> {
  return db.transaction(async (tx) => {
    await tx.query(
      `lock table ${TABLES.join(", ")}, changes, names
       in access exclusive mode`,
    );
    const [room] = await tx.query<
      { messages: number; changes: number; names: number }
    >(
      `select (select count(*) from messages)::int as messages,
         (select count(*) from changes)::int as changes,
         (select count(*) from names)::int as names`,
    );
    if (room.messages + room.changes + room.names > 0) {
      throw new ImportRefusedError(
        `This Plaza is not empty (${room.messages} messages, ${room.changes} logged changes, ${room.names} claimed names): an import restores into an empty one only. Point DATABASE_URL (or DATA_DIR) at a new database, run \`deno task migrate\`, and import there.`,
      );
    }
    for (const table of TABLES) {
      await tx.query(`alter table ${table} disable trigger user`);
    }
    const iterator = lines[Symbol.asyncIterator]();
    try {
      const header = parseHeader((await iterator.next()).value);
      const imported: Imported = { messages: 0, reactions: 0, previews: 0 };
      let maxId = 0;
      let maxNameId = 0;
      let batch: ExportRecord[] = [];
      let lineNo = 1;
      let batchStart = 2;
      const flush = async () => {
        if (batch.length === 0) return;
        try {
          const more = await insertBatch(tx, batch);
          imported.reactions += more.reactions;
          imported.previews += more.previews;
        } catch (error) {
          throw new ImportRefusedError(
            `Lines ${batchStart}–${lineNo} were refused by the database: ${
              error instanceof Error ? error.message : String(error)
            }. Nothing was imported.`,
            { cause: error },
          );
        }
        imported.messages += batch.length;
        batch = [];
        batchStart = lineNo + 1;
      };
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        lineNo++;
        if (next.value.trim() === "") continue;
        const record = parseRecord(next.value);
        if (typeof record === "string") {
          throw new ImportRefusedError(
            `Line ${lineNo} is not a message record: ${record}. Nothing was imported.`,
          );
        }
        maxId = Math.max(maxId, record.id);
        for (
          const id of [
            record.nameId,
            ...record.reactions.map((r) => r.nameId),
          ]
        ) {
          if (id !== null) maxNameId = Math.max(maxNameId, id);
        }
        batch.push(record);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      for (const table of TABLES) {
        await tx.query(`alter table ${table} enable trigger user`);
      }
      const last = Math.max(maxId, header.lastSeq);
      if (last > 0) {
        await tx.query("select setval('messages_id_seq', $1)", [last]);
      }
      if (maxNameId > 0) {
        await tx.query(
          "select setval(pg_get_serial_sequence('names', 'id'), $1)",
          [maxNameId],
        );
      }
      return imported;
    } finally {
      // Refused halfway: the source is closed all the same.
      await iterator.return?.();
    }
  });
}
