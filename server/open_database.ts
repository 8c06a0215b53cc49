import type { Config } from "./config.ts";
import type { Database } from "./database.ts";
import { createPgliteDatabase } from "./pglite_database.ts";
import { createPostgresDatabase } from "./postgres_database.ts";

/** The configured database: Postgres at DATABASE_URL, else the embedded one in DATA_DIR. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl !== null) {
    return createPostgresDatabase(config.databaseUrl);
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await createPgliteDatabase(config.dataDir);
}
