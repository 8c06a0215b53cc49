/**
 * `deno task soak [--minutes N | --seconds N] [--clients N] [--seed N]`: a
 * bounded soak test of two Plaza instances sharing one throwaway PostgreSQL.
 *
 * Simulated people connect to either instance's /stream, read for a while,
 * post at a human pace (sometimes repeating a clientId, as a retrying browser
 * does), disconnect and resume with Last-Event-ID, for the whole run. At the
 * end every client resumes once more to catch up, and what it received is
 * compared with the database: nothing may be missing, repeated or out of
 * order, and no request may get a 5xx. Each instance's memory (VmRSS) is
 * sampled along the way. The report goes to stdout and to
 * bench/results/soak-<date>.json; the exit code is 0 only if every check
 * passed. All traffic stays on 127.0.0.1; the run stops by itself.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import {
  type PgCluster,
  startPgCluster,
} from "../server/testing/pg_cluster.ts";
import { seededRandom } from "../server/testing/seeded_random.ts";
import {
  createSseParser,
  type SseEvent,
} from "../server/testing/sse_parser.ts";

const USAGE =
  "Usage: deno task soak [--minutes N | --seconds N] [--clients N] [--seed N]";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS_DIR = join(ROOT, "bench", "results");

/** How long the instances may take to print their URL. */
const START_TIMEOUT_MS = 30_000;
/** Connecting to /stream (headers only) and a whole POST must finish within these. */
const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** The final catch-up of one client; far more than reading a few thousand rows takes. */
const CATCH_UP_TIMEOUT_MS = 30_000;
/** Beyond the planned duration, the run is considered stuck and torn down. */
const WATCHDOG_GRACE_MS = 3 * 60_000;
/** SIGTERM, then this long before SIGKILL (the server's own grace is shorter). */
const STOP_TIMEOUT_MS = 15_000;
const WARM_UP_MS = 10_000;
const RSS_EVERY_MS = 60_000;
/** Kept per kind of failure, so a broken run still writes a readable report. */
const MAX_SAMPLES = 10;

// Human-ish behaviour. Talkers post every ~10 s on average while connected,
// lurkers every ~60 s; a quarter of posts are followed by a quick second one.
const TALKER_SHARE = 0.7;
const TALKER_MEAN_GAP_MS = 10_000;
const LURKER_MEAN_GAP_MS = 60_000;
const FOLLOW_UP_SHARE = 0.25;
/** A repeat of an earlier clientId (a retry whose answer was lost), expecting 200. */
const REPEAT_SHARE = 0.04;
/** The same new message sent to both instances at once, expecting one 201 and one 200. */
const RACE_SHARE = 0.02;
/** Longest allowed text of 4-byte characters: its NOTIFY payload carries the id alone. */
const HUGE_SHARE = 0.01;

/** Command-line options of the run. */
interface Options {
  durationMs: number;
  clients: number;
  seed: number;
}

class UsageError extends Error {}

function parseOptions(args: readonly string[]): Options | null {
  let durationMs = 10 * 60_000;
  let clients = 60;
  let seed = 1;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") return null;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const raw = eq === -1 ? args[++i] : arg.slice(eq + 1);
    const value = Number(raw);
    const number = (what: string, integer: boolean, min: number) => {
      if (
        raw === undefined || raw.trim() === "" || !Number.isFinite(value) ||
        value < min || (integer && !Number.isInteger(value))
      ) {
        throw new UsageError(
          `${name} needs ${
            integer ? "an integer" : "a number"
          } of ${what} (at least ${min}), got ${raw ?? "nothing"}.`,
        );
      }
      return value;
    };
    switch (name) {
      case "--minutes":
        durationMs = number("minutes", false, 0.1) * 60_000;
        break;
      case "--seconds":
        durationMs = number("seconds", false, 5) * 1000;
        break;
      case "--clients":
        clients = number("clients", true, 1);
        break;
      case "--seed":
        seed = number("seed", true, 0);
        break;
      default:
        throw new UsageError(`Unknown option ${arg}.`);
    }
  }
  return { durationMs: Math.round(durationMs), clients, seed };
}

// ---------------------------------------------------------------- randomness

type Rng = () => number;

const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
// Log-uniform: most waits short, some long, as with people.
const logBetween = (rng: Rng, lo: number, hi: number) =>
  lo * Math.pow(hi / lo, rng());
const exponential = (rng: Rng, mean: number) => -mean * Math.log(1 - rng());
const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng() * items.length)];

