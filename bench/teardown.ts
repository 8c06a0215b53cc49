/**
 * Everything the bench starts registers how to stop it here, so a normal
 * end, an error, Ctrl-C, SIGTERM or the watchdog all leave nothing behind.
 */

let exiting = false;
const cleanups = new Set<() => Promise<void>>();

/** Whether the run is being torn down (signal, watchdog or the end). */
export function isExiting(): boolean {
  return exiting;
}

/** Registers `fn` to run at teardown; returns a function that runs it now instead, once. */
export function track(fn: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    if (!cleanups.delete(once)) return;
    await fn();
  };
  cleanups.add(once);
  return once;
}

/** Forgets a cleanup returned by `track` without running it (its owner stopped the thing itself). */
export function untrack(once: () => Promise<void>) {
  cleanups.delete(once);
}

/** Runs every registered cleanup once, newest first. */
async function cleanUp() {
  // Each entry removes itself from the set when it runs.
  for (const fn of [...cleanups].reverse()) await fn().catch(() => {});
}

/** Stops everything, then exits with `code`; only the first call does anything. */
export async function exitWith(code: number, message?: string) {
  if (exiting) return;
  exiting = true;
  if (message) console.error(message);
  await cleanUp();
  Deno.exit(code);
}

/** Runs a bench program's `main`, then exits 0, or 1 saying what failed; everything it started is stopped either way. */
export async function runProgram(name: string, main: () => Promise<void>) {
  try {
    await main();
    await exitWith(0);
  } catch (error) {
    await exitWith(
      1,
      `${name} failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}
