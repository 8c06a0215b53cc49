import type { SimClient } from "./sim_client.ts";
import type { World } from "./world.ts";

/** How many missing ids a client's entry in the report lists. */
const MISSING_SAMPLE = 20;

/** The room's final state: every stored message (see readAllMessages) and the newest id. */
export interface FinalState {
  database: Map<number, string>;
  maxId: number;
}

/** One client's account in the report. */
export interface ClientResult {
  client: string;
  talker: boolean;
  sessions: number;
  since: number | null;
  lastId: number | null;
  received: number;
  expected: number;
  missing: number;
  missingSample: number[];
  duplicates: number;
  outOfOrder: number;
  caughtUp: boolean | null;
}

/** What the end-of-run checks found, besides the tally's counters. */
export interface Verdict {
  lost: number;
  phantom: number;
  lostCommits: number;
  notCaughtUp: number;
  rowsInDatabase: number | null;
  perClient: ClientResult[];
  /** Every check that failed, in words; empty when the run passed. */
  failures: string[];
}

/**
 * Compares what the clients got with the database (`final`, null when the
 * run was cut short before reading it) and adds up every failure: nothing
 * lost, repeated, out of order or changed, no 5xx, and instances that stopped
 * cleanly. Examples of what is wrong go to the tally.
 */
export function judge(
  world: World,
  clients: readonly SimClient[],
  final: FinalState | null,
  interruptedBy: string | null,
): Verdict {
  const { tally, oracle, instances } = world;
  const database = final?.database ?? null;
  let lost = 0;
  let phantom = 0;
  let lostCommits = 0;
  const perClient = clients.map((c): ClientResult => {
    const missing: number[] = [];
    let expected = 0;
    if (final !== null && c.since !== null) {
      for (const id of final.database.keys()) {
        if (id <= c.since || id > final.maxId) continue;
        expected++;
        if (!c.received.has(id)) missing.push(id);
      }
    }
    lost += missing.length;
    if (missing.length > 0) {
      tally.note(
        "lost",
        `${c.author} (from id ${c.since}) never got ${missing.length} ids: ${
          missing.slice(0, MISSING_SAMPLE).join(", ")
        }`,
      );
    }
    if (c.caughtUp === false) {
      tally.note(
        "catch-up",
        `${c.author} did not catch up (since ${c.since}, last id ${c.lastId})`,
      );
    }
    return {
      client: c.author,
      talker: c.talker,
      sessions: c.sessions,
      since: c.since,
      lastId: c.lastId,
      received: c.received.size,
      expected,
      missing: missing.length,
      missingSample: missing.slice(0, MISSING_SAMPLE),
      duplicates: c.duplicates,
      outOfOrder: c.outOfOrder,
      caughtUp: c.caughtUp,
    };
  });
  if (database !== null) {
    for (const [id, key] of oracle.seen) {
      const stored = database.get(id);
      if (stored === undefined) {
        phantom++;
        tally.note("phantom", `id ${id} was seen but is not in the database`);
      } else if (stored !== key) {
        tally.corrupt++;
        tally.note(
          "mismatched payload",
          `id ${id}: seen ${key.slice(0, 200)}, stored ${stored.slice(0, 200)}`,
        );
      }
    }
    for (const id of oracle.created.keys()) {
      if (!database.has(id)) {
        lostCommits++;
        tally.note("lost commit", `id ${id} got a 201 but is not stored`);
      }
    }
  }

  const rowsInDatabase = database?.size ?? null;
  const notCaughtUp = clients.filter((c) => c.caughtUp === false).length;
  const failures: string[] = [];
  const check = (bad: boolean, what: string) => {
    if (bad) failures.push(what);
  };
  if (interruptedBy !== null) failures.push(`interrupted (${interruptedBy})`);
  check(lost > 0, `${lost} deliveries lost`);
  check(tally.duplicates > 0, `${tally.duplicates} duplicate deliveries`);
  check(tally.outOfOrder > 0, `${tally.outOfOrder} deliveries out of order`);
  check(tally.status5xx > 0, `${tally.status5xx} responses with a 5xx`);
  check(
    tally.unexpectedStatus > 0,
    `${tally.unexpectedStatus} other unexpected statuses`,
  );
  check(tally.errors > 0, `${tally.errors} request errors`);
  check(tally.corrupt > 0, `${tally.corrupt} mismatched payloads`);
  check(
    tally.idempotencyFailures > 0,
    `${tally.idempotencyFailures} idempotency failures`,
  );
  check(phantom > 0, `${phantom} ids seen that are not in the database`);
  check(lostCommits > 0, `${lostCommits} ids answered 201 but not stored`);
  check(
    rowsInDatabase !== null && rowsInDatabase !== tally.posted,
    `${rowsInDatabase} rows in the database but ${tally.posted} answers 201`,
  );
  check(notCaughtUp > 0, `${notCaughtUp} clients did not catch up`);
  for (const i of instances) {
    const how = `code ${i.exit?.code}, signal ${i.exit?.signal}`;
    if (i.exit !== null && !i.stopping) {
      failures.push(`instance ${i.name} exited during the run (${how})`);
    } else if (
      interruptedBy === null &&
      (i.exit === null || i.exit.code !== 0 || i.exit.signal !== null)
    ) {
      failures.push(
        `instance ${i.name} did not stop cleanly on SIGTERM (${how})`,
      );
    }
  }
  return {
    lost,
    phantom,
    lostCommits,
    notCaughtUp,
    rowsInDatabase,
    perClient,
    failures,
  };
}
