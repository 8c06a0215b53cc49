/**
 * `deno task bench [--quick] [--only idle,fanout,posting,burst,startup]`
 *
 * Starts a throwaway PostgreSQL, a Plaza instance on it and the bare
 * `Deno.serve` broadcaster (bench/bare_broadcaster.ts), and drives both with
 * the same load from separate load-generator processes
 * (bench/load_generator.ts). Prints one table row per scenario and target,
 * the ratio Plaza/bare, and a summary with the targets of issue 5; writes
 * everything to bench/results/bench-<date>.json. All on 127.0.0.1, bounded
 * in time, and every process and the cluster are stopped on exit, error,
 * Ctrl-C or SIGTERM. Method and figures: docs/benchmarks.md.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../server/config.ts";
import {
  createTestDatabase,
  type PgCluster,
  startPgCluster,
} from "../server/testing/pg_cluster.ts";
import {
  rssBytes,
  type ServerProcess,
  startListening,
} from "../server/testing/server_process.ts";
import { type Distribution, Histogram } from "./histogram.ts";
import type {
  CloseResult,
  CollectResult,
  GeneratorCommand,
  GeneratorCost,
  GeneratorReply,
  OpenResult,
  PostResult,
  PostStats,
  SendResult,
} from "./load_generator.ts";

const USAGE =
  "Usage: deno task bench [--quick] [--only idle,fanout,posting,burst,startup] [--cpu-prof <dir>]";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PLAZA_MAIN = join(ROOT, "server", "main.ts");
const BARE = join(ROOT, "bench", "bare_broadcaster.ts");
const GENERATOR = join(ROOT, "bench", "load_generator.ts");
const RESULTS_DIR = join(ROOT, "bench", "results");

/** The whole run is torn down past this, whatever it is doing. */
const TOTAL_TIMEOUT_MS = 9 * 60_000;
/** Generator processes; two, so the largest idle case is not capped by one process's file limit. */
const GENERATORS = 2;
/** Streams each generator connects at once. */
const CONNECT_CONCURRENCY = 256;
/** File descriptors left free in each process beside the streams (database, pipes, listener, V8). */
const FD_MARGIN = 64;
/** Children get the hard file limit as their soft one, where the OS allows. */
const RAISE_FD_LIMIT = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

type ScenarioName = "idle" | "fanout" | "posting" | "burst" | "startup";
const SCENARIOS: ScenarioName[] = [
  "idle",
  "fanout",
  "posting",
  "burst",
  "startup",
];
type Target = "plaza" | "bare";
const TARGETS: Target[] = ["plaza", "bare"];

/** Sizes of one run; --quick shrinks them for development and smoke tests. */
interface Plan {
  idleCounts: number[];
  idleMax: boolean;
  fanoutCounts: number[];
  fanoutMessages: number;
  fanoutRate: number;
  postingConcurrency: number[];
  postingMs: number;
  burstStreams: number;
  burstMessages: number;
  burstConcurrency: number;
  startupRuns: number;
}

const FULL: Plan = {
  idleCounts: [1_000, 10_000],
  idleMax: true,
  fanoutCounts: [1_000, 10_000],
  fanoutMessages: 200,
  fanoutRate: 20,
  postingConcurrency: [16, 64],
  postingMs: 8_000,
  burstStreams: 10_000,
  burstMessages: 100,
  burstConcurrency: 16,
  startupRuns: 3,
};

const QUICK: Plan = {
  idleCounts: [200, 1_000],
  idleMax: false,
  fanoutCounts: [200, 1_000],
  fanoutMessages: 40,
  fanoutRate: 20,
  postingConcurrency: [16, 64],
  postingMs: 2_000,
  burstStreams: 1_000,
  burstMessages: 50,
  burstConcurrency: 16,
  startupRuns: 1,
};

// ------------------------------------------------------------ bookkeeping

/** One (scenario, case, target) measurement. */
interface Row {
  scenario: ScenarioName;
  /** e.g. "N=10,000" or "c=16"; rows with the same case are compared. */
  case: string;
  target: Target;
  figures: Record<string, number | string>;
  /** Highest generator CPU over the row's commands, in % of one core; null = no generator used. */
  generatorCpuPercent: number | null;
  /** Server CPU over the measured part, in % of one core. */
  serverCpuPercent: number | null;
  /** The whole machine's CPU over the measured part, in % of all cores. */
  machineCpuPercent: number | null;
  error?: string;
  raw?: unknown;
}

/** How a scenario's figures are shown. */
interface Column {
  key: string;
  label: string;
  /** Whether Plaza/bare means something for this figure. */
  ratio?: boolean;
}

/** What a measurement returns; the runner adds where it belongs. */
type RowBody =
  & Omit<
    Row,
    | "scenario"
    | "case"
    | "target"
    | "generatorCpuPercent"
    | "serverCpuPercent"
    | "machineCpuPercent"
  >
  & {
    generatorCpuPercent?: number | null;
    serverCpuPercent?: number | null;
    machineCpuPercent?: number | null;
  };

const COLUMNS: Record<ScenarioName, Column[]> = {
  idle: [
    { key: "opened", label: "streams" },
    { key: "connectMs", label: "connect ms", ratio: true },
    { key: "rssBeforeMiB", label: "RSS before MiB" },
    { key: "rssAfterMiB", label: "RSS after MiB" },
    { key: "kbPerStream", label: "KB/stream", ratio: true },
    { key: "fdLimit", label: "fd limit" },
  ],
  fanout: [
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "max", label: "max ms", ratio: true },
    { key: "lastP50", label: "last client p50", ratio: true },
    { key: "lastMax", label: "last client max", ratio: true },
    { key: "lost", label: "lost" },
    { key: "late", label: "late" },
    { key: "dup", label: "dup" },
    { key: "ooo", label: "out of order" },
  ],
  posting: [
    { key: "perSecond", label: "msg/s", ratio: true },
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "non201", label: "non-201" },
    { key: "ordering", label: "order check" },
  ],
  burst: [
    { key: "perSecond", label: "deliveries/s", ratio: true },
    { key: "spanMs", label: "span ms", ratio: true },
    { key: "p50", label: "p50 ms", ratio: true },
    { key: "p99", label: "p99 ms", ratio: true },
    { key: "lost", label: "lost" },
    { key: "late", label: "late" },
    { key: "dup", label: "dup" },
  ],
  startup: [
    { key: "medianMs", label: "median ms", ratio: true },
    { key: "runs", label: "runs ms" },
    { key: "firstMs", label: "first start ms" },
  ],
};

