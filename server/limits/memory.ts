/**
 * How much memory this process may use, for MAX_STREAMS's default
 * (server/config.ts, streamsForMemory): the memory limit of its cgroup
 * (a container's or a systemd unit's) when one is set, else the machine's
 * total. Read with --allow-read alone (no --allow-sys).
 */

/** Reads a text file; injectable for tests. */
export type ReadTextFile = (path: string) => Promise<string>;

// A cgroup v1 "no limit" is the largest page-aligned 64-bit value; anything
// at or above this is no limit at all.
const NO_LIMIT_BYTES = 2 ** 60;

/** Bytes in a cgroup memory limit file (v2 memory.max, v1 memory.limit_in_bytes); null for "max" or no limit. */
export function parseCgroupLimit(text: string): number | null {
  const raw = text.trim();
  if (!/^\d+$/.test(raw)) return null;
  const bytes = Number(raw);
  return bytes > 0 && bytes < NO_LIMIT_BYTES ? bytes : null;
}

/** MemTotal from /proc/meminfo, in bytes; null when absent. */
export function parseMemTotal(meminfo: string): number | null {
  const kb = meminfo.match(/^MemTotal:\s+(\d+) kB/m);
  return kb ? Number(kb[1]) * 1024 : null;
}

/** Where this process's cgroup keeps its memory limit, most specific first. */
export function cgroupLimitPaths(procSelfCgroup: string): string[] {
  const paths: string[] = [];
  for (const line of procSelfCgroup.split("\n")) {
    // v2: "0::/path"; v1: "4:memory:/path".
    const v2 = line.match(/^0::(\/\S*)$/);
    if (v2 && v2[1] !== "/") {
      paths.push(`/sys/fs/cgroup${v2[1]}/memory.max`);
    }
    const v1 = line.match(/^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(\/\S*)$/);
    if (v1 && v1[1] !== "/") {
      paths.push(`/sys/fs/cgroup/memory${v1[1]}/memory.limit_in_bytes`);
    }
  }
  // In a container with its own cgroup namespace the process's cgroup is
  // the root of what it sees.
  paths.push(
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
  );
  return paths;
}

async function readOrNull(
  read: ReadTextFile,
  path: string,
): Promise<string | null> {
  try {
    return await read(path);
  } catch {
    // Not Linux, no such cgroup, or no read permission: unknown.
    return null;
  }
}

/** The memory this process may use, in bytes: its cgroup limit when lower than the machine's total; null when neither can be read. */
export async function availableMemoryBytes(
  read: ReadTextFile = Deno.readTextFile,
): Promise<number | null> {
  const total = parseMemTotal(await readOrNull(read, "/proc/meminfo") ?? "");
  let limit: number | null = null;
  const cgroup = await readOrNull(read, "/proc/self/cgroup") ?? "";
  for (const path of cgroupLimitPaths(cgroup)) {
    const text = await readOrNull(read, path);
    if (text === null) continue;
    // The first file found is this cgroup's: an unlimited one means no
    // limit, not "look further up".
    limit = parseCgroupLimit(text);
    break;
  }
  if (limit === null) return total;
  return total === null ? limit : Math.min(limit, total);
}
