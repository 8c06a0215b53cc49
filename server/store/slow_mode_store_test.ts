// The slow_mode table, its notifications and the automatic switch's
// statement, on both engines: the same SQL must behave alike on Postgres and
// on the embedded PGlite.
import assert from "node:assert/strict";
import { ROOM_CHANNEL } from "../../db/channels.ts";
import type { Database } from "../../db/database.ts";
import { migrate, readMigrations } from "../../db/migrate.ts";
import { createPgliteDatabase } from "../../db/pglite_database.ts";
import { createPostgresDatabase } from "../../db/postgres_database.ts";
import { withTestDatabase } from "../../test/harness/fixtures.ts";
import {
  createSlowModeGate,
  createSlowModeState,
} from "../limits/slow_mode.ts";
import {
  type AutoSlowModeRule,
  createSlowModeStore,
} from "./slow_mode_store.ts";

const HOT: AutoSlowModeRule = {
  messages: 3,
  windowSeconds: 60,
  seconds: 7,
  holdSeconds: 120,
};
// The same room is never this busy: the check sees the traffic as low.
const CALM: AutoSlowModeRule = { ...HOT, messages: 1000 };

async function post(db: Database, author: string, clientId?: string) {
  await db.query(
    "insert into messages (author, text, client_id) values ($1, 'x', $2)",
    [author, clientId ?? null],
  );
}

/** Counts plaza_room notifications; `next()` resolves at the next one. */
async function countNotes(db: Database) {
  let count = 0;
  let wake: (() => void) | null = null;
  const session = await db.listen([ROOM_CHANNEL], {
    onNotify: () => {
      count++;
      wake?.();
    },
    onClose: () => {},
  });
  return {
    get count() {
      return count;
    },
    /** Makes a change that notifies, and resolves once its note arrived: every earlier note has then arrived too. */
    async settle(change: () => Promise<unknown>) {
      const target = count + 1;
      const arrived = new Promise<void>((resolve) => {
        wake = () => count >= target && resolve();
      });
      await change();
      await arrived;
      wake = null;
    },
    close: () => session.close(),
  };
}

async function storeScenario(db: Database) {
  await migrate(db, await readMigrations());
  const store = createSlowModeStore(db);
  const notes = await countNotes(db);
  try {
    assert.equal(await store.current(), null);

    // Two messages are not three: nothing happens.
    await post(db, "ann");
    await post(db, "bob");
    await store.autoCheck(HOT);
    assert.equal(await store.current(), null);

    await post(db, "cy");
    await notes.settle(() => store.autoCheck(HOT));
    const auto = await store.current();
    assert.equal(auto?.by, "auto");
    assert.equal(auto?.seconds, 7);
    assert.equal(auto?.until, null);
    assert.equal(notes.count, 1);

    // Checked again by every instance: no change, no notification.
    await store.autoCheck(HOT);
    await store.autoCheck(HOT);
    // Traffic falls: held for holdSeconds, announced once.
    await notes.settle(() => store.autoCheck(CALM));
    await store.autoCheck(CALM);
    const cooling = await store.current();
    assert.equal(cooling?.by, "auto");
    assert.ok(Date.parse(cooling!.until!) > Date.now() + 100_000);
    assert.equal(cooling?.setAt, auto?.setAt);
    // Busy again before the hold ran out: on until the traffic falls again.
    await notes.settle(() => store.autoCheck(HOT));
    assert.equal((await store.current())?.until, null);
    assert.equal(notes.count, 3, "only real changes notify");

    // A moderator's setting is never overridden, hot or calm.
    await notes.settle(() => store.set(30, 600));
    await store.autoCheck(HOT);
    await store.autoCheck(CALM);
    const moderated = await store.current();
    assert.equal(moderated?.by, "moderator");
    assert.equal(moderated?.seconds, 30);
    assert.ok(Date.parse(moderated!.until!) > Date.now() + 500_000);
    await notes.settle(() => store.set(20, null));
    assert.equal((await store.current())?.until, null);

    // Off by a moderator with a pause: the busy room stays off meanwhile.
    await notes.settle(() => store.clear(60));
    await store.autoCheck(HOT);
    assert.equal(await store.current(), null);
    // Once the pause is over, the switch may act again.
    await notes.settle(() =>
      db.query("update slow_mode set until = now() - interval '1 second'")
    );
    await notes.settle(() => store.autoCheck(HOT));
    assert.equal((await store.current())?.by, "auto");
    // Off without a pause: the row goes.
    await notes.settle(() => store.clear(0));
    assert.equal(await store.current(), null);
    assert.equal((await db.query("select * from slow_mode")).length, 0);
    // An expired setting is off.
    await notes.settle(() => store.set(5, 60));
    await notes.settle(() =>
      db.query("update slow_mode set until = now() - interval '1 second'")
    );
    assert.equal(await store.current(), null);
  } finally {
    await notes.close();
  }
}

/** The gate spends one message per name per S seconds in the shared buckets; a stored clientId passes. */
async function gateScenario(db: Database) {
  const store = createSlowModeStore(db);
  const state = createSlowModeState(store);
  const gate = createSlowModeGate(db, state);
  // Off: nothing is spent.
  assert.equal(await gate.refuse("dee", null), null);
  assert.equal(await gate.refuse("dee", null), null);
  await store.set(30, null);
  await state.refresh();
  assert.equal(await gate.refuse("Dee", null), null);
  const refused = await gate.refuse("dee", null);
  assert.equal(refused?.status, 429);
  const wait = Number(refused?.headers.get("retry-after"));
  assert.ok(wait >= 29 && wait <= 30, `Retry-After ${wait}`);
  assert.match(
    (await refused!.json()).error,
    /^Slow mode is on: one message every 30 s per name\. You can post again in \d+ s\.$/,
  );
  // Another name has its own turn.
  assert.equal(await gate.refuse("eve", null), null);
  // A clientId already stored is a retry of a send that got through.
  const clientId = crypto.randomUUID();
  await post(db, "dee", clientId);
  assert.equal(await gate.refuse("dee", clientId), null);
  assert.equal(
    (await gate.refuse("dee", crypto.randomUUID()))?.status,
    429,
    "a new clientId is a new message",
  );
  await store.clear(0);
  await state.refresh();
  assert.equal(await gate.refuse("dee", null), null);
}

Deno.test("slow mode store on Postgres: moderator and automatic settings, notifications, the gate", async () => {
  await withTestDatabase(async (url) => {
    const db = createPostgresDatabase(url);
    try {
      await storeScenario(db);
      await gateScenario(db);
    } finally {
      await db.close();
    }
  });
});

Deno.test("slow mode store on PGlite: the same", async () => {
  const db = await createPgliteDatabase(null);
  try {
    await storeScenario(db);
    await gateScenario(db);
  } finally {
    await db.close();
  }
});