const rows: Row[] = [];
/** Set once the run is being torn down (signal, watchdog or the end). */
let exiting = false;
const cleanups = new Set<() => Promise<void>>();
const started = performance.now();
const enc = new TextEncoder();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fmt(n: number): string {
  return Number.isInteger(n)
    ? n.toLocaleString("en-US")
    : n.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0)} s`;
}

function note(text: string) {
  // Once stopping, failures are the teardown's, not the servers'.
  if (exiting) return;
  console.log(`  · ${text}`);
}

/** Runs every registered cleanup once, newest first. */
async function cleanUp() {
  // Each entry removes itself from the set when it runs.
  for (const fn of [...cleanups].reverse()) await fn().catch(() => {});
}

function track(fn: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    if (!cleanups.delete(once)) return;
    await fn();
  };
  cleanups.add(once);
  return once;
}

// ------------------------------------------------------------ processes

/** Memory, file descriptors and CPU time of a process, from /proc. */
interface ProcSample {
  rss: number;
  fds: number;
  fdLimit: number;
  cpuTicks: number;
}

let clockTicks = 100;

async function sampleProcess(pid: number): Promise<ProcSample> {
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

function cpuPercent(
  before: ProcSample,
  after: ProcSample,
  wallMs: number,
): number {
  const ms = ((after.cpuTicks - before.cpuTicks) * 1000) / clockTicks;
  return wallMs > 0 ? Math.round((ms / wallMs) * 100) : 0;
}

/** Environment passed to children: only what Deno needs to find its cache. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A running server under test. */
interface Server {
  target: Target;
  port: number;
  pid: number;
  process: ServerProcess;
  stop(): Promise<void>;
}

/** Set by --cpu-prof: servers write V8 CPU profiles there when they exit. */
let profileDir: string | null = null;

async function startServer(
  target: Target,
  env: Record<string, string>,
): Promise<Server> {
  const profile = profileDir === null ? [] : [
    "--cpu-prof",
    `--cpu-prof-dir=${profileDir}`,
    `--cpu-prof-name=${target}-${Date.now()}.cpuprofile`,
  ];
  const args = target === "plaza"
    ? [
      "-c",
      RAISE_FD_LIMIT,
      Deno.execPath(),
      "run",
      ...profile,
      "--allow-all",
      PLAZA_MAIN,
    ]
    : [
      "-c",
      RAISE_FD_LIMIT,
      Deno.execPath(),
      "run",
      ...profile,
      "--allow-net",
      BARE,
      "0",
    ];
  const process = await startListening("sh", args, {
    env: { ...baseEnv(), ...(target === "plaza" ? env : {}) },
    clearEnv: true,
    cwd: ROOT,
  });
  let stopping = false;
  // A server that dies mid-run says why at once, not as a row of
  // "connection refused" later.
  process.child.status.then(async (status) => {
    if (stopping) return;
    const stderr = (await process.stderr).trim().split("\n").slice(-15);
    // Plaza exits 0 only after SIGINT/SIGTERM, which the bench had not sent.
    const why = target === "plaza" && status.code === 0
      ? " — a clean shutdown: something outside the bench sent it SIGINT or SIGTERM"
      : "";
    note(
      `${target} (pid ${process.pid}) exited with code ${status.code}${
        status.signal ? ` (${status.signal})` : ""
      }${why}; its last words:\n      ${stderr.join("\n      ")}`,
    );
  });
  const stop = track(async () => {
    stopping = true;
    // Streams are closed by the generators first, so SIGTERM finishes fast;
    // a server that hangs anyway is killed.
    const done = process.stop();
    const late = setTimeout(() => process.kill(), 5_000);
    await done.finally(() => clearTimeout(late));
  });
  return {
    target,
    port: Number(new URL(process.url).port),
    pid: process.pid,
    process,
    stop,
  };
}

/** One load-generator process and its JSON-lines channel. */
class Generator {
  private nextId = 1;
  private waiting = new Map<number, (reply: GeneratorReply) => void>();
  private stderrTail = "";
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly exited: Promise<void>;
  readonly stop: () => Promise<void>;

  private constructor(readonly child: Deno.ChildProcess) {
    this.writer = child.stdin.getWriter();
    const out = this.readReplies();
    const err = this.readStderr();
    this.exited = (async () => {
      await child.status;
      await Promise.all([out, err]);
      for (const [, resolve] of this.waiting) {
        resolve({
          id: 0,
          ok: false,
          error: `load generator exited: ${this.stderrTail.trim()}`,
          cost: { cpuMs: 0, wallMs: 0, cpuPercent: 0 },
        });
      }
      this.waiting.clear();
    })();
    this.stop = track(async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await this.exited;
      await this.writer.close().catch(() => {});
    });
  }

  static start(): Generator {
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        RAISE_FD_LIMIT,
        Deno.execPath(),
        "run",
        "--allow-net=127.0.0.1",
        GENERATOR,
      ],
      env: baseEnv(),
      clearEnv: true,
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Generator(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Sends a command; throws on an error reply or after `timeoutMs`. */
  async call<T>(
    cmd: GeneratorCommand,
    timeoutMs: number,
  ): Promise<{ result: T; cost: GeneratorCost }> {
    const id = this.nextId++;
    const reply = new Promise<GeneratorReply>((resolve) =>
      this.waiting.set(id, resolve)
    );
    await this.writer.write(enc.encode(JSON.stringify({ id, ...cmd }) + "\n"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([
      reply,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (answer === null) {
      this.waiting.delete(id);
      throw new GeneratorTimeout(
        `load generator ${this.pid}: "${cmd.op}" took over ${timeoutMs} ms`,
      );
    }
    if (!answer.ok) throw new Error(answer.error);
    return { result: answer.result as T, cost: answer.cost };
  }

  private async readReplies() {
    let pending = "";
    const text = this.child.stdout.pipeThrough(new TextDecoderStream());
    for await (const chunk of text) {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const reply = JSON.parse(line) as GeneratorReply;
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      }
    }
  }

  private async readStderr() {
    const text = this.child.stderr.pipeThrough(new TextDecoderStream());
    for await (const chunk of text) {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    }
  }
}

class GeneratorTimeout extends Error {
  override name = "GeneratorTimeout";
}

let generators: Generator[] = [];

async function startGenerators() {
  generators = Array.from({ length: GENERATORS }, () => Generator.start());
  // The first command also proves each one started (and compiled).
  await Promise.all(generators.map((g) => g.call({ op: "close" }, 60_000)));
}

/** Closes every stream; a generator that does not answer is replaced. */
async function closeStreams() {
  await Promise.all(generators.map(async (g, i) => {
    try {
      const { result } = await g.call<CloseResult>({ op: "close" }, 30_000);
      if (result.strayOutsideRounds > 0) {
        note(
          `generator ${i}: ${result.strayOutsideRounds} message events outside any round`,
        );
      }
    } catch {
      await g.stop();
      generators[i] = Generator.start();
      await generators[i].call({ op: "close" }, 60_000);
    }
  }));
}

/** Opens `count` streams spread over the first `spread` generators. */
async function openStreams(
  port: number,
  count: number,
  spread: number,
): Promise<{ opened: number; failed: number; ms: number; cpu: number }> {
  const used = generators.slice(0, spread);
  const t0 = performance.now();
  const replies = await Promise.all(used.map((g, i) => {
    const share = Math.floor(count / used.length) +
      (i < count % used.length ? 1 : 0);
    return g.call<OpenResult>({
      op: "open",
      port,
      count: share,
      concurrency: CONNECT_CONCURRENCY,
      timeoutMs: 60_000 + share * 2,
    }, 90_000 + share * 2);
  }));
  const ms = Math.round(performance.now() - t0);
  const opened = replies.reduce((n, r) => n + r.result.opened, 0);
  const failed = replies.reduce((n, r) => n + r.result.failed, 0);
  for (const r of replies) {
    for (const [error, n] of Object.entries(r.result.errors)) {
      note(`open: ${n} × ${error}`);
    }
  }
  return {
    opened,
    failed,
    ms,
    cpu: Math.max(...replies.map((r) => r.cost.cpuPercent)),
  };
}

// ------------------------------------------------------------ Plaza's limits

/** A limit the bench turns off for its own instances, and how. */
interface LimitSetting {
  name: string;
  value: string;
  why: string;
}

/**
 * The rate limits and connection caps, turned off. config.ts may learn an
 * `off` value; until it does, huge values do the same. Each variable is
 * tried with "off" first, through Plaza's own config parser.
 */
function limitsOff(): LimitSetting[] {
  const wanted: [string, string, string][] = [
    ["POST_RATE", "999999/1s", "POSTs per address (posting runs thousands/s)"],
    ["POST_BURST", "1000000", "POST burst per address"],
    [
      "STREAMS_PER_ADDRESS",
      "1000000",
      "streams per address (every stream comes from 127.0.0.1)",
    ],
    ["MAX_STREAMS", "10000000", "streams per instance (idle max > 20,000)"],
    ["STREAM_MAX_AGE_MS", "0", "stream lifetime (no reconnects mid-run)"],
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
  const rateOff = settings.some((l) =>
    l.name === "POST_RATE" && l.value === "off"
  );
  return settings.filter((l) => !(rateOff && l.name === "POST_BURST"));
}

// ------------------------------------------------------------ scenarios

interface Context {
  plan: Plan;
  plazaEnv: Record<string, string>;
  cluster: PgCluster;
  /** Long-lived instances for fan-out, posting and burst. */
  servers: Record<Target, Server> | null;
  /** Soft file limit of this shell and hard limit, from `ulimit`. */
  fdLimits: { soft: string; hard: string };
  maxStreams?: { count: number; limitedBy: string };
  tmp: string;
}

function addRow(
  row: RowBody & Pick<Row, "scenario" | "case" | "target">,
) {
  const full: Row = {
    generatorCpuPercent: null,
    serverCpuPercent: null,
    machineCpuPercent: null,
    ...row,
  };
  if (exiting) return;
  rows.push(full);
  printRow(full);
  if ((full.generatorCpuPercent ?? 0) >= 90) {
    note(
      `a load generator used ${full.generatorCpuPercent} % of a core: it may be the bottleneck of this row`,
    );
  }
  if ((full.machineCpuPercent ?? 0) >= 90) {
    note(
      `the machine's CPUs were ${full.machineCpuPercent} % busy: latencies include waiting for a core`,
    );
  }
}

