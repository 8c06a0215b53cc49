import assert from "node:assert/strict";
import { sweepLines } from "./fanout_sweep.ts";
import type { Target } from "./plan.ts";
import { type Row, rows } from "./report.ts";

function fanoutRow(
  n: string,
  target: Target,
  figures: Row["figures"],
  error?: string,
): Row {
  return {
    scenario: "fanout",
    case: n,
    target,
    figures,
    generatorCpuPercent: null,
    serverCpuPercent: null,
    machineCpuPercent: null,
    error,
  };
}

Deno.test("the sweep table has, per N measured, both targets' p50/p99, their ratios, KB per stream and lost/dup", () => {
  rows.push(
    fanoutRow("N=1,000", "plaza", {
      p50: 15,
      p99: 40,
      lost: 0,
      dup: 1,
      kbPerStream: 63,
    }),
    fanoutRow("N=1,000", "bare", {
      p50: 10,
      p99: 50,
      lost: 2,
      dup: 0,
      kbPerStream: 60,
    }),
    // A row that failed has no figures: its cells are null, not 0.
    fanoutRow("N=7,500", "plaza", {}, "300 streams did not open"),
    fanoutRow("N=7,500", "bare", { p50: 0, p99: 80, lost: 0, dup: 0 }),
    // Another scenario's row of the same case is not fan-out's.
    { ...fanoutRow("N=1,000", "plaza", { p50: 999 }), scenario: "burst" },
  );
  try {
    assert.deepEqual(sweepLines([1_000, 5_000, 7_500]), [
      {
        streams: 1_000,
        plazaP50: 15,
        plazaP99: 40,
        bareP50: 10,
        bareP99: 50,
        p50Ratio: 1.5,
        p99Ratio: 0.8,
        plazaKb: 63,
        bareKb: 60,
        kbRatio: 1.05,
        plazaLost: 0,
        bareLost: 2,
        plazaDup: 1,
        bareDup: 0,
      },
      // N=5,000 was not run (budget spent): no line.
      {
        streams: 7_500,
        plazaP50: null,
        plazaP99: null,
        bareP50: 0,
        bareP99: 80,
        p50Ratio: null,
        p99Ratio: null,
        plazaKb: null,
        bareKb: null,
        kbRatio: null,
        plazaLost: null,
        bareLost: 0,
        plazaDup: null,
        bareDup: 0,
      },
    ]);
  } finally {
    rows.length = 0;
  }
});
