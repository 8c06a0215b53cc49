import assert from "node:assert/strict";
import { parseArgs } from "./cli.ts";
import { FULL, planFor, QUICK } from "./plan.ts";

Deno.test("--fanout-streams gives the sweep's N in the order written, in both spellings", () => {
  assert.deepEqual(
    parseArgs(["--fanout-streams", "200,400"]).fanoutStreams,
    [200, 400],
  );
  assert.deepEqual(
    parseArgs(["--quick", "--fanout-streams=5000, 1000"]).fanoutStreams,
    [5000, 1000],
  );
  assert.equal(parseArgs(["--quick"]).fanoutStreams, null);
});

Deno.test("--fanout-streams refuses what is not a list of distinct stream counts", () => {
  for (
    const bad of [
      [],
      [""],
      ["0"],
      ["-5"],
      ["1.5"],
      ["1e3"],
      ["abc"],
      ["1000,1000"],
      ["2000000"],
    ]
  ) {
    assert.throws(
      () => parseArgs(["--fanout-streams", ...bad]),
      /--fanout-streams.*\nUsage: /s,
      JSON.stringify(bad),
    );
  }
});

Deno.test("the full run sweeps 1,000 to 10,000 streams, --quick a short list, and a given list replaces either", () => {
  assert.deepEqual(
    planFor(false, null).fanoutCounts,
    [1000, 2000, 3000, 4000, 5000, 7500, 10000],
  );
  assert.deepEqual(planFor(true, null).fanoutCounts, [200, 500]);
  const given = planFor(false, [300, 600]);
  assert.deepEqual(given, { ...FULL, fanoutCounts: [300, 600] });
  assert.deepEqual(planFor(true, [300]), { ...QUICK, fanoutCounts: [300] });
});

Deno.test("--only changes runs the changes scenario: c=16 in --quick, c=16 and c=64 in the full run", () => {
  assert.deepEqual(parseArgs(["--only", "changes,posting"]).only, [
    "changes",
    "posting",
  ]);
  assert.ok(parseArgs([]).only.includes("changes"));
  assert.deepEqual(planFor(true, null).changesConcurrency, [16]);
  assert.deepEqual(planFor(false, null).changesConcurrency, [16, 64]);
});
