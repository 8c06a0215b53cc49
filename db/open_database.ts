import type { Database } from "./database.ts";
import {
  createPostgresDatabase,
  type PostgresTls,
} from "./postgres_database.ts";

/** Where the database is: Plaza's Config has these fields. */
export interface DatabaseLocation {
  /** An external Postgres; null for the embedded one. */
  databaseUrl: string | null;
  /** TLS towards it; null or absent = none. */
  databaseTls?: PostgresTls | null;
  /** Query connections at most; LISTEN takes one more. */
  databasePoolMax?: number;
  /** Where the embedded database keeps its files. */
  dataDir: string;
}

/** The configured database: Postgres at DATABASE_URL, else the embedded one in DATA_DIR. */
export async function openDatabase(
  config: DatabaseLocation,
): Promise<Database> {
  if (config.databaseUrl !== null) {
    return createPostgresDatabase(config.databaseUrl, {
      tls: config.databaseTls,
      max: config.databasePoolMax,
    });
  }
  // Imported only here: PGlite is megabytes of JavaScript and WASM that a
  // Postgres deployment never runs, and Deno Deploy starts an instance per
  // cold request (denoland/docs deploy/reference/runtime.md, "Cold starts":
  // load rarely used dependencies lazily with dynamic import()).
  const { createPgliteDatabase } = await import("./pglite_database.ts");
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await createPgliteDatabase(config.dataDir);
}
