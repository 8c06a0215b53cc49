import { join } from "node:path";
import type { Instance } from "./instance.ts";
import { RESULTS_DIR } from "./paths.ts";
import { mib, type RssSample, rssSpan } from "./rss.ts";
import type { Tally } from "./tally.ts";
import type { ClientResult, Verdict } from "./verdict.ts";

/** Width of the labels in the printed report. */
const LABEL_WIDTH = 28;

/** What the report says about the run itself, beyond the counters. */
export interface RunFacts {
  startedAt: Date;
  durationMs: number;
  trafficSeconds: number;
  clients: number;
  seed: number;
  postgres: string;
  revision: string | null;
  /** The newest id at the end; null when the run was cut short before. */
  maxId: number | null;
}

/** One instance in the report. */
export interface InstanceReport {
  name: string;
  url: string;
  pid: number;
  rssStartKiB: number | null;
  rssEndKiB: number | null;
  rssSamples: RssSample[];
  exit: Deno.CommandStatus | null;
  log: string[];
}

/** The whole report, as written to bench/results/soak-<date>.json. */
export interface SoakReport {
  startedAt: string;
  finishedAt: string;
  plannedSeconds: number;
  trafficSeconds: number;
  clients: number;
  seed: number;
  postgres: string;
  revision: string | null;
  ok: boolean;
  failures: string[];
  messagesPosted: number;
  rowsInDatabase: number | null;
  maxId: number | null;
  idempotentRepeats: number;
  concurrentDuplicatePosts: number;
  deliveries: number;
  duplicates: number;
  lost: number;
  outOfOrder: number;
  mismatchedPayloads: number;
  idempotencyFailures: number;
  phantom: number;
  lostCommits: number;
  status5xx: number;
  unexpectedStatus: number;
  errors: number;
  streamSessions: number;
  streamsEndedByServer: number;
  clientsNotCaughtUp: number;
  postLatencyMs: {
    count: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    max: number | null;
  };
  instances: InstanceReport[];
  samples: Record<string, string[]>;
  perClient: ClientResult[];
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round1 = (n: number | null) =>
  n === null ? null : Math.round(n * 10) / 10;

/** The report of a finished run; finishedAt is now. */
export function buildReport(
  run: RunFacts,
  tally: Tally,
  verdict: Verdict,
  instances: readonly Instance[],
): SoakReport {
  const sortedMs = [...tally.postMs].sort((a, b) => a - b);
  return {
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    plannedSeconds: run.durationMs / 1000,
    trafficSeconds: run.trafficSeconds,
    clients: run.clients,
    seed: run.seed,
    postgres: run.postgres,
    revision: run.revision,
    ok: verdict.failures.length === 0,
    failures: verdict.failures,
    messagesPosted: tally.posted,
    rowsInDatabase: verdict.rowsInDatabase,
    maxId: run.maxId,
    idempotentRepeats: tally.repeats,
    concurrentDuplicatePosts: tally.races,
    deliveries: tally.deliveries,
    duplicates: tally.duplicates,
    lost: verdict.lost,
    outOfOrder: tally.outOfOrder,
    mismatchedPayloads: tally.corrupt,
    idempotencyFailures: tally.idempotencyFailures,
    phantom: verdict.phantom,
    lostCommits: verdict.lostCommits,
    status5xx: tally.status5xx,
    unexpectedStatus: tally.unexpectedStatus,
    errors: tally.errors,
    streamSessions: tally.sessions,
    streamsEndedByServer: tally.endedByServer,
    clientsNotCaughtUp: verdict.notCaughtUp,
    postLatencyMs: {
      count: sortedMs.length,
      p50: round1(percentile(sortedMs, 0.5)),
      p95: round1(percentile(sortedMs, 0.95)),
      p99: round1(percentile(sortedMs, 0.99)),
      max: round1(sortedMs.at(-1) ?? null),
    },
    instances: instances.map((i) => {
      const { start, end } = rssSpan(i.rss);
      return {
        name: i.name,
        url: i.url,
        pid: i.pid,
        rssStartKiB: start?.kib ?? null,
        rssEndKiB: end?.kib ?? null,
        rssSamples: i.rss,
        exit: i.exit,
        log: i.log,
      };
    }),
    samples: Object.fromEntries(tally.samples),
    perClient: verdict.perClient,
  };
}

/** Prints the report's figures and failure examples to stdout. */
export function printReport(report: SoakReport): void {
  const line = (label: string, value: string | number | null) =>
    console.log(`  ${label.padEnd(LABEL_WIDTH)} ${value ?? "n/a"}`);
  console.log(
    `\nPlaza soak report: ${report.trafficSeconds} s of traffic (planned ${report.plannedSeconds} s), ${report.clients} clients, seed ${report.seed}, 2 instances, PostgreSQL ${report.postgres}`,
  );
  line("server revision", report.revision);
  line("messages posted (201)", report.messagesPosted);
  line("rows in the database", report.rowsInDatabase);
  line(
    "idempotent repeats (200)",
    `${report.idempotentRepeats} (+ ${report.concurrentDuplicatePosts} concurrent pairs to both instances)`,
  );
  line("deliveries", report.deliveries);
  line(
    "stream sessions",
    `${report.streamSessions} (${report.streamsEndedByServer} ended by the server)`,
  );
  line("duplicates", report.duplicates);
  line("lost", report.lost);
  line("out of order", report.outOfOrder);
  line("mismatched payloads", report.mismatchedPayloads);
  line("idempotency failures", report.idempotencyFailures);
  line("5xx", report.status5xx);
  line("other unexpected statuses", report.unexpectedStatus);
  line("errors", report.errors);
  const latency = report.postLatencyMs;
  line(
    "POST latency (ms)",
    `p50 ${latency.p50}, p95 ${latency.p95}, p99 ${latency.p99}, max ${latency.max}`,
  );
  for (const i of report.instances) {
    const { start, end } = rssSpan(i.rssSamples);
    const growth = start?.kib && end?.kib
      ? ` (${end.kib >= start.kib ? "+" : ""}${
        ((end.kib / start.kib - 1) * 100).toFixed(1)
      } %)`
      : "";
    line(
      `RSS instance ${i.name}`,
      `start ${mib(start?.kib ?? null)} (t=${start?.atS}s), end ${
        mib(end?.kib ?? null)
      } (t=${end?.atS}s)${growth}; samples ${
        i.rssSamples.map((s) => mib(s.kib).replace(" MiB", "")).join(" → ")
      } MiB`,
    );
  }
  for (const [kind, list] of Object.entries(report.samples)) {
    console.log(`  ${kind}:`);
    for (const s of list) console.log(`    ${s}`);
  }
}

/** Writes the report to RESULTS_DIR as soak-<start time>.json; returns the file's path. */
export async function writeReport(report: SoakReport): Promise<string> {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const file = join(RESULTS_DIR, `soak-${stamp}.json`);
  await Deno.writeTextFile(file, JSON.stringify(report, null, 2) + "\n");
  return file;
}

/** Prints PASS or FAIL with every failure, and where the report went. */
export function printOutcome(report: SoakReport, file: string): void {
  console.log(
    `\n${
      report.failures.length === 0
        ? "PASS"
        : `FAIL: ${report.failures.join("; ")}`
    }`,
  );
  console.log(`Report: ${file}`);
}