/** Runs one row, turning a failure into an error row; streams are always closed after. */
async function measure(
  scenario: ScenarioName,
  caseName: string,
  target: Target,
  fn: () => Promise<RowBody>,
) {
  try {
    const row = await fn();
    addRow({ scenario, case: caseName, target, ...row });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    addRow({
      scenario,
      case: caseName,
      target,
      figures: {},
      error: message,
    });
  } finally {
    await closeStreams();
  }
}

async function idle(ctx: Context) {
  printHeader(
    "idle",
    "N open streams (fresh server per row): memory per stream and time to connect them all",
  );
  const counts: (number | "max")[] = [...ctx.plan.idleCounts];
  if (ctx.plan.idleMax) counts.push("max");
  for (const wanted of counts) {
    let n = typeof wanted === "number" ? wanted : 0;
    for (const target of TARGETS) {
      let server: Server | null = null;
      const caseName = wanted === "max" ? "N=max" : `N=${fmt(n)}`;
      await measure("idle", caseName, target, async () => {
        server = await startServer(target, ctx.plazaEnv);
        // Warm up the code paths (JIT, first allocations) so they do not
        // count as per-stream memory.
        await openStreams(server.port, 50, 1);
        await closeStreams();
        await sleep(500);
        const before = await sampleProcess(server.pid);
        if (wanted === "max" && ctx.maxStreams === undefined) {
          ctx.maxStreams = await maxStreams(before);
          note(
            `max = ${
              fmt(ctx.maxStreams.count)
            } streams, limited by ${ctx.maxStreams.limitedBy}`,
          );
        }
        if (wanted === "max") n = ctx.maxStreams!.count;
        const opened = await openStreams(server.port, n, GENERATORS);
        await sleep(1_000);
        const after = await sampleProcess(server.pid);
        const figures: Record<string, number | string> = {
          requested: n,
          opened: opened.opened,
          failed: opened.failed,
          connectMs: opened.ms,
          rssBeforeMiB: round1(before.rss / 2 ** 20),
          rssAfterMiB: round1(after.rss / 2 ** 20),
          kbPerStream: opened.opened > 0
            ? round1((after.rss - before.rss) / opened.opened / 1024)
            : 0,
          fdLimit: after.fdLimit,
          serverFds: after.fds,
        };
        if (wanted === "max") figures.limitedBy = ctx.maxStreams!.limitedBy;
        return {
          figures,
          generatorCpuPercent: opened.cpu,
          serverCpuPercent: null,
          error: opened.failed > 0
            ? `${opened.failed} of ${n} streams did not open`
            : undefined,
        };
      });
      if (server !== null) await (server as Server).stop();
    }
  }
}

