import assert from "node:assert/strict";
import postgres from "postgres";
import {
  createTestDatabase,
  findPgBin,
  startPgCluster,
  testDatabaseUrl,
} from "./pg_cluster.ts";

// Fail fast while the server is down instead of retrying for 30 s.
const connect = (url: string) =>
  postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });

async function selectOne(url: string): Promise<number> {
  const sql = connect(url);
  try {
    const [row] = await sql<{ one: number }[]>`select 1 as one`;
    return row.one;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test("findPgBin finds initdb and psql", () => {
  assert.ok(findPgBin("initdb"), "initdb");
  assert.ok(findPgBin("psql"), "psql");
  assert.equal(findPgBin("no-such-postgres-binary"), null);
});

Deno.test("startPgCluster: serves, survives an outage, stop removes it", async () => {
  const cluster = await startPgCluster();
  try {
    assert.match(
      cluster.url,
      /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/,
    );
    assert.match(cluster.version, /^\d+$/);
    assert.equal(await selectOne(cluster.url), 1);

    await cluster.stopServer();
    await assert.rejects(selectOne(cluster.url));

    await cluster.startServer();
    assert.equal(await selectOne(cluster.url), 1);

    // Data written before an immediate (crash-like) stop survives it.
    const sql = connect(cluster.url);
    try {
      await sql`create table kept (x int)`;
      await sql`insert into kept values (42)`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    await cluster.restart("immediate");
    const again = connect(cluster.url);
    try {
      const [row] = await again<{ x: number }[]>`select x from kept`;
      assert.equal(row.x, 42);
    } finally {
      await again.end({ timeout: 1 });
    }
  } finally {
    await cluster.stop();
  }
  await assert.rejects(Deno.stat(cluster.dataDir), Deno.errors.NotFound);
  await assert.rejects(selectOne(cluster.url));
  // stop() is idempotent so a finally block may call it after a test did.
  await cluster.stop();
});

Deno.test("createTestDatabase gives a fresh database that drop removes", async () => {
  const base = testDatabaseUrl();
  const db = await createTestDatabase(base);
  const other = await createTestDatabase(base);
  try {
    assert.notEqual(db.url, other.url);
    const sql = connect(db.url);
    try {
      const [row] = await sql<
        { name: string }[]
      >`select current_database() as name`;
      assert.equal(row.name, db.name);
      assert.match(db.name, /^plaza_test_[0-9a-f]+$/);
      await sql`create table t (x int)`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    const sql2 = connect(other.url);
    try {
      const [row] = await sql2<{ n: number }[]>`
        select count(*)::int as n from pg_tables where tablename = 't'`;
      assert.equal(row.n, 0, "databases are isolated");
    } finally {
      await sql2.end({ timeout: 1 });
    }
  } finally {
    await db.drop();
    await other.drop();
  }
  const admin = connect(base);
  try {
    const rows = await admin`
      select 1 from pg_database where datname in (${db.name}, ${other.name})`;
    assert.equal(rows.length, 0);
  } finally {
    await admin.end({ timeout: 1 });
  }
});

Deno.test("createTestDatabase drop() works with a connection still open", async () => {
  const db = await createTestDatabase(testDatabaseUrl());
  const sql = connect(db.url);
  try {
    await sql`select 1`;
    await db.drop();
    await assert.rejects(sql`select 1`);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
