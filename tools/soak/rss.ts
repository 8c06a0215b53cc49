/** The first sample of a run's traffic phase is taken after this warm-up. */
const WARM_UP_MS = 10_000;
const RSS_EVERY_MS = 60_000;

/** One RSS reading of an instance. */
export interface RssSample {
  label: string;
  atS: number;
  kib: number | null;
}

/** What the sampler needs of an instance: its process and where readings go. */
export interface Sampled {
  name: string;
  pid: number;
  exit: unknown;
  rss: RssSample[];
}

/** Takes one labelled reading of every instance, stores it and prints it. */
export type RssSampler = (label: string) => Promise<void>;

async function rssKiB(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** KiB as MiB with one decimal, "?" when unknown. */
export const mib = (kib: number | null): string =>
  kib === null ? "?" : `${(kib / 1024).toFixed(1)} MiB`;

/** A sampler of `instances`' VmRSS, stamped with `elapsedS()`. */
export function createRssSampler(
  instances: readonly Sampled[],
  elapsedS: () => number,
): RssSampler {
  return async (label) => {
    const atS = elapsedS();
    await Promise.all(instances.map(async (i) => {
      i.rss.push({
        label,
        atS,
        kib: i.exit === null ? await rssKiB(i.pid) : null,
      });
    }));
    console.error(
      `t=${atS}s RSS (${label}): ${
        instances.map((i) => `${i.name} ${mib(i.rss.at(-1)?.kib ?? null)}`)
          .join(", ")
      }`,
    );
  };
}

/** Samples after the warm-up and every minute of a traffic phase of `durationMs`; `stop` cancels the rest and waits for those under way. */
export function scheduleRssSamples(
  sample: RssSampler,
  durationMs: number,
): { stop(): Promise<void> } {
  const timers: ReturnType<typeof setTimeout>[] = [];
  const pending: Promise<void>[] = [];
  timers.push(
    setTimeout(
      () => pending.push(sample("start")),
      Math.min(WARM_UP_MS, durationMs / 2),
    ),
  );
  for (let at = RSS_EVERY_MS; at < durationMs; at += RSS_EVERY_MS) {
    const minute = at / 60_000;
    timers.push(
      setTimeout(() => pending.push(sample(`minute ${minute}`)), at),
    );
  }
  return {
    async stop() {
      for (const t of timers) clearTimeout(t);
      await Promise.all(pending);
    },
  };
}

/** The readings a growth figure compares: after the warm-up (else the first) and the last known. */
export function rssSpan(
  samples: readonly RssSample[],
): { start: RssSample | undefined; end: RssSample | null } {
  const start = samples.find((s) => s.label === "start") ?? samples[0];
  const end = samples.findLast((s) => s.kib !== null) ?? null;
  return { start, end };
}