/** How many streams "max" means: the smallest of what the server, the generators and the port range allow. */
async function maxStreams(
  server: ProcSample,
): Promise<{ count: number; limitedBy: string }> {
  const bounds: [number, string][] = [[
    server.fdLimit - server.fds - FD_MARGIN,
    `server file limit ${fmt(server.fdLimit)} (${server.fds} fds in use)`,
  ]];
  let generatorRoom = 0;
  for (const g of generators) {
    const s = await sampleProcess(g.pid);
    generatorRoom += s.fdLimit - s.fds - FD_MARGIN;
  }
  bounds.push([
    generatorRoom,
    `${GENERATORS} generators' file limits`,
  ]);
  try {
    const [low, high] = (await Deno.readTextFile(
      "/proc/sys/net/ipv4/ip_local_port_range",
    )).trim().split(/\s+/).map(Number);
    bounds.push([high - low - 1_000, `ephemeral ports ${low}–${high}`]);
  } catch {
    // Not Linux: no port bound known.
  }
  bounds.sort((a, b) => a[0] - b[0]);
  return { count: Math.max(0, bounds[0][0]), limitedBy: bounds[0][1] };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Busy and total jiffies of all CPUs, from the first line of /proc/stat. */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const first = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
  const t = first.trim().split(/\s+/).slice(1).map(Number);
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  // idle and iowait are the not-busy ones.
  return { busy: total - t[3] - t[4], total };
}

