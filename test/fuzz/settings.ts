/** The fuzzer's settings, from FUZZ_SECONDS, FUZZ_SEED and FUZZ_CASE (see fuzz_test.ts). */

/** How long a run sends requests when FUZZ_SECONDS is not set. */
export const DEFAULT_SECONDS = 25;

/** How long to fuzz, with which seed, and whether to replay a single case. */
export interface Settings {
  seconds: number;
  seed: number;
  /** FUZZ_CASE: replay this one case only. */
  only: number | null;
}

/** Reads the settings from the environment; throws a sentence on a malformed value. */
export function readSettings(): Settings {
  const rawSeconds = Deno.env.get("FUZZ_SECONDS");
  const seconds = rawSeconds === undefined
    ? DEFAULT_SECONDS
    : Number(rawSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `FUZZ_SECONDS must be a positive number, got "${rawSeconds}".`,
    );
  }
  const rawSeed = Deno.env.get("FUZZ_SEED");
  const seed = rawSeed === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : Number(rawSeed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(
      `FUZZ_SEED must be a whole number from 0 to 4294967295, got "${rawSeed}".`,
    );
  }
  const rawCase = Deno.env.get("FUZZ_CASE");
  const only = rawCase === undefined ? null : Number(rawCase);
  if (only !== null && (!Number.isInteger(only) || only < 0)) {
    throw new Error(`FUZZ_CASE must be a case number, got "${rawCase}".`);
  }
  return { seconds, seed, only };
}
