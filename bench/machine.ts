/** The machine a run is on, printed at the top and written to the results. */

import { round1 } from "./format.ts";
import { setClockTicks } from "./proc_stats.ts";

/** Date, cores, memory, CPU, kernel, Deno and file limits of this run. */
export interface MachineInfo {
  date: string;
  nproc: number;
  memoryGiB: number;
  cpu: string;
  kernel: string;
  deno: string;
  v8: string;
  /** Soft file limit of this shell and hard limit, from `ulimit`. */
  fdLimits: { soft: string; hard: string };
}

/** Reads the machine's description (and sets the clock tick used for CPU figures). */
export async function describeMachine(): Promise<MachineInfo> {
  const run = async (cmd: string) => {
    const out = await new Deno.Command("sh", {
      args: ["-c", cmd],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  const [limits, nproc, ticks, meminfo, cpuinfo] = await Promise.all([
    run("ulimit -Sn; ulimit -Hn"),
    run("nproc"),
    run("getconf CLK_TCK"),
    Deno.readTextFile("/proc/meminfo").catch(() => ""),
    Deno.readTextFile("/proc/cpuinfo").catch(() => ""),
  ]);
  setClockTicks(Number(ticks) || 100);
  const [soft, hard] = limits.split("\n");
  const memKb = Number(meminfo.match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  return {
    date: new Date().toISOString(),
    nproc: Number(nproc),
    memoryGiB: round1(memKb / 2 ** 20),
    cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown",
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    fdLimits: { soft, hard },
  };
}
