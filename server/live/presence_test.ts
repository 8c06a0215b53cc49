import assert from "node:assert/strict";
import { createPgliteDatabase } from "../../db/pglite_database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createHub } from "./hub.ts";
import { createPresence } from "./presence.ts";
import { until } from "../../test/harness/wait.ts";

const presenceOf = (bytes: Uint8Array) =>
  JSON.parse(new TextDecoder().decode(bytes).split("data: ")[1]);

Deno.test("presence over PGlite: names are shared through presence_names, each once, and dropped with their instance", async () => {
  const db = await createPgliteDatabase(null);
  try {
    await migrate(db, await readMigrations());
    const hubA = createHub({ heartbeatMs: 60_000 });
    const hubB = createHub({ heartbeatMs: 60_000 });
    // Long ticks: each step below runs a tick itself (start()).
    const options = { db, tickMs: 60_000 };
    const a = createPresence({ ...options, hub: hubA, instanceId: "a" });
    const b = createPresence({ ...options, hub: hubB, instanceId: "b" });
    const offAda = hubA.names.add({ key: "ada", name: "Ada" });
    hubA.names.add({ key: "ada", name: "Ada" });
    hubB.names.add({ key: "ada", name: "ada" });
    hubB.names.add({ key: "bob", name: "Bob" });
    await a.start();
    await b.start();
    const rows = await db.query<{ instance_id: string; name: string }>(
      "select instance_id, name from presence_names order by 1, 2",
    );
    assert.deepEqual(rows.map((r) => `${r.instance_id}:${r.name}`), [
      "a:Ada",
      "b:Bob",
      "b:ada",
    ]);
    // B started last and so read A's names: its own form first.
    assert.deepEqual(presenceOf(hubB.presence).names, ["ada", "Bob"]);
    // One of A's two streams closing changes nothing to write.
    offAda();
    assert.equal(hubA.names.takeChanges().size, 0);
    // A name that comes later is written at once, not at the next tick
    // (a minute away here), so other instances read it within their next.
    hubA.names.add({ key: "carl", name: "Carl" });
    await until(async () =>
      (await db.query("select 1 from presence_names where name_key = 'carl'"))
        .length === 1
    );
    // A stops: its rows go with its presence row.
    await a.close();
    assert.deepEqual(
      await db.query("select * from presence_names where instance_id = 'a'"),
      [],
    );
    await b.close();
    hubA.close();
    hubB.close();
  } finally {
    await db.close();
  }
});

Deno.test("presence over PGlite: the names of an instance whose row went stale are not read", async () => {
  const db = await createPgliteDatabase(null);
  try {
    await migrate(db, await readMigrations());
    await db.query(
      `insert into presence (instance_id, streams, updated_at)
       values ('dead', 1, now() - interval '1 hour'), ('alive', 1, now())`,
    );
    await db.query(
      `insert into presence_names values
       ('dead', 'zed', 'Zed'), ('alive', 'amy', 'Amy')`,
    );
    const hub = createHub({ heartbeatMs: 60_000 });
    const p = createPresence({ db, hub, instanceId: "me", tickMs: 60_000 });
    await p.start();
    assert.deepEqual(presenceOf(hub.presence), { online: 1, names: ["Amy"] });
    await p.close();
    hub.close();
  } finally {
    await db.close();
  }
});
