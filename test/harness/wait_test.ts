import assert from "node:assert/strict";
import { DeadlineError, until, withDeadline } from "./wait.ts";

Deno.test("until resolves as soon as the check holds, sync or async", async () => {
  let n = 0;
  await until(() => ++n === 3, { intervalMs: 1 });
  assert.equal(n, 3);
  let m = 0;
  await until(() => Promise.resolve(++m === 2), { intervalMs: 1 });
  assert.equal(m, 2);
});

Deno.test("until throws a DeadlineError naming what it waited for", async () => {
  await assert.rejects(
    until(() => false, { timeoutMs: 30, intervalMs: 5, what: "the moon" }),
    (e) =>
      e instanceof DeadlineError &&
      e.message === "timed out after 30 ms waiting for the moon",
  );
  // Without a name, the check's own source says what was awaited.
  const rows: number[] = [];
  await assert.rejects(
    until(() => rows.length > 0, { timeoutMs: 5 }),
    /waiting for .*rows\.length > 0/,
  );
});

Deno.test("until passes on an error thrown by the check", async () => {
  await assert.rejects(
    until(() => {
      throw new Error("broken check");
    }),
    /broken check/,
  );
});

Deno.test("withDeadline settles as the work does, and leaves no timer", async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1_000, "seven"), 7);
  await assert.rejects(
    withDeadline(Promise.reject(new Error("own failure")), 1_000, "x"),
    /own failure/,
  );
});

Deno.test("withDeadline rejects with a DeadlineError when the work is late", async () => {
  let finish = () => {};
  const never = new Promise<void>((resolve) => (finish = resolve));
  await assert.rejects(
    withDeadline(never, 20, "the reply"),
    (e) =>
      e instanceof DeadlineError &&
      e.message === "timed out after 20 ms waiting for the reply",
  );
  finish();
});
