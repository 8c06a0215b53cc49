import type { Database } from "./database.ts";

/** One SQL file from db/migrations, named `NNN_description.sql`. */
export interface Migration {
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);

// Any constant shared by every Plaza instance; it only has to differ from the
// lock the message trigger takes.
const MIGRATION_LOCK = 7461627;

/** Reads db/migrations/*.sql in name order. */
export async function readMigrations(
  dir: URL = MIGRATIONS_DIR,
): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^\d+_.+\.sql$/.test(entry.name)) {
      migrations.push({
        name: entry.name,
        sql: await Deno.readTextFile(new URL(entry.name, dir)),
      });
    }
  }
  return migrations.sort((a, b) => a.name.localeCompare(b.name));
}

/** Applies the migrations not yet recorded, in one transaction under an advisory lock; returns their names. */
export async function migrate(
  db: Database,
  migrations: Migration[],
): Promise<string[]> {
  // One transaction: two instances starting together serialise on the lock,
  // and a failing migration leaves nothing half-applied.
  return await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(
      `create table if not exists schema_migrations (
         name text primary key,
         applied_at timestamptz not null default now()
       )`,
    );
    const done = new Set(
      (await tx.query<{ name: string }>("select name from schema_migrations"))
        .map((r) => r.name),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await tx.exec(m.sql);
      await tx.query("insert into schema_migrations (name) values ($1)", [
        m.name,
      ]);
      applied.push(m.name);
    }
    return applied;
  });
}
