/**
 * `deno run -A bench/stream_memory.ts [--streams 2000] [--target plaza,bare]
 * [--snapshots <dir>] [--env NAME=VALUE …]`
 *
 * What each idle stream keeps, Plaza against the bare broadcaster: starts
 * each server as the bench does (bench/servers.ts, the bench's limits off,
 * Plaza on a throwaway PostgreSQL) with the V8 inspector on, opens streams
 * with the bench's load generators (`?history=0`, read and left idle), and
 * compares the process before and after: RSS from /proc, `Deno.memoryUsage()`
 * after a full GC, and a V8 heap snapshot summed per kind of object (type and
 * constructor or function name), each divided by the number of streams. The
 * heap table is the per-stream accounting in docs/benchmarks.md.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GENERATORS, LoadGenerators } from "./generators.ts";
import { type Target, TARGETS } from "./plan.ts";
import { limitsOff } from "./plaza_limits.ts";
import { rssBytes } from "../test/harness/server_process.ts";
import { plazaEnvironment, startPostgres, startServer } from "./servers.ts";
import { runProgram } from "./teardown.ts";

/** Streams opened and closed before the first sample, so JIT and first allocations are not counted. */
const WARM_UP_STREAMS = 50;
/** Kinds of heap object listed per target, largest change first. */
const TOP_KINDS = 25;
/** How long one inspector command may take (a heap snapshot of 20k streams takes seconds). */
const INSPECTOR_TIMEOUT_MS = 120_000;

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
class Inspector {
  private nextId = 1;
  private waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private chunks: string[] = [];

