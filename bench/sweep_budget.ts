/** A sweep bounded in time: steps run in order until the budget is spent. */

/**
 * Runs `step` on each item in turn, starting none once `budgetMs` has passed
 * since the call (the step under way is let finish); returns the items not run.
 */
export async function sweepWithin<T>(
  items: readonly T[],
  budgetMs: number,
  step: (item: T) => Promise<void>,
  now: () => number = () => performance.now(),
): Promise<T[]> {
  const started = now();
  for (const [i, item] of items.entries()) {
    if (now() - started > budgetMs) return items.slice(i);
    await step(item);
  }
  return [];
}
