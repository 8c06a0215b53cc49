import assert from "node:assert/strict";
import { sweepWithin } from "./sweep_budget.ts";

Deno.test("a sweep starts no step once its budget is spent, and says which it left out", async () => {
  let clock = 0;
  const ran: number[] = [];
  const skipped = await sweepWithin([1, 2, 3, 4], 150, (n) => {
    ran.push(n);
    clock += 100;
    return Promise.resolve();
  }, () => clock);
  // 0 ms: step 1; 100 ms: step 2 (within 150); 200 ms: past the budget.
  assert.deepEqual(ran, [1, 2]);
  assert.deepEqual(skipped, [3, 4]);
});

Deno.test("a sweep within its budget runs every step", async () => {
  const ran: string[] = [];
  const skipped = await sweepWithin(["a", "b"], 1_000, (s) => {
    ran.push(s);
    return Promise.resolve();
  }, () => 0);
  assert.deepEqual(ran, ["a", "b"]);
  assert.deepEqual(skipped, []);
});
