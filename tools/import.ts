/**
 * `deno task import <file.ndjson>` (or `-` for standard input): restores an
 * NDJSON export (GET /export, `deno task export`) into the database the
 * environment names (DATABASE_URL, else the embedded one in DATA_DIR), which
 * must be empty: migrated first if new, then filled with the same ids in one
 * transaction. Run it before starting the instances on that database.
 */
import { ConfigError, loadConfig } from "../server/config.ts";
import { migrate, readMigrations } from "../db/migrate.ts";
import { openDatabase } from "../db/open_database.ts";
import {
  importExport,
  ImportRefusedError,
  linesOf,
} from "../server/store/room_import.ts";

const USAGE =
  "usage: [DATABASE_URL=postgres://…] deno task import <export.ndjson | ->";

/** Runs the import of `args[0]`; returns the process exit code. */
export async function runImport(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  if (args.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Cannot import: ${error.message}`);
    return 1;
  }
  let file: Deno.FsFile | null = null;
  try {
    if (args[0] !== "-") file = await Deno.open(args[0]);
  } catch (error) {
    console.error(
      `Cannot import: cannot read ${args[0]} (${
        error instanceof Error ? error.message : String(error)
      }).`,
    );
    return 1;
  }
  const db = await openDatabase(config);
  try {
    await migrate(db, await readMigrations());
    const input = file?.readable ?? Deno.stdin.readable;
    const done = await importExport(db, linesOf(input));
    console.log(
      `Imported ${done.messages} messages, ${done.reactions} reactions and ${done.previews} link previews; new messages continue after them.`,
    );
    return 0;
  } catch (error) {
    console.error(
      error instanceof ImportRefusedError
        ? `Cannot import: ${error.message}`
        : `Cannot import: ${
          error instanceof Error ? error.message : String(error)
        }. Check that the database is running and DATABASE_URL is right.`,
    );
    return 1;
  } finally {
    try {
      file?.close();
    } catch {
      // Closed already, by reading it to the end.
    }
    await db.close().catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await runImport(Deno.args, Deno.env.toObject()));
}