async function withCpu<T>(
  server: Server,
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

/** A fan-out or burst round, merged over every generator. */
interface RoundResult {
  streams: number;
  messages: number;
  expected: number;
  received: number;
  lost: number;
  late: number;
  duplicates: number;
  outOfOrder: number;
  stray: number;
  streamsEnded: number;
  /** Deliveries that seemed to arrive before their POST: clocks disagree. */
  negative: number;
  latency: Distribution;
  /** Per message: first POST byte written → parsed by the last stream. */
  lastClient: Distribution;
  incompleteMessages: number;
  spanMs: number;
  deliveriesPerSecond: number;
  posts: PostStats;
  /** Highest CPU of one generator over the round, % of a core. */
  generatorCpuPercent: number;
}

let roundCounter = 0;

/**
 * Every generator tracks its streams, the first one posts, and all of them
 * report arrivals against the send times; deliveries past `timeoutMs` after
 * the first POST count as late while they keep coming, then as lost.
 */
async function deliverRound(
  port: number,
  messages: number,
  rate: number | null,
  concurrency: number,
  timeoutMs: number,
): Promise<RoundResult> {
  const round = ++roundCounter;
  await Promise.all(
    generators.map((g) => g.call({ op: "track", round, messages }, 30_000)),
  );
  const sent = await generators[0].call<SendResult>({
    op: "send",
    port,
    round,
    messages,
    rate,
    concurrency,
    timeoutMs,
  }, timeoutMs + 30_000);
  const sentAt = sent.result.sentAt;
  const times = sentAt.filter((t): t is number => t !== null);
  const first = times.length > 0 ? Math.min(...times) : Date.now();
  const graceMs = 20_000;
  const deadline = first + timeoutMs;
  const parts = await Promise.all(generators.map((g) =>
    g.call<CollectResult>(
      { op: "collect", sentAt, deadline, graceMs },
      Math.max(0, deadline - Date.now()) + graceMs + 30_000,
    )
  ));
  const latency = new Histogram();
  const count = new Array<number>(messages).fill(0);
  const last = new Array<number>(messages).fill(0);
  let lastDelivery = 0;
  const sum = (f: (c: CollectResult) => number) =>
    parts.reduce((n, p) => n + f(p.result), 0);
  for (const { result } of parts) {
    latency.merge(result.latency, result.maxLatency);
    result.perMessageCount.forEach((n, i) => (count[i] += n));
    result.perMessageLast.forEach((t, i) => (last[i] = Math.max(last[i], t)));
    lastDelivery = Math.max(lastDelivery, result.lastDelivery);
  }
  const streams = sum((c) => c.streams);
  const lastClient = new Histogram();
  for (let seq = 0; seq < messages; seq++) {
    const s = sentAt[seq];
    if (s !== null && streams > 0 && count[seq] === streams) {
      lastClient.add(last[seq] - s);
    }
  }
  const received = sum((c) => c.received);
  const expected = sum((c) => c.expected);
  const span = lastDelivery - first;
  return {
    streams,
    messages,
    expected,
    received,
    lost: expected - received,
    late: sum((c) => c.late),
    duplicates: sum((c) => c.duplicates),
    outOfOrder: sum((c) => c.outOfOrder),
    stray: sum((c) => c.stray),
    streamsEnded: sum((c) => c.streamsEnded),
    negative: sum((c) => c.negative),
    latency: latency.distribution(),
    lastClient: lastClient.distribution(),
    incompleteMessages: messages - lastClient.count,
    spanMs: received > 0 ? Math.round(span * 100) / 100 : 0,
    deliveriesPerSecond: received > 0 && span > 0
      ? Math.round((received / span) * 1000)
      : 0,
    posts: sent.result.posts,
    generatorCpuPercent: Math.max(
      ...parts.map((p) =>
        p.result.wallMs > 0
          ? Math.round((p.result.cpuMs / p.result.wallMs) * 100)
          : 0
      ),
    ),
  };
}

async function fanout(ctx: Context) {
  const { plan } = ctx;
  printHeader(
    "fanout",
    `N streams, ${plan.fanoutMessages} messages at ${plan.fanoutRate}/s: per-delivery latency (POST written → event parsed), time to the last client`,
  );
  for (const n of plan.fanoutCounts) {
    for (const target of TARGETS) {
      await measure("fanout", `N=${fmt(n)}`, target, async () => {
        const server = ctx.servers![target];
        const opened = await openStreams(server.port, n, GENERATORS);
        if (opened.failed > 0) {
          throw new Error(`${opened.failed} streams did not open`);
        }
        await sleep(1_000);
        const timeoutMs = (plan.fanoutMessages / plan.fanoutRate) * 1000 +
          20_000;
        const { value, serverCpu, machineCpu } = await withCpu(
          server,
          () =>
            deliverRound(
              server.port,
              plan.fanoutMessages,
              plan.fanoutRate,
              4,
              timeoutMs,
            ),
        );
        return deliveryRow(value, serverCpu, machineCpu);
      });
    }
  }
}

function deliveryRow(
  r: RoundResult,
  serverCpu: number,
  machineCpu: number,
): RowBody {
  const problems: string[] = [];
  if (r.lost > 0) problems.push(`${fmt(r.lost)} deliveries lost`);
  if (r.duplicates > 0) problems.push(`${r.duplicates} duplicates`);
  if (r.outOfOrder > 0) problems.push(`${r.outOfOrder} out of order`);
  if (r.streamsEnded > 0) problems.push(`${r.streamsEnded} streams ended`);
  const non201 = r.posts.sent - (r.posts.statuses["201"] ?? 0);
  if (non201 > 0) {
    problems.push(
      `${non201} POSTs not 201 ${JSON.stringify(r.posts.statuses)} ${
        JSON.stringify(r.posts.errors)
      }`,
    );
  }
  if (r.late > 0) {
    problems.push(`${fmt(r.late)} deliveries late (after the deadline)`);
  }
  if (r.negative > 0) {
    problems.push(`${r.negative} deliveries before their POST (clock problem)`);
  }
  return {
    figures: {
      streams: r.streams,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      lastP50: r.lastClient.p50,
      lastMax: r.lastClient.max,
      lost: r.lost,
      late: r.late,
      dup: r.duplicates,
      ooo: r.outOfOrder,
      perSecond: r.deliveriesPerSecond,
      spanMs: r.spanMs,
      postP50: r.posts.latency.p50,
      postP99: r.posts.latency.p99,
    },
    generatorCpuPercent: r.generatorCpuPercent,
    serverCpuPercent: serverCpu,
    machineCpuPercent: machineCpu,
    error: problems.length > 0 ? problems.join("; ") : undefined,
    raw: r,
  };
}

async function posting(ctx: Context) {
  const { plan } = ctx;
  printHeader(
    "posting",
    `keep-alive POSTs for ${
      plan.postingMs / 1000
    } s; one stream checks every 201'd id arrives once, ascending`,
  );
  for (const c of plan.postingConcurrency) {
    for (const target of TARGETS) {
      await measure("posting", `c=${c}`, target, async () => {
        const server = ctx.servers![target];
        await openStreams(server.port, 1, 1);
        const { value, serverCpu, machineCpu } = await withCpu(
          server,
          () =>
            generators[0].call<PostResult>({
              op: "post",
              port: server.port,
              round: ++roundCounter,
              concurrency: c,
              durationMs: plan.postingMs,
              drainMs: 10_000,
            }, plan.postingMs + 40_000),
        );
        const r = value.result;
        const non201 = r.posts.sent - (r.posts.statuses["201"] ?? 0);
        const o = r.ordering;
        return {
          figures: {
            perSecond: r.messagesPerSecond,
            p50: r.posts.latency.p50,
            p99: r.posts.latency.p99,
            max: r.posts.latency.max,
            created: r.created,
            non201,
            ordering: o.ok ? "ok" : "FAILED",
          },
          generatorCpuPercent: value.cost.cpuPercent,
          serverCpuPercent: serverCpu,
          machineCpuPercent: machineCpu,
          error: o.ok && non201 === 0 ? undefined : [
            o.ok ? "" : `ordering: ${JSON.stringify(o)}`,
            non201 > 0
              ? `statuses ${JSON.stringify(r.posts.statuses)} ${
                JSON.stringify(r.posts.errors)
              }`
              : "",
          ].filter((s) => s).join("; "),
          raw: r,
        };
      });
    }
  }
}

async function burst(ctx: Context) {
  const { plan } = ctx;
  printHeader(
    "burst",
    `${
      fmt(plan.burstStreams)
    } streams, ${plan.burstMessages} messages as fast as ${plan.burstConcurrency} connections post: deliveries/s from first POST to last delivery`,
  );
  for (const target of TARGETS) {
    await measure("burst", `N=${fmt(plan.burstStreams)}`, target, async () => {
      const server = ctx.servers![target];
      const opened = await openStreams(
        server.port,
        plan.burstStreams,
        GENERATORS,
      );
      if (opened.failed > 0) {
        throw new Error(`${opened.failed} streams did not open`);
      }
      await sleep(1_000);
      const { value, serverCpu, machineCpu } = await withCpu(
        server,
        () =>
          deliverRound(
            server.port,
            plan.burstMessages,
            null,
            plan.burstConcurrency,
            30_000,
          ),
      );
      return deliveryRow(value, serverCpu, machineCpu);
    });
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** How to start one kind of server for the start-up scenario, on `port`. */
interface StartCommand {
  args: (port: number) => string[];
  env: (port: number) => Record<string, string>;
}

/** Spawn → first 200 from GET /readyz, in ms. */
async function timeToFirstResponse(
  command: StartCommand,
  timeoutMs: number,
): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: command.args(port),
    env: { ...baseEnv(), ...command.env(port) },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = track(async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  });
  let exited = false;
  child.status.then(() => (exited = true));
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        });
        await res.body?.cancel();
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // Not listening yet.
      }
      if (exited) throw new Error(`exited before serving:\n${await stderr}`);
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`no answer within ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const late = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }, 5_000);
    await child.status;
    clearTimeout(late);
    await stderr;
    cleanups.delete(stop);
  }
}

async function startup(ctx: Context) {
  const runs = ctx.plan.startupRuns;
  let client = "not built: / would answer 503";
  try {
    await Deno.stat(join(ROOT, "dist", "index.html"));
    client = "built, loaded at start-up";
  } catch {
    // Plaza then answers / with 503; /readyz is unaffected.
  }
  printHeader(
    "startup",
    `spawn \`deno run server/main.ts\` → first 200 from /readyz; one first start, then the median of ${runs} (client in dist/: ${client})`,
  );
  const db = await createTestDatabase(ctx.cluster.url);
  const dataDir = await Deno.makeTempDir({ prefix: "plaza-bench-pglite-" });
  track(() => Deno.remove(dataDir, { recursive: true }).catch(() => {}));
  const plaza = (env: Record<string, string>): StartCommand => ({
    // The permissions of `deno task start`.
    args: () => [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      PLAZA_MAIN,
    ],
    env: (port) => ({
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...env,
    }),
  });
  const cases: {
    name: string;
    target: Target;
    start: StartCommand;
    timeoutMs: number;
  }[] = [
    {
      name: "Postgres",
      target: "plaza",
      start: plaza({ DATABASE_URL: db.url }),
      timeoutMs: 30_000,
    },
    {
      // First start compiles PGlite's WASM and creates its files.
      name: "PGlite",
      target: "plaza",
      start: plaza({ DATA_DIR: dataDir }),
      timeoutMs: 90_000,
    },
    {
      name: "no database",
      target: "bare",
      start: {
        args: (port) => ["run", "--allow-net", BARE, String(port)],
        env: () => ({}),
      },
      timeoutMs: 30_000,
    },
  ];
  try {
    for (const c of cases) {
      await measure("startup", c.name, c.target, async () => {
        // The first start creates the schema (and PGlite's files); the
        // "already-built checkout" figure is the median of the ones after.
        const first = await timeToFirstResponse(c.start, c.timeoutMs);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          times.push(await timeToFirstResponse(c.start, c.timeoutMs));
        }
        const sorted = [...times].sort((a, b) => a - b);
        return {
          figures: {
            medianMs: Math.round(sorted[Math.floor((sorted.length - 1) / 2)]),
            runs: times.map((t) => Math.round(t)).join("/"),
            firstMs: Math.round(first),
          },
        };
      });
    }
  } finally {
    await db.drop().catch(() => {});
  }
}

