/**
 * What the runner and a load generator say to each other: one JSON command
 * per line on the generator's stdin, one JSON reply per line on its stdout.
 * Every reply carries the generator's own CPU time and wall time for the
 * command, so a saturated generator shows up next to the figures it produced.
 */

import type { Distribution, HistogramData } from "../histogram.ts";

/** Open `count` streams to 127.0.0.1:`port`, `concurrency` connecting at once. */
export interface OpenCommand {
  op: "open";
  port: number;
  count: number;
  concurrency: number;
  timeoutMs: number;
}

/**
 * Start tracking round `round` of `messages` messages on this generator's
 * open streams: each delivery's arrival time is kept until "collect".
 */
export interface TrackCommand {
  op: "track";
  round: number;
  messages: number;
}

/** Post the round's messages, at `rate` per second or back to back over `concurrency` connections. */
export interface SendCommand {
  op: "send";
  port: number;
  round: number;
  messages: number;
  /** Messages per second on a fixed schedule; null = as fast as possible. */
  rate: number | null;
  concurrency: number;
  /** Stop posting after this long. */
  timeoutMs: number;
}

/** Wait for the round's deliveries, then report them against the send times. */
export interface CollectCommand {
  op: "collect";
  /** Absolute send time (ms since the epoch) of each message; null = not sent. */
  sentAt: (number | null)[];
  /** Absolute time by which every delivery should be in. */
  deadline: number;
  /** After the deadline, keep waiting this long while deliveries still arrive (they count as late). */
  graceMs: number;
}

/** Keep `concurrency` POSTs in flight for `durationMs`; check the open streams see every created id once, ascending. */
export interface PostCommand {
  op: "post";
  port: number;
  /** Tags the texts, as in "track". */
  round: number;
  concurrency: number;
  durationMs: number;
  /** How long to wait, after the last POST, for the streams to catch up. */
  drainMs: number;
}

/** A claimed name's token and the one message it posted, for "changes". */
export interface ChangesAuthor {
  token: string;
  messageId: number;
}

/**
 * Edit, then react, each for `durationMs` with `concurrency` requests in
 * flight: worker i edits authors[i]'s message with its token, then toggles
 * reactions on the next author's message.
 */
export interface ChangesCommand {
  op: "changes";
  port: number;
  /** Tags the edited texts, as in "track". */
  round: number;
  concurrency: number;
  durationMs: number;
  /** At least `concurrency` of them. */
  authors: ChangesAuthor[];
}

/** Close every open stream. */
export interface CloseCommand {
  op: "close";
}

/** Close everything and exit. */
export interface ExitCommand {
  op: "exit";
}

/** Anything the runner may send. */
export type GeneratorCommand =
  | OpenCommand
  | TrackCommand
  | SendCommand
  | CollectCommand
  | PostCommand
  | ChangesCommand
  | CloseCommand
  | ExitCommand;

/** Result of "open". */
export interface OpenResult {
  requested: number;
  opened: number;
  failed: number;
  /** First command to last stream subscribed (hello received). */
  ms: number;
  /** Distinct errors and how often each happened. */
  errors: Record<string, number>;
  /** Streams open now, this one included. */
  openNow: number;
}

/** Counts of POST answers. */
export interface PostStats {
  sent: number;
  /** Status code (or "error") → count. */
  statuses: Record<string, number>;
  latency: Distribution;
  errors: Record<string, number>;
}

/** Result of "send". */
export interface SendResult {
  /** Absolute send time of each message (ms since the epoch); null = not sent. */
  sentAt: (number | null)[];
  posts: PostStats;
}

/** Result of "collect": this generator's share of a round, mergeable with the others'. */
export interface CollectResult {
  streams: number;
  expected: number;
  received: number;
  /** Received after the deadline (included in received and in the latencies). */
  late: number;
  duplicates: number;
  outOfOrder: number;
  /** Message events that were not this round's. */
  stray: number;
  /** Streams that ended during the round. */
  streamsEnded: number;
  /** Per-delivery latency (POST written → event parsed). */
  latency: HistogramData;
  maxLatency: number;
  /** Deliveries parsed before their POST was written: a clock problem. */
  negative: number;
  /** Per message: streams here that got it, and when the last of them did (absolute, 0 = none). */
  perMessageCount: number[];
  perMessageLast: number[];
  /** Absolute time of the last delivery parsed here (0 = none). */
  lastDelivery: number;
  /** This generator's CPU and wall time from "track" to the end of "collect". */
  cpuMs: number;
  wallMs: number;
}

/** Result of "post". */
export interface PostResult {
  concurrency: number;
  /** First POST written → last answer read. */
  spanMs: number;
  created: number;
  messagesPerSecond: number;
  posts: PostStats;
  ordering: {
    readers: number;
    /** Ids that arrived lower than one before them, summed over readers. */
    descending: number;
    /** Created ids a reader never saw, summed over readers. */
    missing: number;
    duplicates: number;
    /** Ids seen that no POST here created. */
    unknown: number;
    ok: boolean;
  };
}

/** One phase of "changes": requests of one kind kept in flight for a while. */
export interface ChangePhase {
  /** First request written → last answer read. */
  spanMs: number;
  /** Answers with 200. */
  ok: number;
  perSecond: number;
  requests: PostStats;
}

/** Result of "changes". */
export interface ChangesResult {
  concurrency: number;
  edits: ChangePhase;
  reactions: ChangePhase;
}

/** The generator's own cost for one command. */
export interface GeneratorCost {
  cpuMs: number;
  wallMs: number;
  /** cpuMs / wallMs × 100; near 100 means the generator was the bottleneck. */
  cpuPercent: number;
}

/** One line on stdout. */
export type GeneratorReply =
  & { id: number; cost: GeneratorCost }
  & ({ ok: true; result: unknown } | { ok: false; error: string });

/** Result of "close". */
export interface CloseResult {
  closed: number;
  /** Message events that arrived outside any round since the last close (late ones of a timed-out round). */
  strayOutsideRounds: number;
}

/** Counts `error` in an `errors` tally, keyed by its first 160 characters. */
export function countError(errors: Record<string, number>, error: unknown) {
  const key =
    (error instanceof Error ? `${error.name}: ${error.message}` : String(error))
      .slice(0, 160);
  errors[key] = (errors[key] ?? 0) + 1;
}
