/**
 * `deno task migrate`: applies db/migrations to the configured database and
 * exits, for deployments that migrate as a separate step. Instances also
 * migrate at start-up; both are safe to run together (advisory lock).
 */
import { ConfigError, loadConfig } from "./config.ts";
import { migrate, readMigrations } from "../db/migrate.ts";
import { openDatabase } from "../db/open_database.ts";

/** Runs the migrations; returns the process exit code. */
export async function runMigrateCommand(
  env: Record<string, string | undefined>,
): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Cannot migrate: ${error.message}`);
    return 1;
  }
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db, await readMigrations());
    console.log(
      applied.length === 0
        ? "Database is up to date."
        : `Applied ${applied.join(", ")}.`,
    );
    return 0;
  } catch (error) {
    console.error(
      `Cannot migrate: ${
        error instanceof Error ? error.message : String(error)
      }. Check that the database is running and DATABASE_URL is right.`,
    );
    return 1;
  } finally {
    await db.close().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await runMigrateCommand(Deno.env.toObject()));