// ------------------------------------------------------------ output

function printHeader(scenario: ScenarioName, what: string) {
  console.log(`\n## ${scenario}: ${what}`);
  console.log(line(scenario, headerCells(scenario)));
}

function headerCells(scenario: ScenarioName): string[] {
  const cols = COLUMNS[scenario];
  return [
    "case",
    "target",
    ...cols.map((c) => c.label),
    "gen CPU",
    "srv CPU",
    "box CPU",
  ];
}

/** Lays out a row under its scenario's header: text left, figures right. */
function line(scenario: ScenarioName, cells: string[]): string {
  const header = headerCells(scenario);
  return cells.map((c, i) => {
    const width = i === 0 ? 12 : i === 1 ? 6 : Math.max(header[i].length, 7);
    return i < 2 ? c.padEnd(width) : c.padStart(width);
  }).join("  ").trimEnd();
}

function cell(v: number | string | undefined): string {
  if (v === undefined) return "—";
  return typeof v === "number" ? fmt(v) : v;
}

function printRow(row: Row) {
  const cols = COLUMNS[row.scenario];
  const percent = (v: number | null) => v === null ? "—" : `${v} %`;
  console.log(line(row.scenario, [
    row.case,
    row.target,
    ...cols.map((c) => cell(row.figures[c.key])),
    percent(row.generatorCpuPercent),
    percent(row.serverCpuPercent),
    percent(row.machineCpuPercent),
  ]));
  if (row.error) note(`${row.target}: ${row.error}`);
  if (row.target === "bare") {
    const plaza = rows.find((r) =>
      r.scenario === row.scenario && r.case === row.case &&
      r.target === "plaza"
    );
    if (plaza) {
      console.log(line(row.scenario, [
        row.case,
        "ratio",
        ...cols.map((c) => c.ratio ? ratioText(plaza, row, c.key) : ""),
      ]));
    }
  }
}

function ratio(plaza: Row | undefined, bare: Row | undefined, key: string) {
  const p = plaza?.figures[key];
  const b = bare?.figures[key];
  if (typeof p !== "number" || typeof b !== "number" || b === 0) return null;
  return p / b;
}

function ratioText(plaza: Row | undefined, bare: Row | undefined, key: string) {
  const r = ratio(plaza, bare, key);
  return r === null ? "—" : `${r.toFixed(2)}×`;
}

