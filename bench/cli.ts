/** The bench's command line: its flags and what they mean. */

import { type ScenarioName, SCENARIOS } from "./plan.ts";

/** The usage line, printed by --help and after a bad argument. */
export const USAGE =
  "Usage: deno task bench [--quick] [--only idle,fanout,posting,burst,startup] [--cpu-prof <dir>]";

/** What the command line asked for. */
export interface Options {
  quick: boolean;
  only: ScenarioName[];
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
