import assert from "node:assert/strict";
import { createGroupCommit, type ItemOutcome } from "./group_commit.ts";

/** A batch runner whose runs finish only when the test says so. */
function gatedRunner() {
  const runs: {
    items: string[];
    finish: () => void;
    fail: (e: Error) => void;
  }[] = [];
  let started: (() => void) | null = null;
  const run = (items: string[]) =>
    new Promise<ItemOutcome<string>[]>((resolve, reject) => {
      runs.push({
        items,
        finish: () =>
          resolve(
            items.map((item) =>
              item.startsWith("bad")
                ? { ok: false, error: new Error(`refused ${item}`) }
                : { ok: true, value: item.toUpperCase() }
            ),
          ),
        fail: reject,
      });
      started?.();
    });
  const nextRun = () => new Promise<void>((resolve) => (started = resolve));
  return { run, runs, nextRun };
}

Deno.test("group commit: a lone item runs at once; items arriving meanwhile share the next run", async () => {
  const gate = gatedRunner();
  const commit = createGroupCommit(gate.run, 3);
  const first = gate.nextRun();
  const a = commit.add("a");
  await first;
  assert.deepEqual(gate.runs.map((r) => r.items), [["a"]]);
  const rest = ["b", "bad-c", "d", "e"].map((item) => commit.add(item));
  const second = gate.nextRun();
  gate.runs[0].finish();
  assert.equal(await a, "A");
  await second;
  // At most three per run, in arrival order.
  assert.deepEqual(gate.runs[1].items, ["b", "bad-c", "d"]);
  const third = gate.nextRun();
  gate.runs[1].finish();
  await third;
  assert.deepEqual(gate.runs[2].items, ["e"]);
  gate.runs[2].finish();
  const settled = await Promise.allSettled(rest);
  assert.deepEqual(
    settled.map((s) => s.status === "fulfilled" ? s.value : String(s.reason)),
    ["B", "Error: refused bad-c", "D", "E"],
    "each item gets its own outcome",
  );
});

Deno.test("group commit: a failed run fails its items only, and the next run still happens", async () => {
  const gate = gatedRunner();
  const commit = createGroupCommit(gate.run, 10);
  const first = gate.nextRun();
  const a = commit.add("a");
  await first;
  const b = commit.add("b");
  const second = gate.nextRun();
  gate.runs[0].fail(new Error("database unavailable"));
  await assert.rejects(a, /database unavailable/);
  await second;
  gate.runs[1].finish();
  assert.equal(await b, "B");
});