/** One line of the summary: a figure for both targets and its target from issue 5. */
interface Headline {
  label: string;
  scenario: ScenarioName;
  case: string;
  key: string;
  target?: string;
  /** Whether the target is met; null when it cannot be judged. */
  met?: (plaza: number, bare: number | null, plazaRow: Row) => boolean | null;
}

function headlines(plan: Plan): Headline[] {
  const list: Headline[] = [];
  for (const n of plan.idleCounts) {
    list.push({
      label: `idle ${fmt(n)}: KB per stream`,
      scenario: "idle",
      case: `N=${fmt(n)}`,
      key: "kbPerStream",
    });
    list.push({
      label: `idle ${fmt(n)}: connect ms`,
      scenario: "idle",
      case: `N=${fmt(n)}`,
      key: "connectMs",
    });
  }
  if (plan.idleMax) {
    list.push({
      label: "idle max: streams held",
      scenario: "idle",
      case: "N=max",
      key: "opened",
      target: "≥ 19,000",
      met: (p, _b, row) => row.error === undefined && p >= 19_000,
    });
    list.push({
      label: "idle max: KB per stream",
      scenario: "idle",
      case: "N=max",
      key: "kbPerStream",
      target: "≤ 32 KB",
      met: (p) => p <= 32,
    });
    list.push({
      label: "idle max: connect ms",
      scenario: "idle",
      case: "N=max",
      key: "connectMs",
    });
  }
  for (const n of plan.fanoutCounts) {
    const c = `N=${fmt(n)}`;
    const at1k = n === 1_000;
    const at10k = n === 10_000;
    list.push({
      label: `fan-out ${fmt(n)}: p50 ms`,
      scenario: "fanout",
      case: c,
      key: "p50",
      target: at1k ? "≤ 15 ms" : at10k ? "ratio ≤ 1.0" : undefined,
      met: at1k
        ? (p) => p <= 15
        : at10k
        ? (p, b) => b === null ? null : p / b <= 1
        : undefined,
    });
    list.push({
      label: `fan-out ${fmt(n)}: p99 ms`,
      scenario: "fanout",
      case: c,
      key: "p99",
      target: at1k ? "≤ 50 ms" : at10k ? "ratio ≤ 1.0" : undefined,
      met: at1k
        ? (p) => p <= 50
        : at10k
        ? (p, b) => b === null ? null : p / b <= 1
        : undefined,
    });
    list.push({
      label: `fan-out ${fmt(n)}: last client p50 ms`,
      scenario: "fanout",
      case: c,
      key: "lastP50",
    });
    list.push({
      label: `fan-out ${fmt(n)}: last client max ms`,
      scenario: "fanout",
      case: c,
      key: "lastMax",
    });
    list.push({
      label: `fan-out ${fmt(n)}: deliveries lost`,
      scenario: "fanout",
      case: c,
      key: "lost",
      target: "0",
      met: (p, _b, row) =>
        p === 0 && row.figures.dup === 0 && row.figures.ooo === 0,
    });
  }
  for (const c of plan.postingConcurrency) {
    list.push({
      label: `posting c=${c}: messages/s`,
      scenario: "posting",
      case: `c=${c}`,
      key: "perSecond",
      target: "≥ 2,000",
      met: (p, _b, row) => p >= 2_000 && row.figures.ordering === "ok",
    });
    list.push({
      label: `posting c=${c}: p99 ms`,
      scenario: "posting",
      case: `c=${c}`,
      key: "p99",
      target: "≤ 50 ms",
      met: (p) => p <= 50,
    });
  }
  list.push({
    label: `burst ${fmt(plan.burstStreams)}: deliveries/s`,
    scenario: "burst",
    case: `N=${fmt(plan.burstStreams)}`,
    key: "perSecond",
    target: plan.burstStreams === 10_000 ? "≥ 150,000" : undefined,
    met: plan.burstStreams === 10_000
      ? (p, _b, row) => p >= 150_000 && row.figures.lost === 0
      : undefined,
  });
  list.push({
    label: "start-up on Postgres: median ms",
    scenario: "startup",
    case: "Postgres",
    key: "medianMs",
    target: "≤ 1,500 ms",
    met: (p) => p <= 1_500,
  });
  list.push({
    label: "start-up on PGlite: median ms",
    scenario: "startup",
    case: "PGlite",
    key: "medianMs",
  });
  return list;
}

/** Summary lines for what was run. */
interface SummaryLine {
  figure: string;
  plaza: number | null;
  bare: number | null;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

function summarise(plan: Plan): SummaryLine[] {
  const out: SummaryLine[] = [];
  for (const h of headlines(plan)) {
    const find = (t: Target, c = h.case) =>
      rows.find((r) =>
        r.scenario === h.scenario && r.case === c && r.target === t
      );
    const plazaRow = find("plaza");
    // Start-up has one bare row, against which both databases compare.
    const bareRow = h.scenario === "startup"
      ? find("bare", "no database")
      : find("bare");
    if (plazaRow === undefined) continue;
    const p = plazaRow.figures[h.key];
    const b = bareRow?.figures[h.key];
    const plaza = typeof p === "number" ? p : null;
    const bare = typeof b === "number" ? b : null;
    out.push({
      figure: h.label,
      plaza,
      bare,
      ratio: plaza !== null && bare ? plaza / bare : null,
      target: h.target ?? "",
      met: h.met && plaza !== null ? h.met(plaza, bare, plazaRow) : null,
    });
  }
  return out;
}

function printSummary(lines: SummaryLine[]) {
  console.log(
    "\n## summary (ratio = Plaza / bare Deno.serve broadcaster, same run)",
  );
  const table = [["figure", "Plaza", "bare", "ratio", "target", "met"]];
  for (const l of lines) {
    table.push([
      l.figure,
      l.plaza === null ? "—" : fmt(l.plaza),
      l.bare === null ? "—" : fmt(l.bare),
      l.ratio === null ? "—" : `${l.ratio.toFixed(2)}×`,
      l.target,
      l.met === null ? "" : l.met ? "met" : "NOT MET",
    ]);
  }
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((r) => r[i].length))
  );
  for (const r of table) {
    console.log(
      r.map((c, i) =>
        i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])
      ).join("  ").trimEnd(),
    );
  }
}

