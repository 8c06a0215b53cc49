import { describeError } from "./describe_error.ts";

/** Kept per kind of failure, so a broken run still writes a readable report. */
const MAX_SAMPLES = 10;

/** Counters of the whole run, with a few examples of each kind of failure. */
export interface Tally {
  posted: number;
  repeats: number;
  races: number;
  deliveries: number;
  duplicates: number;
  outOfOrder: number;
  corrupt: number;
  idempotencyFailures: number;
  status5xx: number;
  unexpectedStatus: number;
  errors: number;
  sessions: number;
  endedByServer: number;
  openStreams: number;
  /** Every POST's round trip, in ms. */
  readonly postMs: number[];
  /** Examples per kind of failure, in the order the kinds first came up. */
  readonly samples: Map<string, string[]>;
  /** Keeps `detail` as an example of `kind`, up to MAX_SAMPLES of each. */
  note(kind: string, detail: string): void;
  /** Counts a status that is not one of `expected`; false when it is not. */
  status(
    what: string,
    status: number,
    expected: number[],
    body: string,
  ): boolean;
  /** Counts a request that got no answer, or an answer that could not be read. */
  error(what: string, error: unknown): void;
}

/** A tally with every counter at zero. */
export function createTally(): Tally {
  const tally: Tally = {
    posted: 0,
    repeats: 0,
    races: 0,
    deliveries: 0,
    duplicates: 0,
    outOfOrder: 0,
    corrupt: 0,
    idempotencyFailures: 0,
    status5xx: 0,
    unexpectedStatus: 0,
    errors: 0,
    sessions: 0,
    endedByServer: 0,
    openStreams: 0,
    postMs: [],
    samples: new Map(),
    note(kind, detail) {
      const list = tally.samples.get(kind) ?? [];
      if (list.length < MAX_SAMPLES) list.push(detail);
      tally.samples.set(kind, list);
    },
    status(what, status, expected, body) {
      if (expected.includes(status)) return true;
      const detail = `${what} → ${status} ${body.slice(0, 200)}`;
      if (status >= 500) {
        tally.status5xx++;
        tally.note("5xx", detail);
      } else {
        tally.unexpectedStatus++;
        tally.note("unexpected status", detail);
      }
      return false;
    },
    error(what, error) {
      tally.errors++;
      tally.note("error", `${what}: ${describeError(error)}`);
    },
  };
  return tally;
}
