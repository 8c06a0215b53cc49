import { seededRandom } from "../../test/harness/seeded_random.ts";
import type { PostBody } from "./post_body.ts";
import { pick, type Rng } from "./random.ts";

/** The share of clients who talk (see poster.ts); the rest lurk. */
const TALKER_SHARE = 0.7;

const NAMES = ["ada", "bob", "chloé", "dmitri", "eve", "farah", "gus", "hana"];

/** A sent message this client may later send again. */
export interface Sent {
  body: PostBody;
  id: number;
}

/** One simulated person: its schedule, and what it sent and received. */
export interface SimClient {
  index: number;
  author: string;
  /** Connect/disconnect schedule. */
  rng: Rng;
  /** What and when to post; separate so one schedule does not shift the other. */
  postRng: Rng;
  talker: boolean;
  /** Newest committed id once the first stream was open: every later id must reach this client. */
  since: number | null;
  /** The last message id seen, sent as Last-Event-ID. */
  lastId: number | null;
  received: Set<number>;
  sent: Sent[];
  sessions: number;
  duplicates: number;
  outOfOrder: number;
  caughtUp: boolean | null;
}

/** Client number `index` of a run with `seed`: the same seed gives the same people. */
export function createSimClient(seed: number, index: number): SimClient {
  const rng = seededRandom(seed * 1_000_003 + index * 2);
  const postRng = seededRandom(seed * 1_000_003 + index * 2 + 1);
  return {
    index,
    author: `${pick(rng, NAMES)}-${String(index).padStart(3, "0")}`,
    rng,
    postRng,
    talker: rng() < TALKER_SHARE,
    since: null,
    lastId: null,
    received: new Set<number>(),
    sent: [],
    sessions: 0,
    duplicates: 0,
    outOfOrder: 0,
    caughtUp: null,
  };
}
