import type { Instance } from "./instance.ts";
import { createOracle, type Oracle } from "./oracle.ts";
import { pick, type Rng } from "./random.ts";
import type { Tally } from "./tally.ts";

/** Everything the clients share. */
export interface World {
  instances: readonly Instance[];
  tally: Tally;
  oracle: Oracle;
  /** Aborted at the end of the traffic phase, or on Ctrl-C. */
  traffic: AbortSignal;
  /** Aborted on Ctrl-C or when the watchdog fires. */
  interrupt: AbortSignal;
}

/** The clients' shared world, with a fresh oracle counting into `tally`. */
export function createWorld(
  instances: readonly Instance[],
  tally: Tally,
  traffic: AbortSignal,
  interrupt: AbortSignal,
): World {
  return {
    instances,
    tally,
    oracle: createOracle(tally),
    traffic,
    interrupt,
  };
}

/** A running instance picked at random, or null when none is left. */
export function liveInstance(world: World, rng: Rng): Instance | null {
  const live = world.instances.filter((i) => i.exit === null);
  return live.length === 0 ? null : pick(rng, live);
}
