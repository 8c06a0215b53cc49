/** Each item's outcome from one batch run: a value, or the error for that item alone. */
export type ItemOutcome<O> = { ok: true; value: O } | {
  ok: false;
  error: unknown;
};

/** Queues items and runs them in batches, one batch at a time. */
export interface GroupCommit<I, O> {
  /** Resolves with the item's own outcome once its batch has run. */
  add(item: I): Promise<O>;
}

/**
 * Group commit: while one batch is being written, new items wait and then go
 * together in the next. An idle writer sends an item at once, so a lone
 * message pays nothing; under load many messages share one statement and one
 * commit. `run` answers one outcome per item, in order, or throws to fail the
 * whole batch.
 */
export function createGroupCommit<I, O>(
  run: (items: I[]) => Promise<ItemOutcome<O>[]>,
  maxBatch: number,
): GroupCommit<I, O> {
  type Waiting = {
    item: I;
    resolve: (value: O) => void;
    reject: (error: unknown) => void;
  };
  let waiting: Waiting[] = [];
  let running = false;

  const next = async () => {
    running = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      try {
        const outcomes = await run(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) {
            w.reject(new Error("group commit: no outcome for an item"));
          } else if (outcome.ok) w.resolve(outcome.value);
          else w.reject(outcome.error);
        });
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = false;
  };

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (!running) void next();
      });
    },
  };
}
