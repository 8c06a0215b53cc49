/** What a bench run measures: its scenarios, its targets and the sizes of each. */

/** A part of the bench, each with a table of its own. */
export type ScenarioName =
  | "idle"
  | "fanout"
  | "posting"
  | "changes"
  | "burst"
  | "startup"
  | "uploads";

/** Every scenario, in the order a run goes through them. */
export const SCENARIOS: ScenarioName[] = [
  "idle",
  "fanout",
  "posting",
  "changes",
  "burst",
  "startup",
  "uploads",
];

/** A server under test: Plaza, or the bare Deno.serve broadcaster it is compared with. */
export type Target = "plaza" | "bare";

/** Both targets, in the order each case measures them. */
export const TARGETS: Target[] = ["plaza", "bare"];

/** Sizes of one run; --quick shrinks them for development and smoke tests. */
export interface Plan {
  idleCounts: number[];
  idleMax: boolean;
  /** The fan-out sweep: one case per N, in this order. */
  fanoutCounts: number[];
  fanoutMessages: number;
  fanoutRate: number;
  postingConcurrency: number[];
  postingMs: number;
  /** Edits, then reactions, each this long at each concurrency (Plaza only). */
  changesConcurrency: number[];
  changesMs: number;
  burstStreams: number;
  burstMessages: number;
  burstConcurrency: number;
  startupRuns: number;
  /** POST /attachments kept in flight at each of these (uploads). */
  uploadConcurrency: number[];
  uploadsMs: number;
}

/** The full run's sizes. */
export const FULL: Plan = {
  idleCounts: [1_000, 10_000],
  idleMax: true,
  fanoutCounts: [1_000, 2_000, 3_000, 4_000, 5_000, 7_500, 10_000],
  fanoutMessages: 200,
  fanoutRate: 20,
  postingConcurrency: [16, 64],
  postingMs: 8_000,
  changesConcurrency: [16, 64],
  changesMs: 8_000,
  burstStreams: 10_000,
  burstMessages: 100,
  burstConcurrency: 16,
  startupRuns: 3,
  uploadConcurrency: [4, 16],
  uploadsMs: 8_000,
};

/** The sizes of `--quick`. */
export const QUICK: Plan = {
  idleCounts: [200, 1_000],
  idleMax: false,
  fanoutCounts: [200, 500],
  fanoutMessages: 40,
  fanoutRate: 20,
  postingConcurrency: [16, 64],
  postingMs: 2_000,
  changesConcurrency: [16],
  changesMs: 2_000,
  burstStreams: 1_000,
  burstMessages: 50,
  burstConcurrency: 16,
  startupRuns: 1,
  uploadConcurrency: [4, 16],
  uploadsMs: 3_000,
};

/** The plan for these options: quick or full, with the fan-out sweep's N replaced when given. */
export function planFor(quick: boolean, fanoutStreams: number[] | null): Plan {
  const base = quick ? QUICK : FULL;
  return fanoutStreams === null
    ? base
    : { ...base, fanoutCounts: fanoutStreams };
}
