/**
 * The room's change log (db/migrations/005): new messages, edits, deletes,
 * reactions and link previews (013), numbered in one increasing sequence. The listener and the
 * streams read it here; each change comes with the state it concerns as it
 * is now, which is what makes a replay converge: the last event about a
 * message always carries its state as of that change or later.
 */
import type { Database } from "../../db/database.ts";
import type { LinkPreview, Message } from "../../protocol/message.ts";
import type { Reaction } from "../../protocol/reactions.ts";
import { guard } from "./db_errors.ts";

/**
 * One change, numbered `seq`. `gone` is a change about a message deleted
 * since: it sends nothing (the later `delete` does), but moves readers past
 * its number.
 */
export type Change =
  | { seq: number; kind: "message" | "edit"; message: Message }
  | { seq: number; kind: "delete"; id: number }
  | { seq: number; kind: "reaction"; id: number; reactions: Reaction[] }
  | { seq: number; kind: "preview"; id: number; preview: LinkPreview | null }
  | { seq: number; kind: "gone"; id: number };

/** The change that created `message` (its id is its number). */
export function messageChange(message: Message): Change {
  return { seq: message.id, kind: "message", message };
}

/** A NOTIFY payload: the change itself, or its number when it was too large to send (the listener reads it). */
export type ChangeNote = { change: Change } | { seq: number; id: number };

const KINDS = new Set(["message", "edit", "delete", "reaction", "preview"]);

/** Parses a payload of CHANGES_CHANNEL; null for anything that is not one (anyone may NOTIFY). */
export function parseChangeNote(payload: string): ChangeNote | null {
  let value: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(payload);
    if (typeof parsed !== "object" || parsed === null) return null;
    value = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const { seq, kind, id } = value;
  if (
    !Number.isSafeInteger(seq) || !Number.isSafeInteger(id) ||
    typeof kind !== "string" || !KINDS.has(kind)
  ) {
    return null;
  }
  const ref = { seq: seq as number, id: id as number };
  switch (kind) {
    case "message":
    case "edit": {
      const m = value.message as Partial<Message> | undefined;
      if (
        typeof m !== "object" || m === null || m.id !== ref.id ||
        typeof m.author !== "string" || typeof m.text !== "string" ||
        typeof m.createdAt !== "string"
      ) {
        return ref;
      }
      return { change: { seq: ref.seq, kind, message: m as Message } };
    }
    case "reaction":
      if (!Array.isArray(value.reactions)) return ref;
      return {
        change: {
          seq: ref.seq,
          kind,
          id: ref.id,
          reactions: value.reactions as Reaction[],
        },
      };
    case "preview": {
      const preview = value.preview;
      if (
        preview !== null &&
        (typeof preview !== "object" || Array.isArray(preview) ||
          typeof (preview as Partial<LinkPreview>).url !== "string")
      ) {
        return ref;
      }
      return {
        change: {
          seq: ref.seq,
          kind,
          id: ref.id,
          preview: preview as LinkPreview | null,
        },
      };
    }
    default:
      return { change: { seq: ref.seq, kind: "delete", id: ref.id } };
  }
}

/** Reads the change log; every method may throw DatabaseUnavailableError. */
export interface ChangeFeed {
  /** Changes numbered above `afterSeq`, ascending, at most `limit`, rendered from one snapshot. */
  after(afterSeq: number, limit: number): Promise<Change[]>;
  /** The change numbered `seq` (about message `id`), as things are now; `gone` when it left the log. */
  at(seq: number, id: number): Promise<Change>;
  /** The newest `limit` messages, oldest first, and the number of the last change they include. */
  latest(limit: number): Promise<{ messages: Message[]; lastSeq: number }>;
  /** The number of the last committed change, 0 for an empty room. */
  lastSeq(): Promise<number>;
}

type Row = {
  seq: number | string;
  kind: string;
  message_id: number | string;
  data: unknown;
};

// New messages come from their own table (a message's id is its number);
// the other changes from `changes`. Each side is cut to `limit` first so the
// merge stays small. One statement, one snapshot: the states rendered are
// those after exactly the changes the snapshot holds.
const AFTER = `
select c.seq, c.kind, c.message_id,
  case when m.id is null then null
       when c.kind = 'reaction' then reactions_json(m.id)
       -- Wrapped: a preview taken back is null, unlike a message gone.
       when c.kind = 'preview' then json_build_object('p', preview_json(m.id))
       else message_json(m) end as data
from (
  (select id as seq, 'message' as kind, id as message_id from messages
   where id > $1 order by id limit $2)
  union all
  (select seq, kind, message_id from changes
   where seq > $1 order by seq limit $2)
) c
left join messages m on m.id = c.message_id and c.kind <> 'delete'
order by c.seq
limit $2`;

const LAST_SEQ = `greatest(
  (select max(id) from messages), (select max(seq) from changes), 0)`;

function toChange(row: Row): Change {
  const seq = Number(row.seq);
  const id = Number(row.message_id);
  if (row.kind === "delete") return { seq, kind: "delete", id };
  if (row.data === null) return { seq, kind: "gone", id };
  if (row.kind === "reaction") {
    return { seq, kind: "reaction", id, reactions: row.data as Reaction[] };
  }
  if (row.kind === "preview") {
    const { p } = row.data as { p: LinkPreview | null };
    return { seq, kind: "preview", id, preview: p };
  }
  return {
    seq,
    kind: row.kind === "edit" ? "edit" : "message",
    message: row.data as Message,
  };
}

/** A ChangeFeed over `db`. */
export function createChangeFeed(db: Database): ChangeFeed {
  const after = (afterSeq: number, limit: number) =>
    guard(async () =>
      (await db.query<Row>(AFTER, [afterSeq, limit])).map(toChange)
    );
  return {
    after,
    async at(seq, id) {
      const [first] = await after(seq - 1, 1);
      return first?.seq === seq ? first : { seq, kind: "gone", id };
    },
    latest: (limit) =>
      guard(async () => {
        const [row] = await db.query<
          { messages: Message[]; last_seq: number | string }
        >(
          `select coalesce((select json_agg(p.m order by p.id) from (
             select id, message_json(messages) as m from messages
             order by id desc limit $1) p), '[]'::json) as messages,
           ${LAST_SEQ} as last_seq`,
          [limit],
        );
        return { messages: row.messages, lastSeq: Number(row.last_seq) };
      }),
    lastSeq: () =>
      guard(async () => {
        const [row] = await db.query<{ s: number | string }>(
          `select ${LAST_SEQ} as s`,
        );
        return Number(row.s);
      }),
  };
}
