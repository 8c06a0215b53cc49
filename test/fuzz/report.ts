/** The run's printed summary and its failure report, each finding with the line that replays it. */
import { clip } from "./bytes.ts";
import type { RunState } from "./run_state.ts";

/** Requests sent, messages stored, and statuses by kind: printed after every run. */
export function summary(state: RunState, elapsedMs: number): string {
  const lines = [
    `fuzz: ${state.cases} requests in ${(elapsedMs / 1000).toFixed(1)} s (${
      Math.round(state.cases / (elapsedMs / 1000))
    }/s); ${state.created.size} messages stored (201), ${state.repeats.length} repeats (200), ${state.deleted.size} deleted (204)`,
  ];
  const kinds = [...state.stats.entries()].sort((a, b) =>
    b[1].cases - a[1].cases
  );
  for (const [kind, stats] of kinds) {
    const statuses = [...stats.statuses.entries()].sort().map(([s, n]) =>
      `${s}×${n}`
    ).join(" ");
    lines.push(
      `  ${kind.padEnd(15)} ${String(stats.cases).padStart(6)}  ${statuses}`,
    );
  }
  lines.push(
    `  HTTP-layer rejections (no app headers): ${
      [...state.httpLayer.entries()].map(([s, n]) => `${s}×${n}`).join(" ") ||
      "none"
    }; closed without answer (allowed): ${state.dropped}; sent then closed unread: ${state.sentOnly}; GET / without a built client (503): ${state.noClient}`,
  );
  const reasons = [...state.dropReasons.entries()].sort((a, b) => b[1] - a[1]);
  for (const [reason, n] of reasons.slice(0, 8)) {
    lines.push(`    dropped ${n}× ${reason}`);
  }
  return lines.join("\n");
}

/**
 * The failure report, one line per problem (empty: the run passed): each
 * group of findings with examples and the environment that replays each,
 * the errors the server logged, then what the checks after the run found.
 */
export function failureReport(
  state: RunState,
  seed: number,
  logged: readonly string[],
  after: readonly string[],
): string[] {
  const report: string[] = [];
  for (const [key, group] of state.findings) {
    report.push(`${group.count}× ${key}`);
    for (const f of group.examples) {
      report.push(
        `  #${f.index}: ${f.problem}\n    request: ${f.request}\n    replay: FUZZ_SEED=${seed} FUZZ_CASE=${f.index}`,
      );
    }
  }
  const unhandled = logged.filter((l) =>
    /unhandled|Something went wrong/i.test(l)
  );
  if (logged.length > 0) {
    report.push(
      `the server logged ${logged.length} errors (${unhandled.length} unhandled request errors); first: ${
        clip(logged[0], 1500)
      }`,
    );
  }
  report.push(...after);
  return report;
}