/** A version-4-shaped UUID from the seeded generator (crypto.randomUUID cannot be seeded). */
function seededUuid(rng: Rng): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(rng() * 256));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
    hex.slice(16, 20)
  }-${hex.slice(20)}`;
}

const NAMES = ["ada", "bob", "chloé", "dmitri", "eve", "farah", "gus", "hana"];
const WORDS = [
  "hello",
  "plaza",
  "coffee",
  "anyone",
  "here",
  "the",
  "deploy",
  "went",
  "fine",
  "lunch?",
  "ok",
  "👍",
  "🙂",
  "naïve",
  // NFD on purpose: the server must store it as NFC "café".
  "cafe\u0301",
  "日本語",
  "https://example.com/a?b=c",
  "@ada",
  "<b>not bold</b>",
  "&amp;",
  '"quoted"',
];

/** A POST /messages body. */
interface PostBody {
  author: string;
  text: string;
  clientId: string;
}

function newBody(rng: Rng, author: string): PostBody {
  let text: string;
  if (rng() < HUGE_SHARE) {
    text = "🦕".repeat(2000);
  } else {
    const n = 1 + Math.floor(rng() * 25);
    const words = Array.from({ length: n }, () => pick(rng, WORDS));
    const multiline = rng() < 0.05;
    text = words.join(multiline ? "\n" : " ");
  }
  return { author, text, clientId: seededUuid(rng) };
}

/** What the server should store for `body` (server/message.ts cleans input so). */
function cleaned(s: string): string {
  return s.replace(/\r\n?/g, "\n").normalize("NFC").trim();
}

// ------------------------------------------------------------------ messages

/** A message as the API sends it. */
interface WireMessage {
  id: number;
  author: string;
  text: string;
  createdAt: string;
  clientId: string | null;
}

function asWireMessage(value: unknown): WireMessage | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (
    typeof v.id !== "number" || !Number.isSafeInteger(v.id) ||
    typeof v.author !== "string" || typeof v.text !== "string" ||
    typeof v.createdAt !== "string" ||
    !(v.clientId === null || typeof v.clientId === "string")
  ) {
    return null;
  }
  return {
    id: v.id,
    author: v.author,
    text: v.text,
    createdAt: v.createdAt,
    clientId: v.clientId,
  };
}

function parseWireMessage(text: string): WireMessage | null {
  try {
    return asWireMessage(JSON.parse(text));
  } catch {
    return null;
  }
}

/** One string per message content, so two renderings can be compared. */
function canonical(m: WireMessage): string {
  return JSON.stringify([m.id, m.author, m.text, m.createdAt, m.clientId]);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(
    error,
  );
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}

// ----------------------------------------------------------------- instances

/** One RSS reading of an instance. */
interface RssSample {
  label: string;
  atS: number;
  kib: number | null;
}

/** A Plaza server running as a subprocess. */
interface Instance {
  name: string;
  url: string;
  pid: number;
  process: Deno.ChildProcess;
  /** Set once the process has exited, whoever stopped it. */
  exit: Deno.CommandStatus | null;
  /** True once we sent SIGTERM: an exit before that is a crash. */
  stopping: boolean;
  /** Everything it printed after start-up, for the report. */
  log: string[];
  rss: RssSample[];
  /** Resolves when the process has exited and its output is drained. */
  done: Promise<void>;
}

async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) !== -1) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch {
    // The pipe broke with the process; whatever came is kept.
  }
  if (buffer !== "") onLine(buffer);
}

async function startInstance(
  name: string,
  databaseUrl: string,
): Promise<Instance> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "server/main.ts",
    ],
    cwd: ROOT,
    env: {
      DATABASE_URL: databaseUrl,
      PORT: "0",
      HOST: "127.0.0.1",
      DIST_DIR: "./no-client",
      // One address sends everything: the abuse limits would only measure
      // themselves.
      POST_RATE: "100000/1s",
      POST_BURST: "100000",
      STREAMS_PER_ADDRESS: "100000",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let announce!: (url: string) => void;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  const log: string[] = [];
  const keep = (stream: string) => (line: string) => {
    const match = /Plaza is listening on (\S+)/.exec(line);
    if (match) return announce(match[1]);
    console.error(`[${name}] ${line}`);
    if (log.length < 500) log.push(`${stream}: ${line}`);
  };
  const instance: Instance = {
    name,
    url: "",
    pid: process.pid,
    process,
    exit: null,
    stopping: false,
    log,
    rss: [],
    done: Promise.resolve(),
  };
  instance.done = Promise.all([
    process.status.then((s) => {
      instance.exit = s;
      if (!instance.stopping) {
        console.error(
          `[${name}] exited unexpectedly (code ${s.code}, signal ${s.signal})`,
        );
      }
    }),
    forEachLine(process.stdout, keep("stdout")),
    forEachLine(process.stderr, keep("stderr")),
  ]).then(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    instance.url = await Promise.race([
      listening,
      instance.done.then(() => {
        throw new Error(
          `instance ${name} exited before listening:\n${log.join("\n")}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `instance ${name} did not print its URL within ${
                  START_TIMEOUT_MS / 1000
                } s`,
              ),
            ),
          START_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    await stopInstance(instance);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return instance;
}

/** Stops an instance with SIGTERM (SIGKILL if it hangs), after letting it exit by itself for up to `selfExitMs`. */
async function stopInstance(
  instance: Instance,
  selfExitMs = 0,
): Promise<void> {
  instance.stopping = true;
  if (instance.exit === null && selfExitMs > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      instance.done,
      new Promise<void>((r) => {
        timer = setTimeout(r, selfExitMs);
      }),
    ]);
    clearTimeout(timer);
  }
  if (instance.exit === null) {
    try {
      instance.process.kill("SIGTERM");
    } catch {
      // Already gone (a Ctrl-C reaches the whole process group).
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      instance.done.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      console.error(
        `[${instance.name}] still running ${
          STOP_TIMEOUT_MS / 1000
        } s after SIGTERM: killing it`,
      );
      try {
        instance.process.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }
  }
  await instance.done;
}

