/**
 * "Erase everything I posted": a claim's messages and reactions leave
 * through the same paths as any other delete (so each is a change in the
 * log that live streams and resumes see), in batches, and the name is
 * released.
 */
import type { Database } from "../../db/database.ts";
import type { MessageStore } from "./message_store.ts";
import type { NameStore } from "./name_store.ts";
import { guard } from "./db_errors.ts";
import { RETENTION_BATCH } from "./retention.ts";

/** What an erasure removed. */
export interface Erased {
  messages: number;
  reactions: number;
}

/** Removes every message and reaction of claim `nameId`, then releases it; throws DatabaseUnavailableError. */
export async function eraseClaim(
  db: Database,
  store: Pick<MessageStore, "removeMany">,
  names: Pick<NameStore, "release">,
  nameId: number,
  batch = RETENTION_BATCH,
): Promise<Erased> {
  const erased: Erased = { messages: 0, reactions: 0 };
  const sweep = async () => {
    for (;;) {
      const rows = await guard(() =>
        db.query<{ id: number | string }>(
          "select id from messages where name_id = $1 order by id limit $2",
          [nameId, batch],
        )
      );
      if (rows.length > 0) {
        erased.messages += (await store.removeMany(rows.map((r) =>
          Number(r.id)
        ))).length;
      }
      if (rows.length < batch) break;
    }
    for (;;) {
      // Each removal is a `reaction` change of the message it was on.
      const gone = await guard(() =>
        db.query(
          `delete from reactions where ctid in (
             select ctid from reactions where name_id = $1 limit $2)
           returning 1`,
          [nameId, batch],
        )
      );
      erased.reactions += gone.length;
      if (gone.length < batch) break;
    }
  };
  // Erased while the token still works, so a failure can be retried; then
  // released, and swept again for a post that raced the release.
  await sweep();
  await names.release(nameId);
  await sweep();
  return erased;
}
