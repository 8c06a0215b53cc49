/** What --help prints, and every usage error after its message. */
export const USAGE =
  "Usage: deno task soak [--minutes N | --seconds N] [--clients N] [--seed N]";

const DEFAULT_DURATION_MS = 10 * 60_000;
const DEFAULT_CLIENTS = 60;
const DEFAULT_SEED = 1;

/** Command-line options of the run. */
export interface Options {
  durationMs: number;
  clients: number;
  seed: number;
}

/** A command line that cannot be run; its message says why. */
export class UsageError extends Error {}

/** The options in `args`, or null for --help; throws UsageError on a bad one. */
export function parseOptions(args: readonly string[]): Options | null {
  let durationMs = DEFAULT_DURATION_MS;
  let clients = DEFAULT_CLIENTS;
  let seed = DEFAULT_SEED;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") return null;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const raw = eq === -1 ? args[++i] : arg.slice(eq + 1);
    const value = Number(raw);
    const number = (what: string, integer: boolean, min: number) => {
      if (
        raw === undefined || raw.trim() === "" || !Number.isFinite(value) ||
        value < min || (integer && !Number.isInteger(value))
      ) {
        throw new UsageError(
          `${name} needs ${
            integer ? "an integer" : "a number"
          } of ${what} (at least ${min}), got ${raw ?? "nothing"}.`,
        );
      }
      return value;
    };
    switch (name) {
      case "--minutes":
        durationMs = number("minutes", false, 0.1) * 60_000;
        break;
      case "--seconds":
        durationMs = number("seconds", false, 5) * 1000;
        break;
      case "--clients":
        clients = number("clients", true, 1);
        break;
      case "--seed":
        seed = number("seed", true, 0);
        break;
      default:
        throw new UsageError(`Unknown option ${arg}.`);
    }
  }
  return { durationMs: Math.round(durationMs), clients, seed };
}