async function rssKiB(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------- streams

/** How a stream ended: closed by us, ended by the server, or broken. */
type StreamEnd = "closed" | "ended" | "failed";

/** An open GET /stream response being read. */
interface StreamSession {
  finished: Promise<StreamEnd>;
  close(): Promise<void>;
}

type OpenResult =
  | { ok: true; session: StreamSession }
  | { ok: false; status: number | null; detail: string };

/** Opens /stream and feeds each event to `onEvent` as it arrives. */
async function openStream(
  url: string,
  lastEventId: number | null,
  onEvent: (event: SseEvent) => void,
  stop: AbortSignal,
): Promise<OpenResult> {
  const abort = new AbortController();
  const onStop = () => abort.abort();
  stop.addEventListener("abort", onStop, { once: true });
  const timer = setTimeout(() => abort.abort(), CONNECT_TIMEOUT_MS);
  const headers = new Headers({ Accept: "text/event-stream" });
  if (lastEventId !== null) headers.set("Last-Event-ID", String(lastEventId));
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: abort.signal });
  } catch (error) {
    return { ok: false, status: null, detail: describe(error) };
  } finally {
    clearTimeout(timer);
    // From here on the session is ended by close(), not by the signal.
    stop.removeEventListener("abort", onStop);
  }
  if (response.status !== 200 || response.body === null) {
    const detail = await response.text().catch(() => "");
    return { ok: false, status: response.status, detail: detail.slice(0, 300) };
  }
  // The reader itself is cancelled on close: aborting the fetch does not stop
  // a body whose Response was collected (see the shared Deno notes).
  const reader = response.body.getReader();
  let closing = false;
  const finished = (async (): Promise<StreamEnd> => {
    const decoder = new TextDecoder();
    const parser = createSseParser({ onEvent });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return closing ? "closed" : "ended";
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch {
      return closing ? "closed" : "failed";
    }
  })();
  return {
    ok: true,
    session: {
      finished,
      async close() {
        closing = true;
        await reader.cancel().catch(() => {});
        abort.abort();
        await finished;
      },
    },
  };
}

// ------------------------------------------------------------------- clients

/** A sent message this client may later send again. */
interface Sent {
  body: PostBody;
  id: number;
}

/** One simulated person. */
interface SimClient {
  index: number;
  author: string;
  /** Connect/disconnect schedule. */
  rng: Rng;
  /** What and when to post; separate so one schedule does not shift the other. */
  postRng: Rng;
  talker: boolean;
  /** Newest committed id once the first stream was open: every later id must reach this client. */
  since: number | null;
  /** The last message id seen, sent as Last-Event-ID. */
  lastId: number | null;
  received: Set<number>;
  sent: Sent[];
  sessions: number;
  duplicates: number;
  outOfOrder: number;
  caughtUp: boolean | null;
}

/** Counters of the whole run. */
class Tally {
  posted = 0;
  repeats = 0;
  races = 0;
  deliveries = 0;
  duplicates = 0;
  outOfOrder = 0;
  corrupt = 0;
  idempotencyFailures = 0;
  status5xx = 0;
  unexpectedStatus = 0;
  errors = 0;
  sessions = 0;
  endedByServer = 0;
  openStreams = 0;
  postMs: number[] = [];
  samples = new Map<string, string[]>();

  note(kind: string, detail: string): void {
    const list = this.samples.get(kind) ?? [];
    if (list.length < MAX_SAMPLES) list.push(detail);
    this.samples.set(kind, list);
  }

  /** Counts a status that is not the expected one; false when unexpected. */
  status(what: string, status: number, expected: number[], body: string) {
    if (expected.includes(status)) return true;
    const detail = `${what} → ${status} ${body.slice(0, 200)}`;
    if (status >= 500) {
      this.status5xx++;
      this.note("5xx", detail);
    } else {
      this.unexpectedStatus++;
      this.note("unexpected status", detail);
    }
    return false;
  }

  error(what: string, error: unknown): void {
    this.errors++;
    this.note("error", `${what}: ${describe(error)}`);
  }
}

/** Everything the clients share. */
interface World {
  instances: Instance[];
  tally: Tally;
  /** First rendering of each id seen anywhere (POST answer or stream). */
  seen: Map<number, string>;
  /** Ids answered with 201, with what the answer said. */
  created: Map<number, string>;
  /** Aborted at the end of the traffic phase, or on Ctrl-C. */
  traffic: AbortSignal;
  /** Aborted on Ctrl-C or when the watchdog fires. */
  interrupt: AbortSignal;
}

function liveInstance(world: World, rng: Rng): Instance | null {
  const live = world.instances.filter((i) => i.exit === null);
  return live.length === 0 ? null : pick(rng, live);
}

function remember(world: World, m: WireMessage, where: string): void {
  const key = canonical(m);
  const first = world.seen.get(m.id);
  if (first === undefined) world.seen.set(m.id, key);
  else if (first !== key) {
    world.tally.corrupt++;
    world.tally.note(
      "mismatched payload",
      `${where}: id ${m.id} was ${first}, now ${key}`,
    );
  }
}

