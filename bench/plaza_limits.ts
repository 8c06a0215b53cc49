/** Plaza's abuse limits, which the bench turns off for its own instances through configuration. */

import { ConfigError, loadConfig } from "../server/config.ts";

/** A limit the bench turns off for its own instances, and how. */
export interface LimitSetting {
  name: string;
  value: string;
  why: string;
}

/**
 * The rate limits and connection caps, turned off. config.ts may learn an
 * `off` value; until it does, huge values do the same. Each variable is
 * tried with "off" first, through Plaza's own config parser.
 */
export function limitsOff(): LimitSetting[] {
  const wanted: [string, string, string][] = [
    [
      "POST_RATE",
      "999999/1s",
      "POSTs per address (posting runs thousands/s); names, edits and reactions use the same budget",
    ],
    [
      "POST_BURST",
      "1000000",
      "POST burst per address (name claims, edits and reactions take from it too)",
    ],
    [
      "AUTH_FAILURE_RATE",
      "999999/1s",
      "wrong name tokens per address (changes sends only right ones; a slip must show as 403s, not 429s)",
    ],
    ["AUTH_FAILURE_BURST", "1000000", "wrong-token burst per address"],
    [
      "STREAMS_PER_ADDRESS",
      "1000000",
      "streams per address (every stream comes from 127.0.0.1)",
    ],
    ["MAX_STREAMS", "10000000", "streams per instance (idle max > 20,000)"],
    ["STREAM_MAX_AGE_MS", "0", "stream lifetime (no reconnects mid-run)"],
    [
      "SLOW_MODE_AUTO",
      "off",
      "automatic slow mode (posting runs far past its threshold)",
    ],
  ];
  const settings = wanted.map(([name, huge, why]) => {
    let value = huge;
    if (huge !== "0") {
      try {
        loadConfig({ [name]: "off" });
        value = "off";
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
      }
    }
    return { name, value, why };
  });
  // With no rate there is no bucket for a burst to size.
  const off = (name: string) =>
    settings.some((l) => l.name === name && l.value === "off");
  return settings.filter((l) =>
    !(l.name.endsWith("_BURST") && off(l.name.replace(/_BURST$/, "_RATE")))
  );
}
