/**
 * Waiting in tests, always with a deadline: a bound turns a hang into a
 * failure that says what never happened, instead of a stuck run.
 *
 * `withDeadline` is for something that signals (a promise); `until` is for
 * state that can only be looked at (a database row, a counter in a page), and
 * polls it.
 */

/** How long `until` waits when not told. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How often `until` looks when not told. */
export const DEFAULT_INTERVAL_MS = 10;

/** A wait that reached its deadline. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
}

/** How long `until` may wait, how often it looks, and what it waits for (named in the error). */
export interface UntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Defaults to the source text of the check. */
  what?: string;
}

/** Resolves once `check` returns true, looking every `intervalMs`; throws a DeadlineError after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  options: UntilOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() >= deadline) {
      throw new DeadlineError(
        `timed out after ${timeoutMs} ms waiting for ${
          options.what ?? String(check)
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Settles as `work` does, or rejects with a DeadlineError naming `what` once `ms` pass first; the timer never outlives it. */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DeadlineError(`timed out after ${ms} ms waiting for ${what}`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads `read` until its value `holds` and returns that value; throws a
 * DeadlineError with the last value after `ms` (how long a change may take
 * to reach another instance, say).
 */
export async function within<T>(
  ms: number,
  read: () => Promise<T>,
  holds: (value: T) => boolean,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (performance.now() > deadline) {
      throw new DeadlineError(`not within ${ms} ms: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