function onMessage(
  world: World,
  client: SimClient,
  event: SseEvent,
  where: string,
): void {
  const { tally } = world;
  tally.deliveries++;
  const m = parseWireMessage(event.data);
  if (m === null || event.id !== String(m.id)) {
    tally.corrupt++;
    tally.note(
      "mismatched payload",
      `${where}: id: ${event.id} data: ${event.data.slice(0, 200)}`,
    );
    return;
  }
  remember(world, m, where);
  if (client.received.has(m.id)) {
    tally.duplicates++;
    client.duplicates++;
    tally.note(
      "duplicate",
      `${client.author} got id ${m.id} again (${where}, last id was ${client.lastId})`,
    );
  } else {
    if (client.lastId !== null && m.id < client.lastId) {
      tally.outOfOrder++;
      client.outOfOrder++;
      tally.note(
        "out of order",
        `${client.author} got id ${m.id} after ${client.lastId} (${where})`,
      );
    }
    client.received.add(m.id);
  }
  // As EventSource does: the last id seen, whatever it is.
  client.lastId = m.id;
}

/** Opens a stream for `client` where it left off, counting failures. */
async function connect(
  world: World,
  client: SimClient,
  instance: Instance,
  onOther: (event: SseEvent) => void,
  stop: AbortSignal,
): Promise<StreamSession | null> {
  const resumeFrom = client.lastId ?? client.since;
  const url = resumeFrom === null
    ? `${instance.url}/stream?history=0`
    : `${instance.url}/stream`;
  const where = `${instance.name} session ${client.sessions + 1}`;
  const opened = await openStream(url, resumeFrom, (event) => {
    if (event.event === "message") onMessage(world, client, event, where);
    else onOther(event);
  }, stop);
  if (!opened.ok) {
    if (opened.status === null) {
      if (!stop.aborted) {
        world.tally.error(`GET ${instance.name}/stream`, opened.detail);
      }
    } else {
      world.tally.status(
        `GET ${instance.name}/stream`,
        opened.status,
        [200],
        opened.detail,
      );
    }
    return null;
  }
  client.sessions++;
  world.tally.sessions++;
  return opened.session;
}

/** The newest committed id, as a client would learn it (GET /messages). */
async function newestId(
  world: World,
  instance: Instance,
): Promise<number | null> {
  const what = `GET ${instance.name}/messages?limit=1`;
  try {
    const res = await fetch(`${instance.url}/messages?limit=1`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!world.tally.status(what, res.status, [200], text)) return null;
    const body: unknown = JSON.parse(text);
    const messages = (body as { messages?: unknown }).messages;
    if (!Array.isArray(messages)) throw new Error(`unexpected body ${text}`);
    const last = asWireMessage(messages.at(-1));
    return last?.id ?? 0;
  } catch (error) {
    world.tally.error(what, error);
    return null;
  }
}

