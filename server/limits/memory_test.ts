import assert from "node:assert/strict";
import {
  availableMemoryBytes,
  cgroupLimitPaths,
  parseCgroupLimit,
  parseMemTotal,
} from "./memory.ts";

const MiB = 1024 * 1024;
const MEMINFO = "MemTotal:       24683748 kB\nMemFree:         1000 kB\n";

function files(map: Record<string, string>) {
  return (path: string) =>
    path in map
      ? Promise.resolve(map[path])
      : Promise.reject(new Deno.errors.NotFound(path));
}

Deno.test("the memory a process may use: its cgroup's limit (v2 or v1) when lower than the machine's, else the machine's total", async () => {
  const total = 24683748 * 1024;
  // cgroup v2 in a container (its own namespace: the root is its cgroup).
  assert.equal(
    await availableMemoryBytes(files({
      "/proc/meminfo": MEMINFO,
      "/proc/self/cgroup": "0::/\n",
      "/sys/fs/cgroup/memory.max": "805306368\n",
    })),
    768 * MiB,
  );
  // cgroup v2 under systemd: the process's own cgroup first.
  assert.equal(
    await availableMemoryBytes(files({
      "/proc/meminfo": MEMINFO,
      "/proc/self/cgroup": "0::/system.slice/plaza.service\n",
      "/sys/fs/cgroup/system.slice/plaza.service/memory.max": "536870912\n",
      "/sys/fs/cgroup/memory.max": "max\n",
    })),
    512 * MiB,
  );
  // No limit ("max", or v1's huge number): the machine's total.
  assert.equal(
    await availableMemoryBytes(files({
      "/proc/meminfo": MEMINFO,
      "/proc/self/cgroup": "0::/\n",
      "/sys/fs/cgroup/memory.max": "max\n",
    })),
    total,
  );
  assert.equal(
    await availableMemoryBytes(files({
      "/proc/meminfo": MEMINFO,
      "/proc/self/cgroup": "4:memory:/process_api/abc\n0::/\n",
      "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes":
        "9223372036854771712\n",
    })),
    total,
  );
  // A limit above the machine's memory is the machine's memory.
  assert.equal(
    await availableMemoryBytes(files({
      "/proc/meminfo": "MemTotal: 1048576 kB\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": String(4096 * MiB),
    })),
    1024 * MiB,
  );
  // Nothing readable (not Linux, no permission): unknown.
  assert.equal(await availableMemoryBytes(files({})), null);
});

Deno.test("cgroup and meminfo files are parsed strictly", () => {
  assert.equal(parseCgroupLimit("max\n"), null);
  assert.equal(parseCgroupLimit("0"), null);
  assert.equal(parseCgroupLimit("nonsense"), null);
  assert.equal(parseCgroupLimit(" 1048576 \n"), MiB);
  assert.equal(parseMemTotal("MemFree: 1 kB\n"), null);
  assert.equal(parseMemTotal(MEMINFO), 24683748 * 1024);
  assert.deepEqual(cgroupLimitPaths("0::/\n"), [
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
  ]);
  assert.deepEqual(cgroupLimitPaths("7:cpu,memory:/docker/x\n"), [
    "/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes",
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
  ]);
});