// ------------------------------------------------------------ main

async function machine() {
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
  clockTicks = Number(ticks) || 100;
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

function parseArgs(args: string[]): { quick: boolean; only: ScenarioName[] } {
  let quick = false;
  let only = [...SCENARIOS];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const value = a === "--only" ? args[++i] : a.slice("--only=".length);
      const names = (value ?? "").split(",").map((s) => s.trim()).filter((s) =>
        s
      );
      const bad = names.filter((n) => !SCENARIOS.includes(n as ScenarioName));
      if (names.length === 0 || bad.length > 0) {
        throw new Error(
          `unknown scenario ${bad.join(", ") || "(none)"}\n${USAGE}`,
        );
      }
      only = names as ScenarioName[];
    } else if (a === "--cpu-prof") {
      const dir = args[++i];
      if (!dir) throw new Error(`--cpu-prof needs a directory\n${USAGE}`);
      profileDir = dir;
    } else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else {
      throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return { quick, only };
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const plan = options.quick ? QUICK : FULL;
  const info = await machine();
  console.log(
    `# deno task bench${options.quick ? " --quick" : ""} — ${info.date}\n` +
      `machine: ${info.nproc} cores (${info.cpu}), ${info.memoryGiB} GiB, Linux ${info.kernel}; Deno ${info.deno}\n` +
      `file limit here: soft ${info.fdLimits.soft}, hard ${info.fdLimits.hard} (children raise soft to hard)\n` +
      `scenarios: ${
        options.only.join(", ")
      }; load generators: ${GENERATORS} processes; everything on 127.0.0.1`,
  );
  const limits = limitsOff();
  console.log(
    "Plaza's limits turned off for the bench instances (via config):",
  );
  for (const l of limits) console.log(`  ${l.name}=${l.value}  — ${l.why}`);
  console.log(
    "  kept at defaults: HEARTBEAT_MS (15 s pings), STREAM_BUFFER_BYTES (1 MiB slow-client budget; the generator reads everything), TYPING_RATE (unused)",
  );
  console.log(
    "  Plaza runs with LOG_LEVEL=info (its only info lines are start-up and a per-minute stream count) and without the web client (/ answers 503; unused here).",
  );

  const tmp = await Deno.makeTempDir({ prefix: "plaza-bench-" });
  track(() => Deno.remove(tmp, { recursive: true }));
  console.log(`\nstarting PostgreSQL, load generators … (${elapsed()})`);
  // fsync on, unlike the test suite: a 201 means the message is on disk,
  // and the posting figures must include what that costs.
  const cluster = await startPgCluster({
    settings: { fsync: true, full_page_writes: true },
  });
  track(() => cluster.stop());
  const db = await createTestDatabase(cluster.url);
  const plazaEnv: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    DIST_DIR: join(tmp, "no-client"),
    // "listening on …", which startListening waits for, is an info line.
    LOG_LEVEL: "info",
    ...Object.fromEntries(limits.map((l) => [l.name, l.value])),
  };
  await startGenerators();
  track(async () => {
    for (const g of generators) await g.stop();
  });
  const ctx: Context = {
    plan,
    plazaEnv,
    cluster,
    servers: null,
    fdLimits: info.fdLimits,
    tmp,
  };
  console.log(
    `PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port} (${elapsed()})`,
  );

  if (options.only.includes("idle")) await idle(ctx);
  const shared = options.only.filter((s) =>
    ["fanout", "posting", "burst"].includes(s)
  );
  if (shared.length > 0) {
    const plaza = await startServer("plaza", plazaEnv);
    const bare = await startServer("bare", plazaEnv);
    ctx.servers = { plaza, bare };
    // A first stream and message on each, so JIT warm-up is not in row one.
    for (const s of [plaza, bare]) {
      await openStreams(s.port, 20, GENERATORS);
      await deliverRound(s.port, 20, null, 4, 10_000);
      await closeStreams();
    }
    if (shared.includes("fanout")) await fanout(ctx);
    if (shared.includes("posting")) await posting(ctx);
    if (shared.includes("burst")) await burst(ctx);
    for (const s of [plaza, bare]) {
      const stats = await sampleProcess(s.pid).catch(() => null);
      if (stats) {
        note(`${s.target}: RSS at the end ${round1(stats.rss / 2 ** 20)} MiB`);
      }
      await s.stop();
    }
    ctx.servers = null;
  }
  if (options.only.includes("startup")) await startup(ctx);

  const summary = summarise(plan);
  printSummary(summary);
  const durationS = Math.round((performance.now() - started) / 1000);
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  const file = join(
    RESULTS_DIR,
    `bench-${info.date.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}.json`,
  );
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      {
        machine: info,
        options,
        plan,
        limitsOff: limits,
        durationS,
        rows,
        summary,
      },
      null,
      2,
    ) + "\n",
  );
  const failed = rows.filter((r) => r.error !== undefined).length;
  console.log(
    `\n${rows.length} rows (${failed} with problems noted) in ${durationS} s; results: ${file}`,
  );
  return 0;
}

async function exitWith(code: number, message?: string) {
  if (exiting) return;
  exiting = true;
  if (message) console.error(message);
  await cleanUp();
  Deno.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    exitWith(130, `\n${signal}: stopping servers, generators and PostgreSQL …`);
  });
}
const watchdog = setTimeout(() => {
  exitWith(
    1,
    `bench: still running after ${
      TOTAL_TIMEOUT_MS / 60_000
    } minutes; stopping.`,
  );
}, TOTAL_TIMEOUT_MS);

try {
  const code = await main();
  clearTimeout(watchdog);
  await exitWith(code);
} catch (error) {
  await exitWith(
    1,
    `bench failed: ${error instanceof Error ? error.stack : String(error)}`,
  );
}
