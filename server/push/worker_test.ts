import assert from "node:assert/strict";
import { createWorker } from "./dispatcher.ts";

Deno.test("worker: fifty wakeSoon calls within the window make one round; wake makes another", async () => {
  let rounds = 0;
  let roundDone!: () => void;
  let done = new Promise<void>((resolve) => (roundDone = resolve));
  const worker = createWorker(
    () => {
      rounds++;
      roundDone();
      return Promise.resolve(null);
    },
    60_000,
    (error) => {
      throw error;
    },
  );
  try {
    for (let i = 0; i < 50; i++) worker.wakeSoon(20);
    await done;
    assert.equal(rounds, 1);
    done = new Promise<void>((resolve) => (roundDone = resolve));
    worker.wake();
    await done;
    assert.equal(rounds, 2);
  } finally {
    await worker.close();
  }
});