/** Posts `body` and checks the answer; returns the message when it is one of `expected`. */
async function post(
  world: World,
  instance: Instance,
  body: PostBody,
  expected: number[],
): Promise<{ status: number; message: WireMessage } | null> {
  const { tally } = world;
  const what = `POST ${instance.name}/messages`;
  const started = performance.now();
  try {
    const res = await fetch(`${instance.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    tally.postMs.push(performance.now() - started);
    if (!tally.status(what, res.status, expected, text)) return null;
    const message = parseWireMessage(text);
    if (message === null) throw new Error(`unexpected body ${text}`);
    if (
      message.author !== cleaned(body.author) ||
      message.text !== cleaned(body.text) || message.clientId !== body.clientId
    ) {
      tally.corrupt++;
      tally.note(
        "mismatched payload",
        `${what} stored ${canonical(message).slice(0, 200)} for ${
          JSON.stringify(body).slice(0, 200)
        }`,
      );
    }
    remember(world, message, what);
    if (res.status === 201) {
      tally.posted++;
      if (world.created.has(message.id)) {
        tally.idempotencyFailures++;
        tally.note("idempotency", `${what}: id ${message.id} created twice`);
      }
      world.created.set(message.id, canonical(message));
    }
    return { status: res.status, message };
  } catch (error) {
    tally.error(what, error);
    return null;
  }
}

/** One thing a person does with the send button. */
async function postSomething(world: World, client: SimClient): Promise<void> {
  const { tally } = world;
  const rng = client.postRng;
  const r = rng();
  const instance = liveInstance(world, rng);
  if (instance === null) return;
  if (r < REPEAT_SHARE && client.sent.length > 0) {
    // A browser retrying a send whose answer it never saw.
    const earlier = pick(rng, client.sent);
    const out = await post(world, instance, earlier.body, [200]);
    if (out === null) return;
    if (out.message.id === earlier.id) tally.repeats++;
    else {
      tally.idempotencyFailures++;
      tally.note(
        "idempotency",
        `repeat of ${earlier.body.clientId} answered id ${out.message.id}, first was ${earlier.id}`,
      );
    }
    return;
  }
  const body = newBody(rng, client.author);
  if (r < REPEAT_SHARE + RACE_SHARE && world.instances.length > 1) {
    // The retry arrives while the first try is still in flight, elsewhere.
    const [a, b] = await Promise.all(
      world.instances.map((i) => post(world, i, body, [200, 201])),
    );
    if (a === null || b === null) return;
    tally.races++;
    const statuses = [a.status, b.status].sort().join("+");
    if (statuses !== "200+201" || a.message.id !== b.message.id) {
      tally.idempotencyFailures++;
      tally.note(
        "idempotency",
        `same clientId to both instances at once: ${a.status} id ${a.message.id}, ${b.status} id ${b.message.id}`,
      );
    }
    client.sent.push({ body, id: a.message.id });
  } else {
    const out = await post(world, instance, body, [201]);
    if (out !== null) client.sent.push({ body, id: out.message.id });
  }
  if (client.sent.length > 20) client.sent.shift();
}

function nextPostGap(client: SimClient, justPosted: boolean): number {
  const rng = client.postRng;
  if (justPosted && rng() < FOLLOW_UP_SHARE) return between(rng, 500, 3000);
  const mean = client.talker ? TALKER_MEAN_GAP_MS : LURKER_MEAN_GAP_MS;
  return Math.max(300, exponential(rng, mean));
}

/** Posts now and then while `session` (a signal aborted when it ends) lasts. */
async function postWhileConnected(
  world: World,
  client: SimClient,
  session: AbortSignal,
): Promise<void> {
  let gap = nextPostGap(client, false);
  for (;;) {
    await sleep(gap, session);
    if (session.aborted) return;
    await postSomething(world, client);
    gap = nextPostGap(client, true);
  }
}

/** The life of one client until the traffic phase ends. */
async function runClient(world: World, client: SimClient): Promise<void> {
  const { rng } = client;
  const { traffic, tally } = world;
  // Spread the first connects over the warm-up rather than all at once.
  await sleep(between(rng, 0, 3000), traffic);
  while (!traffic.aborted) {
    const instance = liveInstance(world, rng);
    if (instance === null) return;
    const session = await connect(world, client, instance, () => {}, traffic);
    if (session === null) {
      await sleep(between(rng, 1000, 3000), traffic);
      continue;
    }
    tally.openStreams++;
    const sessionEnd = new AbortController();
    const ended = AbortSignal.any([traffic, sessionEnd.signal]);
    if (client.since === null) {
      // Asked only now that the stream is subscribed: any id above this
      // commits later, so its notification must reach this stream.
      client.since = await newestId(world, instance);
    }
    const posting = postWhileConnected(world, client, ended);
    const outcome = await Promise.race([
      sleep(logBetween(rng, 3000, 90_000), ended).then(() => null),
      session.finished,
    ]);
    sessionEnd.abort();
    await session.close();
    await posting;
    tally.openStreams--;
    if (outcome === "ended") {
      tally.endedByServer++;
      tally.note(
        "stream ended by the server",
        `${client.author} on ${instance.name}`,
      );
    } else if (outcome === "failed") {
      tally.error(`GET ${instance.name}/stream`, "stream broke while reading");
    }
    const r = rng();
    const off = r < 0.1
      ? between(rng, 0, 100) // a network flap
      : r < 0.8
      ? logBetween(rng, 500, 10_000)
      : logBetween(rng, 10_000, 40_000); // away for a while
    await sleep(off, traffic);
  }
}

/** The final resume: reads until the client has seen `maxId` and the stream went live. */
async function catchUp(
  world: World,
  client: SimClient,
  maxId: number,
): Promise<void> {
  if (client.since === null) {
    client.caughtUp = false;
    return;
  }
  const instance = liveInstance(world, client.rng);
  if (instance === null) {
    client.caughtUp = false;
    return;
  }
  let live = false;
  let wake: () => void = () => {};
  const done = () => live && (client.lastId ?? 0) >= maxId;
  const session = await connect(world, client, instance, (event) => {
    // presence follows the backlog, so after it nothing older can come.
    if (event.event === "presence") live = true;
    if (done()) wake();
  }, world.interrupt);
  if (session === null) {
    client.caughtUp = false;
    return;
  }
  const timeout = new AbortController();
  const reached = new Promise<boolean>((resolve) => {
    wake = () => resolve(true);
    const timer = setTimeout(() => resolve(done()), CATCH_UP_TIMEOUT_MS);
    timeout.signal.addEventListener("abort", () => clearTimeout(timer));
    session.finished.then(() => resolve(done()));
    world.interrupt.addEventListener("abort", () => resolve(false));
  });
  const seenAll = await reached;
  timeout.abort();
  await session.close();
  client.caughtUp = seenAll;
}

// -------------------------------------------------------------------- report

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round1 = (n: number | null) =>
  n === null ? null : Math.round(n * 10) / 10;
const mib = (kib: number | null) =>
  kib === null ? "?" : `${(kib / 1024).toFixed(1)} MiB`;

/** The commit the servers ran, marked when server/ or db/ had uncommitted changes (others edit them while soaks run). */
async function serverRevision(): Promise<string | null> {
  const git = (args: string[]) =>
    new Deno.Command("git", {
      args: ["-C", ROOT, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
  try {
    const head = await git(["rev-parse", "--short", "HEAD"]);
    if (!head.success) return null;
    const dirty = await git(["diff", "--quiet", "HEAD", "--", "server", "db"]);
    return new TextDecoder().decode(head.stdout).trim() +
      (dirty.success ? "" : " + uncommitted changes in server/ or db/");
  } catch {
    return null;
  }
}

/** The database's view: every message, rendered as the API renders it. */
async function readAllMessages(url: string): Promise<Map<number, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ m: string }[]>`
      select message_json(messages)::text as m from messages order by id`;
    const all = new Map<number, string>();
    for (const row of rows) {
      const m = parseWireMessage(row.m);
      if (m === null) throw new Error(`unreadable row ${row.m}`);
      all.set(m.id, canonical(m));
    }
    return all;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

// ---------------------------------------------------------------------- main

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const { durationMs, clients: clientCount, seed } = options;

  const interrupt = new AbortController();
  const trafficEnd = new AbortController();
  let interruptedBy: string | null = null;
  const stopNow = (why: string) => {
    if (interruptedBy !== null) return;
    interruptedBy = why;
    console.error(`\nStopping early (${why}); cleaning up…`);
    interrupt.abort();
    trafficEnd.abort();
  };
  const onSigint = () => stopNow("SIGINT");
  const onSigterm = () => stopNow("SIGTERM");
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);

  const tally = new Tally();
  // A bug in this script must not leave servers and a postmaster behind.
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    tally.error("unhandled rejection in the soak script", event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);

  // A Ctrl-C in the terminal reaches the instances too; a SIGTERM on top
  // would be their second signal, which main.ts treats as "exit now".
  const selfExitMs = () => interruptedBy === "SIGINT" ? 5_000 : 0;
  let cluster: PgCluster | null = null;
  const instances: Instance[] = [];
  let cleaning: Promise<void> | null = null;
  const cleanUp = () =>
    cleaning ??= (async () => {
      await Promise.all(instances.map((i) => stopInstance(i, selfExitMs())));
      await cluster?.stop().catch((error) =>
        console.error(`Could not remove the test cluster: ${describe(error)}`)
      );
    })();
  // Nothing here may run past its time: stop everything if it does.
  const watchdog = setTimeout(() => {
    stopNow("watchdog: the run overran its time");
    const stuck = setTimeout(async () => {
      console.error("Still stuck; tearing down and exiting.");
      await cleanUp();
      Deno.exit(1);
    }, 60_000);
    Deno.unrefTimer(stuck);
  }, durationMs + WATCHDOG_GRACE_MS + START_TIMEOUT_MS);

  const startedAt = new Date();
  const revision = await serverRevision();
  const t0 = performance.now();
  const elapsedS = () => Math.round((performance.now() - t0) / 100) / 10;
  let exitCode = 1;
  try {
    cluster = await startPgCluster();
    console.error(
      `PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port}; starting two instances…`,
    );
    const databaseUrl = cluster.url;
    const started = await Promise.allSettled(
      ["A", "B"].map((name) => startInstance(name, databaseUrl)),
    );
    for (const s of started) {
      if (s.status === "fulfilled") instances.push(s.value);
    }
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    for (const i of instances) {
      console.error(`instance ${i.name}: ${i.url} (pid ${i.pid})`);
    }
    if (interrupt.signal.aborted) return 130;

    const world: World = {
      instances,
      tally,
      seen: new Map(),
      created: new Map(),
      traffic: trafficEnd.signal,
      interrupt: interrupt.signal,
    };
    const clients: SimClient[] = Array.from(
      { length: clientCount },
      (_, index) => {
        const rng = seededRandom(seed * 1_000_003 + index * 2);
        const postRng = seededRandom(seed * 1_000_003 + index * 2 + 1);
        return {
          index,
          author: `${pick(rng, NAMES)}-${String(index).padStart(3, "0")}`,
          rng,
          postRng,
          talker: rng() < TALKER_SHARE,
          since: null,
          lastId: null,
          received: new Set<number>(),
          sent: [],
          sessions: 0,
          duplicates: 0,
          outOfOrder: 0,
          caughtUp: null,
        };
      },
    );

    const sampleRss = async (label: string) => {
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
    await sampleRss("idle");

    const trafficStart = performance.now();
    const deadline = trafficStart + durationMs;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const pendingSamples: Promise<void>[] = [];
    timers.push(setTimeout(() => trafficEnd.abort(), durationMs));
    timers.push(
      setTimeout(
        () => pendingSamples.push(sampleRss("start")),
        Math.min(WARM_UP_MS, durationMs / 2),
      ),
    );
    for (let at = RSS_EVERY_MS; at < durationMs; at += RSS_EVERY_MS) {
      const minute = at / 60_000;
      timers.push(
        setTimeout(
          () => pendingSamples.push(sampleRss(`minute ${minute}`)),
          at,
        ),
      );
    }
    const progressEvery = durationMs <= 120_000 ? 10_000 : 30_000;
    const progress = setInterval(() => {
      const left = Math.max(
        0,
        Math.round((deadline - performance.now()) / 1000),
      );
      console.error(
        `t=${elapsedS()}s (${left}s left) posted ${tally.posted}, deliveries ${tally.deliveries}, open streams ${tally.openStreams}, duplicates ${tally.duplicates}, out of order ${tally.outOfOrder}, 5xx ${tally.status5xx}, errors ${tally.errors}`,
      );
    }, progressEvery);
    // Instances that die mid-run end the traffic phase: the rest would only
    // measure the crash.
    for (const i of instances) {
      i.done.then(() => {
        if (!i.stopping) trafficEnd.abort();
      });
    }

    console.error(
      `Soak: ${durationMs / 1000} s, ${clientCount} clients, seed ${seed}.`,
    );
    await Promise.all(
      clients.map((c) =>
        runClient(world, c).catch((error) =>
          tally.error(`client ${c.author}`, error)
        )
      ),
    );
    for (const t of timers) clearTimeout(t);
    clearInterval(progress);
    await Promise.all(pendingSamples);
    const trafficS = Math.round((performance.now() - trafficStart) / 100) / 10;

    let maxId: number | null = null;
    let database: Map<number, string> | null = null;
    if (!interrupt.signal.aborted) {
      await sampleRss("traffic end");
      // Every POST has been answered: this is the final state of the room.
      database = await readAllMessages(databaseUrl);
      maxId = Math.max(0, ...database.keys());
      console.error(
        `Traffic over; ${clientCount} clients catch up to id ${maxId}…`,
      );
      const upTo = maxId;
      await Promise.all(clients.map((c) => catchUp(world, c, upTo)));
      await sampleRss("end");
    }
    // Stopped before the report so that how they exit is part of it.
    console.error("Stopping the instances…");
    await Promise.all(instances.map((i) => stopInstance(i, selfExitMs())));

    // ------------------------------------------------------------ checking
    let lost = 0;
    let phantom = 0;
    let lostCommits = 0;
    const perClient = clients.map((c) => {
      const missing: number[] = [];
      let expected = 0;
      if (database !== null && maxId !== null && c.since !== null) {
        for (const id of database.keys()) {
          if (id <= c.since || id > maxId) continue;
          expected++;
          if (!c.received.has(id)) missing.push(id);
        }
      }
      lost += missing.length;
      if (missing.length > 0) {
        tally.note(
          "lost",
          `${c.author} (from id ${c.since}) never got ${missing.length} ids: ${
            missing.slice(0, 20).join(", ")
          }`,
        );
      }
      if (c.caughtUp === false) {
        tally.note(
          "catch-up",
          `${c.author} did not catch up (since ${c.since}, last id ${c.lastId})`,
        );
      }
      return {
        client: c.author,
        talker: c.talker,
        sessions: c.sessions,
        since: c.since,
        lastId: c.lastId,
        received: c.received.size,
        expected,
        missing: missing.length,
        missingSample: missing.slice(0, 20),
        duplicates: c.duplicates,
        outOfOrder: c.outOfOrder,
        caughtUp: c.caughtUp,
      };
    });
    if (database !== null) {
      for (const [id, key] of world.seen) {
        const stored = database.get(id);
        if (stored === undefined) {
          phantom++;
          tally.note("phantom", `id ${id} was seen but is not in the database`);
        } else if (stored !== key) {
          tally.corrupt++;
          tally.note(
            "mismatched payload",
            `id ${id}: seen ${key.slice(0, 200)}, stored ${
              stored.slice(0, 200)
            }`,
          );
        }
      }
      for (const id of world.created.keys()) {
        if (!database.has(id)) {
          lostCommits++;
          tally.note("lost commit", `id ${id} got a 201 but is not stored`);
        }
      }
    }

    const rowsInDatabase = database?.size ?? null;
    const notCaughtUp = clients.filter((c) => c.caughtUp === false).length;
    const failures: string[] = [];
    const check = (bad: boolean, what: string) => {
      if (bad) failures.push(what);
    };
    if (interruptedBy !== null) failures.push(`interrupted (${interruptedBy})`);
    check(lost > 0, `${lost} deliveries lost`);
    check(tally.duplicates > 0, `${tally.duplicates} duplicate deliveries`);
    check(tally.outOfOrder > 0, `${tally.outOfOrder} deliveries out of order`);
    check(tally.status5xx > 0, `${tally.status5xx} responses with a 5xx`);
    check(
      tally.unexpectedStatus > 0,
      `${tally.unexpectedStatus} other unexpected statuses`,
    );
    check(tally.errors > 0, `${tally.errors} request errors`);
    check(tally.corrupt > 0, `${tally.corrupt} mismatched payloads`);
    check(
      tally.idempotencyFailures > 0,
      `${tally.idempotencyFailures} idempotency failures`,
    );
    check(phantom > 0, `${phantom} ids seen that are not in the database`);
    check(lostCommits > 0, `${lostCommits} ids answered 201 but not stored`);
    check(
      rowsInDatabase !== null && rowsInDatabase !== tally.posted,
      `${rowsInDatabase} rows in the database but ${tally.posted} answers 201`,
    );
    check(notCaughtUp > 0, `${notCaughtUp} clients did not catch up`);
    for (const i of instances) {
      const how = `code ${i.exit?.code}, signal ${i.exit?.signal}`;
      if (i.exit !== null && !i.stopping) {
        failures.push(`instance ${i.name} exited during the run (${how})`);
      } else if (
        interruptedBy === null &&
        (i.exit === null || i.exit.code !== 0 || i.exit.signal !== null)
      ) {
        failures.push(
          `instance ${i.name} did not stop cleanly on SIGTERM (${how})`,
        );
      }
    }

    const sortedMs = [...tally.postMs].sort((a, b) => a - b);
    const rssOf = (i: Instance) => {
      const start = i.rss.find((s) => s.label === "start") ?? i.rss[0];
      const end = i.rss.findLast((s) => s.kib !== null) ?? null;
      return { start, end };
    };
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      plannedSeconds: durationMs / 1000,
      trafficSeconds: trafficS,
      clients: clientCount,
      seed,
      postgres: cluster.version,
      revision,
      ok: failures.length === 0,
      failures,
      messagesPosted: tally.posted,
      rowsInDatabase,
      maxId,
      idempotentRepeats: tally.repeats,
      concurrentDuplicatePosts: tally.races,
      deliveries: tally.deliveries,
      duplicates: tally.duplicates,
      lost,
      outOfOrder: tally.outOfOrder,
      mismatchedPayloads: tally.corrupt,
      idempotencyFailures: tally.idempotencyFailures,
      phantom,
      lostCommits,
      status5xx: tally.status5xx,
      unexpectedStatus: tally.unexpectedStatus,
      errors: tally.errors,
      streamSessions: tally.sessions,
      streamsEndedByServer: tally.endedByServer,
      clientsNotCaughtUp: notCaughtUp,
      postLatencyMs: {
        count: sortedMs.length,
        p50: round1(percentile(sortedMs, 0.5)),
        p95: round1(percentile(sortedMs, 0.95)),
        p99: round1(percentile(sortedMs, 0.99)),
        max: round1(sortedMs.at(-1) ?? null),
      },
      instances: instances.map((i) => {
        const { start, end } = rssOf(i);
        return {
          name: i.name,
          url: i.url,
          pid: i.pid,
          rssStartKiB: start?.kib ?? null,
          rssEndKiB: end?.kib ?? null,
          rssSamples: i.rss,
          exit: i.exit,
          log: i.log,
        };
      }),
      samples: Object.fromEntries(tally.samples),
      perClient,
    };

    const line = (label: string, value: string | number | null) =>
      console.log(`  ${label.padEnd(28)} ${value ?? "n/a"}`);
    console.log(
      `\nPlaza soak report: ${trafficS} s of traffic (planned ${
        durationMs / 1000
      } s), ${clientCount} clients, seed ${seed}, 2 instances, PostgreSQL ${cluster.version}`,
    );
    line("server revision", revision);
    line("messages posted (201)", tally.posted);
    line("rows in the database", rowsInDatabase);
    line(
      "idempotent repeats (200)",
      `${tally.repeats} (+ ${tally.races} concurrent pairs to both instances)`,
    );
    line("deliveries", tally.deliveries);
    line(
      "stream sessions",
      `${tally.sessions} (${tally.endedByServer} ended by the server)`,
    );
    line("duplicates", tally.duplicates);
    line("lost", lost);
    line("out of order", tally.outOfOrder);
    line("mismatched payloads", tally.corrupt);
    line("idempotency failures", tally.idempotencyFailures);
    line("5xx", tally.status5xx);
    line("other unexpected statuses", tally.unexpectedStatus);
    line("errors", tally.errors);
    line(
      "POST latency (ms)",
      `p50 ${report.postLatencyMs.p50}, p95 ${report.postLatencyMs.p95}, p99 ${report.postLatencyMs.p99}, max ${report.postLatencyMs.max}`,
    );
    for (const i of instances) {
      const { start, end } = rssOf(i);
      const growth = start?.kib && end?.kib
        ? ` (${end.kib >= start.kib ? "+" : ""}${
          ((end.kib / start.kib - 1) * 100).toFixed(1)
        } %)`
        : "";
      line(
        `RSS instance ${i.name}`,
        `start ${mib(start?.kib ?? null)} (t=${start?.atS}s), end ${
          mib(end?.kib ?? null)
        } (t=${end?.atS}s)${growth}; samples ${
          i.rss.map((s) => mib(s.kib).replace(" MiB", "")).join(" → ")
        } MiB`,
      );
    }
    for (const [kind, list] of tally.samples) {
      console.log(`  ${kind}:`);
      for (const s of list) console.log(`    ${s}`);
    }

    await Deno.mkdir(RESULTS_DIR, { recursive: true });
    const stamp = startedAt.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(
      ":",
      "-",
    );
    const file = join(RESULTS_DIR, `soak-${stamp}.json`);
    await Deno.writeTextFile(file, JSON.stringify(report, null, 2) + "\n");
    console.log(
      `\n${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`}`,
    );
    console.log(`Report: ${file}`);
    exitCode = interruptedBy !== null ? 130 : failures.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`Soak failed: ${describe(error)}`);
    exitCode = interruptedBy !== null ? 130 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
    for (const i of instances) {
      if (i.exit && (i.exit.code !== 0 || i.exit.signal !== null)) {
        console.error(
          `instance ${i.name} ended with code ${i.exit.code}, signal ${i.exit.signal}`,
        );
      }
    }
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
  return exitCode;
}

if (import.meta.main) Deno.exit(await main());
