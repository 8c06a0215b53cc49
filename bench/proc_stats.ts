/** Memory, file descriptors and CPU of processes and of the machine, from /proc. */

import { rssBytes } from "../test/harness/server_process.ts";

/** Memory, file descriptors and CPU time of a process, from /proc. */
export interface ProcSample {
  rss: number;
  fds: number;
  fdLimit: number;
  cpuTicks: number;
}

let clockTicks = 100;

/** Sets the kernel's clock ticks per second (`getconf CLK_TCK`), the unit of CPU times in /proc. */
export function setClockTicks(ticks: number) {
  clockTicks = ticks;
}

/** Reads one sample of process `pid`. */
export async function sampleProcess(pid: number): Promise<ProcSample> {
  const [rss, limits, stat] = await Promise.all([
    rssBytes(pid),
    Deno.readTextFile(`/proc/${pid}/limits`),
    Deno.readTextFile(`/proc/${pid}/stat`),
  ]);
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  const soft = limits.match(/^Max open files\s+(\S+)/m)?.[1] ?? "0";
  // Fields after the command name, which may hold spaces: utime, stime are 14, 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rss,
    fds,
    fdLimit: soft === "unlimited" ? 1_048_576 : Number(soft),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

/** CPU used between two samples, in % of one core. */
export function cpuPercent(
  before: ProcSample,
  after: ProcSample,
  wallMs: number,
): number {
  const ms = ((after.cpuTicks - before.cpuTicks) * 1000) / clockTicks;
  return wallMs > 0 ? Math.round((ms / wallMs) * 100) : 0;
}

/** Busy and total jiffies of all CPUs, from the first line of /proc/stat. */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const first = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
  const t = first.trim().split(/\s+/).slice(1).map(Number);
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  // idle and iowait are the not-busy ones.
  return { busy: total - t[3] - t[4], total };
}

/** Runs `fn`, measuring the server's CPU (% of a core) and the machine's (% of all cores) meanwhile. */
export async function withCpu<T>(
  server: { pid: number },
  fn: () => Promise<T>,
): Promise<{ value: T; serverCpu: number; machineCpu: number }> {
  const [before, box0] = await Promise.all([
    sampleProcess(server.pid),
    machineTicks(),
  ]);
  const t0 = performance.now();
  const value = await fn();
  const [after, box1] = await Promise.all([
    sampleProcess(server.pid),
    machineTicks(),
  ]);
  const total = box1.total - box0.total;
  return {
    value,
    serverCpu: cpuPercent(before, after, performance.now() - t0),
    machineCpu: total > 0
      ? Math.round(((box1.busy - box0.busy) / total) * 100)
      : 0,
  };
}
