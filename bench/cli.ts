/** The bench's command line: its flags and what they mean. */

import { type ScenarioName, SCENARIOS } from "./plan.ts";

/** The usage line, printed by --help and after a bad argument. */
export const USAGE =
  "Usage: deno task bench [--quick] [--only idle,fanout,posting,changes,burst,startup,uploads] [--fanout-streams 1000,2000,…] [--cpu-prof <dir>]";

/** The most streams one fan-out N may ask for (the file limits stop far below). */
const MAX_FANOUT_STREAMS = 1_000_000;

/** What the command line asked for. */
export interface Options {
  quick: boolean;
  only: ScenarioName[];
  /** The fan-out sweep's N, in order; null = the plan's own list. */
  fanoutStreams: number[] | null;
  /** Where servers write V8 CPU profiles; null = no profiles. */
  cpuProfDir: string | null;
  /** --help: print the usage and do nothing else. */
  help: boolean;
}

/** Reads the flags; throws an Error whose message ends with the usage on a bad one. */
export function parseArgs(args: string[]): Options {
  const options: Options = {
    quick: false,
    only: [...SCENARIOS],
    fanoutStreams: null,
    cpuProfDir: null,
    help: false,
  };
  // Both "--flag value" and "--flag=value".
  const value = (i: number, flag: string): [string | undefined, number] =>
    args[i] === flag
      ? [args[i + 1], i + 1]
      : [args[i].slice(flag.length + 1), i];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") options.quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const [text, next] = value(i, "--only");
      i = next;
      const names = list(text);
      const bad = names.filter((n) => !SCENARIOS.includes(n as ScenarioName));
      if (names.length === 0 || bad.length > 0) {
        throw new Error(
          `unknown scenario ${bad.join(", ") || "(none)"}\n${USAGE}`,
        );
      }
      options.only = names as ScenarioName[];
    } else if (
      a === "--fanout-streams" || a.startsWith("--fanout-streams=")
    ) {
      const [text, next] = value(i, "--fanout-streams");
      i = next;
      options.fanoutStreams = streamCounts(text);
    } else if (a === "--cpu-prof") {
      const dir = args[++i];
      if (!dir) throw new Error(`--cpu-prof needs a directory\n${USAGE}`);
      options.cpuProfDir = dir;
    } else if (a === "--help" || a === "-h") {
      options.help = true;
      return options;
    } else {
      throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return options;
}

function list(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s);
}

/** "1000,2000" → [1000, 2000]: whole numbers from 1 to MAX_FANOUT_STREAMS, each once. */
function streamCounts(text: string | undefined): number[] {
  const items = list(text);
  if (items.length === 0) {
    throw new Error(
      `--fanout-streams needs a list of stream counts, e.g. 1000,5000\n${USAGE}`,
    );
  }
  const counts = items.map((item) => {
    const n = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!(n >= 1 && n <= MAX_FANOUT_STREAMS)) {
      throw new Error(
        `--fanout-streams: "${item}" is not a stream count from 1 to ${MAX_FANOUT_STREAMS}\n${USAGE}`,
      );
    }
    return n;
  });
  const twice = counts.find((n, i) => counts.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new Error(`--fanout-streams: ${twice} is listed twice\n${USAGE}`);
  }
  return counts;
}
