import type { Database } from "./database.ts";
import { createPgliteDatabase } from "./pglite_database.ts";
import { createPostgresDatabase } from "./postgres_database.ts";

/** Where the database is: Plaza's Config has these fields. */
export interface DatabaseLocation {
  /** An external Postgres; null for the embedded one. */
  databaseUrl: string | null;
  /** Where the embedded database keeps its files. */
  dataDir: string;
}

/** The configured database: Postgres at DATABASE_URL, else the embedded one in DATA_DIR. */
export async function openDatabase(
  config: DatabaseLocation,
): Promise<Database> {
  if (config.databaseUrl !== null) {
    return createPostgresDatabase(config.databaseUrl);
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await createPgliteDatabase(config.dataDir);
}
