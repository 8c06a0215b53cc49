/** What a run has seen so far: stored messages, statuses by kind, and findings. */
import type { Message } from "../../protocol/message.ts";
import type { Kind } from "./cases.ts";

/** Examples kept for each group of alike findings. */
export const EXAMPLES_PER_GROUP = 3;

/** Cases sent of one kind, and how they were answered (status, "dropped", "timeout", "sent"). */
export interface KindStats {
  cases: number;
  statuses: Map<string, number>;
}

/** One broken rule: which case, its request as text, and what was wrong. */
export interface Finding {
  index: number;
  kind: Kind;
  request: string;
  problem: string;
}

/** Everything a run records, for the checks after it and the summary. */
export interface RunState {
  created: Map<number, Message>;
  /** 200 answers to POST /messages: a repeated clientId found its original. */
  repeats: { id: number; clientId: string | null }[];
  /** Messages a DELETE with the admin token removed (204). */
  deleted: Set<number>;
  /**
   * Findings grouped by kind and the shape of the problem: one bug tends to
   * show up hundreds of times, and a few examples of each say enough.
   */
  findings: Map<string, { count: number; examples: Finding[] }>;
  stats: Map<Kind, KindStats>;
  /** Rejections by Deno's HTTP layer (no app headers), by status. */
  httpLayer: Map<number, number>;
  /** GET / while no client is built: the app's documented 503. */
  noClient: number;
  dropped: number;
  /** Why connections closed without an answer, for the summary. */
  dropReasons: Map<string, number>;
  sentOnly: number;
  cases: number;
}

/** Adds one to `key` in a tally. */
export function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Records a finding in its group (kind and problem with numbers blurred), keeping a few examples. */
export function addFinding(state: RunState, finding: Finding): void {
  const key = `${finding.kind}: ${
    finding.problem.replace(/\d+/g, "N").slice(0, 60)
  }…`;
  const group = state.findings.get(key) ?? { count: 0, examples: [] };
  group.count++;
  if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(finding);
  state.findings.set(key, group);
}

/** A run that has seen nothing yet. */
export function newRunState(): RunState {
  return {
    created: new Map(),
    repeats: [],
    deleted: new Set(),
    findings: new Map(),
    stats: new Map(),
    httpLayer: new Map(),
    noClient: 0,
    dropped: 0,
    dropReasons: new Map(),
    sentOnly: 0,
    cases: 0,
  };
}
