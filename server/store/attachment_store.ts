/**
 * Where pictures live. Postgres by default (db/migrations/016): every
 * instance, and Deno Deploy, which has no shared disk, sees the same bytes.
 * Blobs are content-addressed (SHA-256 of the stored bytes). The interface
 * is all the routes use, so an object store can take the bytes later.
 */
import type { Database } from "../../db/database.ts";
import type { AttachmentType } from "../../protocol/attachments.ts";
import { guard } from "./db_errors.ts";

// Taken (with try) by the sweep, so that one instance at a time does it.
const SWEEP_LOCK = 7461630;

/** A checked, re-encoded picture and who uploaded it. */
export interface NewAttachment {
  id: string;
  type: AttachmentType;
  width: number;
  height: number;
  bytes: Uint8Array<ArrayBuffer>;
  thumb: Uint8Array<ArrayBuffer> | null;
  thumbType: AttachmentType | null;
  /** The uploader's name key (protocol/names.ts) and claim id (null: unclaimed). */
  nameKey: string;
  nameId: number | null;
  address: string;
}

/** What GET /attachments/<id> serves. */
export type StoredPicture =
  | { found: "ok"; type: AttachmentType; bytes: Uint8Array; etag: string }
  | { found: "gone" }
  | { found: "missing" };

/** An upload as POST /messages checks it. */
export interface UploadOwner {
  nameKey: string;
  nameId: number | null;
  used: boolean;
  deleted: boolean;
}

/** Reads and writes pictures; every method may throw DatabaseUnavailableError. */
export interface AttachmentStore {
  /**
   * Stores a picture (its blob once, whoever uploads it again) and its
   * upload row. "full" when a new blob would take the stored total past
   * `cap` bytes (null: no cap).
   */
  save(
    picture: NewAttachment,
    sha256: string,
    cap: number | null,
  ): Promise<"stored" | "full">;
  /** The picture or its thumbnail. */
  read(id: string, thumb: boolean): Promise<StoredPicture>;
  /** Who uploaded each of `ids` (missing ids are absent from the map). */
  owners(ids: readonly string[]): Promise<Map<string, UploadOwner>>;
  /** Removes uploads no message took within `maxAgeMs`, and their bytes; how many went. */
  sweepUnused(maxAgeMs: number): Promise<number>;
  /** Bytes stored (pictures and thumbnails). */
  storedBytes(): Promise<number>;
}

/** The SHA-256 of `bytes`, lowercase hex. */
export async function sha256Hex(
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** An AttachmentStore over the database. */
export function createAttachmentStore(db: Database): AttachmentStore {
  const insertUpload = (p: NewAttachment, sha256: string) =>
    db.query(
      `insert into attachments (id, blob, name_key, name_id, address)
       values ($1, $2, $3, $4, $5)`,
      [p.id, sha256, p.nameKey, p.nameId, p.address],
    );
  // The cap is read and the row written in one statement; uploads in
  // flight on other instances at that moment may still pass it together
  // (by at most their own sizes). A null cap stores whatever the total.
  const insertBlob = (
    p: NewAttachment,
    sha256: string,
    stored: number,
    cap: number | null,
  ) =>
    db.query(
      `insert into attachment_blobs
         (sha256, type, width, height, data, thumb, thumb_type, stored_bytes)
       select $1::text, $2::text, $3::int, $4::int, $5::bytea, $6::bytea,
         $7::text, $8::bigint
       where $9::bigint is null
         or (select coalesce(sum(stored_bytes), 0) from attachment_blobs)
           + $8::bigint <= $9::bigint
       on conflict (sha256) do nothing
       returning sha256`,
      [
        sha256,
        p.type,
        p.width,
        p.height,
        p.bytes,
        p.thumb,
        p.thumbType,
        stored,
        cap,
      ],
    );
  return {
    save: (p, sha256, cap) =>
      guard(async () => {
        const stored = p.bytes.length + (p.thumb?.length ?? 0);
        const inserted = await insertBlob(p, sha256, stored, cap);
        if (inserted.length === 0) {
          const [known] = await db.query(
            "select 1 from attachment_blobs where sha256 = $1",
            [sha256],
          );
          if (known === undefined) return "full";
        }
        try {
          await insertUpload(p, sha256);
        } catch (error) {
          // The blob was removed between the two statements (its last
          // message deleted): store it again, once, past the cap (it was
          // within it a moment ago).
          if ((error as { code?: unknown }).code !== "23503") throw error;
          await insertBlob(p, sha256, stored, null);
          await insertUpload(p, sha256);
        }
        return "stored";
      }),
    read: (id, thumb) =>
      guard(async () => {
        const [row] = await db.query<{
          deleted: boolean;
          sha256: string | null;
          type: AttachmentType | null;
          data: Uint8Array | null;
        }>(
          `select a.deleted_at is not null as deleted, b.sha256,
             case when $2 then coalesce(b.thumb_type, b.type) else b.type end as type,
             case when $2 then coalesce(b.thumb, b.data) else b.data end as data
           from attachments a left join attachment_blobs b on b.sha256 = a.blob
           where a.id = $1`,
          [id, thumb],
        );
        if (row === undefined) return { found: "missing" };
        if (row.deleted || row.data === null || row.type === null) {
          return { found: "gone" };
        }
        return {
          found: "ok",
          type: row.type,
          bytes: row.data,
          etag: `"${row.sha256!.slice(0, 32)}${thumb ? "-t" : ""}"`,
        };
      }),
    owners: (ids) =>
      guard(async () => {
        const rows = await db.query<{
          id: string;
          name_key: string;
          name_id: string | number | null;
          message_id: string | number | null;
          deleted: boolean;
        }>(
          `select id, name_key, name_id, message_id,
             deleted_at is not null as deleted
           from attachments where id = any($1::text[])`,
          [ids],
        );
        return new Map(rows.map((r) => [r.id, {
          nameKey: r.name_key,
          nameId: r.name_id === null ? null : Number(r.name_id),
          used: r.message_id !== null,
          deleted: r.deleted,
        }]));
      }),
    sweepUnused: (maxAgeMs) =>
      guard(async () => {
        const gone = await db.query<{ blob: string }>(
          `delete from attachments a
           where pg_try_advisory_xact_lock(${SWEEP_LOCK})
             and a.message_id is null and a.blob is not null
             and a.created_at < now() - $1 * interval '1 millisecond'
           returning a.blob`,
          [maxAgeMs],
        );
        if (gone.length === 0) return 0;
        await db.query(
          `delete from attachment_blobs b
           where b.sha256 = any($1::text[])
             and not exists (select 1 from attachments a where a.blob = b.sha256)`,
          [[...new Set(gone.map((r) => r.blob))]],
        );
        return gone.length;
      }),
    storedBytes: () =>
      guard(async () => {
        const [row] = await db.query<{ n: string | number }>(
          "select coalesce(sum(stored_bytes), 0) as n from attachment_blobs",
        );
        return Number(row.n);
      }),
  };
}
