import { PGlite } from "@electric-sql/pglite";
import type {
  Database,
  ListenHandlers,
  ListenSession,
  Queryable,
} from "./database.ts";

function queryable(db: Pick<PGlite, "query" | "exec">): Queryable {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const result = await db.query<T>(text, params);
      return result.rows;
    },
    async exec(text: string): Promise<void> {
      await db.exec(text);
    },
  };
}

/** Opens the embedded Postgres (PGlite) kept in `dataDir`, or in memory when null. */
export async function createPgliteDatabase(
  dataDir: string | null,
): Promise<Database> {
  const db = dataDir === null ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  return {
    kind: "pglite",
    ...queryable(db),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(queryable(tx)));
    },
    async listen(
      channels: string[],
      handlers: ListenHandlers,
    ): Promise<ListenSession> {
      // In-process: the "connection" cannot drop, so onClose never fires.
      const unlisten = await Promise.all(
        channels.map((channel) =>
          db.listen(channel, (payload) => handlers.onNotify(channel, payload))
        ),
      );
      return {
        async ping() {
          await db.query("select 1");
        },
        async close() {
          await Promise.all(unlisten.map((u) => u()));
        },
      };
    },
    close: () => db.close(),
  };
}