  private constructor(private ws: WebSocket) {
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.method === "HeapProfiler.addHeapSnapshotChunk") {
        this.chunks.push(msg.params.chunk);
        return;
      }
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(JSON.stringify(msg.error)));
      else w.resolve(msg.result);
    };
  }

  static async connect(httpPort: number): Promise<Inspector> {
    const list = await (await fetch(`http://127.0.0.1:${httpPort}/json/list`))
      .json() as { webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return new Inspector(ws);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${method}: no answer`)),
        INSPECTOR_TIMEOUT_MS,
      );
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async memoryUsage(): Promise<Deno.MemoryUsage> {
    await this.call("HeapProfiler.collectGarbage");
    const r = await this.call<{ result: { value: string } }>(
      "Runtime.evaluate",
      {
        expression: "JSON.stringify(Deno.memoryUsage())",
        returnByValue: true,
      },
    );
    return JSON.parse(r.result.value);
  }

  async heapSnapshot(): Promise<string> {
    this.chunks = [];
    await this.call("HeapProfiler.takeHeapSnapshot", {
      reportProgress: false,
    });
    const text = this.chunks.join("");
    this.chunks = [];
    return text;
  }

  close() {
    this.ws.close();
  }
}

/** Heap objects summed per kind: "type name" → count and self bytes. */
type HeapSummary = Map<string, { count: number; bytes: number }>;

function summarise(snapshotText: string): HeapSummary {
  const snap = JSON.parse(snapshotText);
  const fields: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const nodes: number[] = snap.nodes;
  const strings: string[] = snap.strings;
  const out: HeapSummary = new Map();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    // Strings and numbers are named by their value: one kind each.
    const named = type === "object" || type === "closure" ||
      type === "hidden" || type === "native" || type === "array" ||
      type === "code" || type === "object shape";
    const key = named
      ? `${type} ${strings[nodes[i + iName]].slice(0, 60)}`
      : type;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

interface Sample {
  rss: number;
  memory: Deno.MemoryUsage;
  heap: HeapSummary;
}

async function sample(
  pid: number,
  inspector: Inspector,
  dir: string | null,
  name: string,
): Promise<Sample> {
  const memory = await inspector.memoryUsage();
  // RSS before the snapshot, which leaves memory of its own behind.
  const rss = await rssBytes(pid);
  const text = await inspector.heapSnapshot();
  if (dir !== null) await Deno.writeTextFile(join(dir, name), text);
  return { rss, memory, heap: summarise(text) };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const kb = (bytes: number, n: number) => (bytes / n / 1024).toFixed(2);

async function measureTarget(
  target: Target,
  env: Record<string, string>,
  generators: LoadGenerators,
  n: number,
  dir: string | null,
) {
  const inspectPort = freePort();
  const server = await startServer(target, env, null, [
    `--inspect=127.0.0.1:${inspectPort}`,
  ]);
  const inspector = await Inspector.connect(inspectPort);
  try {
    await generators.openStreams(server.port, WARM_UP_STREAMS, 1);
    await generators.closeStreams();
    await sleep(500);
    const before = await sample(
      server.pid,
      inspector,
      dir,
      `${target}-0.heapsnapshot`,
    );
    const opened = await generators.openStreams(server.port, n, GENERATORS);
    if (opened.failed > 0) {
      throw new Error(`${opened.failed} streams did not open`);
    }
    await sleep(1_000);
    const after = await sample(
      server.pid,
      inspector,
      dir,
      `${target}-${n}.heapsnapshot`,
    );
    const m = (k: keyof Deno.MemoryUsage) => after.memory[k] - before.memory[k];
    console.log(
      `\n## ${target}: ${opened.opened} idle streams, per stream (KB): RSS ${
        kb(after.rss - before.rss, n)
      }, JS heap used ${kb(m("heapUsed"), n)}, heap total ${
        kb(m("heapTotal"), n)
      }, external ${kb(m("external"), n)}`,
    );
    const rows = [...new Set([...before.heap.keys(), ...after.heap.keys()])]
      .map((key) => {
        const a = before.heap.get(key) ?? { count: 0, bytes: 0 };
        const b = after.heap.get(key) ?? { count: 0, bytes: 0 };
        return { key, count: b.count - a.count, bytes: b.bytes - a.bytes };
      })
      .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
    let total = 0;
    for (const r of rows) total += r.bytes;
    console.log(
      `heap snapshot, self size per stream: ${(total / n).toFixed(0)} B`,
    );
    console.log("objects/stream  bytes/stream  kind");
    for (const r of rows.slice(0, TOP_KINDS)) {
      console.log(
        `${(r.count / n).toFixed(2).padStart(14)}  ${
          (r.bytes / n).toFixed(0).padStart(12)
        }  ${r.key}`,
      );
    }
    await generators.closeStreams();
  } finally {
    inspector.close();
    await server.stop();
  }
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      streams: { type: "string", default: "2000" },
      target: { type: "string", default: TARGETS.join(",") },
      snapshots: { type: "string" },
      // NAME=VALUE, repeatable: Plaza's environment beyond the bench's,
      // e.g. STREAM_MAX_AGE_MS=1800000 for the default per-stream age.
      env: { type: "string", multiple: true, default: [] },
    },
  });
  const n = Number(values.streams);
  const targets = values.target.split(",") as Target[];
  const dir = values.snapshots ?? null;
  if (dir !== null) await Deno.mkdir(dir, { recursive: true });
  console.log(
    `# bench/stream_memory.ts — ${
      new Date().toISOString()
    }, ${n} streams, load average ${
      (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(
        " ",
      )
    }`,
  );
  const tmp = await Deno.makeTempDir({ prefix: "plaza-memory-" });
  try {
    const cluster = await startPostgres();
    const env = await plazaEnvironment(cluster, tmp, limitsOff());
    for (const pair of values.env) {
      const at = pair.indexOf("=");
      if (at < 1) throw new Error(`--env wants NAME=VALUE, not ${pair}`);
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const generators = await LoadGenerators.start();
    for (const target of targets) {
      await measureTarget(target, env, generators, n, dir);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

await runProgram("stream_memory", main);
