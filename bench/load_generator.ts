/**
 * The benchmark's load generator, run by bench/run.ts in processes of its
 * own so it never shares an event loop with a server it measures.
 *
 * Streams are raw TCP: `GET /stream?history=0 HTTP/1.1` written by hand, the
 * response head parsed, then chunked coding (server/testing/chunked_parser.ts)
 * and SSE (bench/sse_bytes.ts). At 10–20 thousand sockets `fetch` costs far
 * more per socket than the servers do. POSTs are raw keep-alive HTTP/1.1 too.
 * Each message's text is "bench-<round>-<seq>", which maps a delivery back
 * to its send time.
 *
 * A round spreads its streams over several generators (one process cannot
 * read 10,000 sockets 20 times a second on this machine without falling
 * behind): each one "track"s its streams, one of them "send"s the messages,
 * and "collect" turns every generator's arrival times into latencies
 * against the send times, on a clock shared through the wall clock (see
 * calibrateClock). Results come back as mergeable histograms.
 *
 * Protocol: one JSON command per line on stdin, one JSON reply per line on
 * stdout (see GeneratorCommand / GeneratorReply). Every reply carries the
 * generator's own CPU time and wall time for the command, so a saturated
 * generator shows up next to the figures it produced.
 */

import process from "node:process";
import { createChunkedDecoder } from "../server/testing/chunked_parser.ts";
import {
  type Distribution,
  Histogram,
  type HistogramData,
} from "./histogram.ts";
import {
  createSseSplitter,
  newBenchEvent,
  readBenchEvent,
  type SseSplitter,
} from "./sse_bytes.ts";

/** Open `count` streams to 127.0.0.1:`port`, `concurrency` connecting at once. */
export interface OpenCommand {
  op: "open";
  port: number;
  count: number;
  concurrency: number;
  timeoutMs: number;
}

/**
 * Start tracking round `round` of `messages` messages on this generator's
 * open streams: each delivery's arrival time is kept until "collect".
 */
export interface TrackCommand {
  op: "track";
  round: number;
  messages: number;
}

/** Post the round's messages, at `rate` per second or back to back over `concurrency` connections. */
export interface SendCommand {
  op: "send";
  port: number;
  round: number;
  messages: number;
  /** Messages per second on a fixed schedule; null = as fast as possible. */
  rate: number | null;
  concurrency: number;
  /** Stop posting after this long. */
  timeoutMs: number;
}

/** Wait for the round's deliveries, then report them against the send times. */
export interface CollectCommand {
  op: "collect";
  /** Absolute send time (ms since the epoch) of each message; null = not sent. */
  sentAt: (number | null)[];
  /** Absolute time by which every delivery should be in. */
  deadline: number;
  /** After the deadline, keep waiting this long while deliveries still arrive (they count as late). */
  graceMs: number;
}

/** Keep `concurrency` POSTs in flight for `durationMs`; check the open streams see every created id once, ascending. */
export interface PostCommand {
  op: "post";
  port: number;
  /** Tags the texts, as in "track". */
  round: number;
  concurrency: number;
  durationMs: number;
  /** How long to wait, after the last POST, for the streams to catch up. */
  drainMs: number;
}

/** Close every open stream. */
export interface CloseCommand {
  op: "close";
}

/** Close everything and exit. */
export interface ExitCommand {
  op: "exit";
}

/** Anything the runner may send. */
export type GeneratorCommand =
  | OpenCommand
  | TrackCommand
  | SendCommand
  | CollectCommand
  | PostCommand
  | CloseCommand
  | ExitCommand;

/** Result of "open". */
export interface OpenResult {
  requested: number;
  opened: number;
  failed: number;
  /** First command to last stream subscribed (hello received). */
  ms: number;
  /** Distinct errors and how often each happened. */
  errors: Record<string, number>;
  /** Streams open now, this one included. */
  openNow: number;
}

/** Counts of POST answers. */
export interface PostStats {
  sent: number;
  /** Status code (or "error") → count. */
  statuses: Record<string, number>;
  latency: Distribution;
  errors: Record<string, number>;
}

/** Result of "send". */
export interface SendResult {
  /** Absolute send time of each message (ms since the epoch); null = not sent. */
  sentAt: (number | null)[];
  posts: PostStats;
}

/** Result of "collect": this generator's share of a round, mergeable with the others'. */
export interface CollectResult {
  streams: number;
  expected: number;
  received: number;
  /** Received after the deadline (included in received and in the latencies). */
  late: number;
  duplicates: number;
  outOfOrder: number;
  /** Message events that were not this round's. */
  stray: number;
  /** Streams that ended during the round. */
  streamsEnded: number;
  /** Per-delivery latency (POST written → event parsed). */
  latency: HistogramData;
  maxLatency: number;
  /** Deliveries parsed before their POST was written: a clock problem. */
  negative: number;
  /** Per message: streams here that got it, and when the last of them did (absolute, 0 = none). */
  perMessageCount: number[];
  perMessageLast: number[];
  /** Absolute time of the last delivery parsed here (0 = none). */
  lastDelivery: number;
  /** This generator's CPU and wall time from "track" to the end of "collect". */
  cpuMs: number;
  wallMs: number;
}

/** Result of "post". */
export interface PostResult {
  concurrency: number;
  /** First POST written → last answer read. */
  spanMs: number;
  created: number;
  messagesPerSecond: number;
  posts: PostStats;
  ordering: {
    readers: number;
    /** Ids that arrived lower than one before them, summed over readers. */
    descending: number;
    /** Created ids a reader never saw, summed over readers. */
    missing: number;
    duplicates: number;
    /** Ids seen that no POST here created. */
    unknown: number;
    ok: boolean;
  };
}

/** The generator's own cost for one command. */
export interface GeneratorCost {
  cpuMs: number;
  wallMs: number;
  /** cpuMs / wallMs × 100; near 100 means the generator was the bottleneck. */
  cpuPercent: number;
}

/** One line on stdout. */
export type GeneratorReply =
  & { id: number; cost: GeneratorCost }
  & ({ ok: true; result: unknown } | { ok: false; error: string });

const READ_BUFFER = 8 * 1024;
const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function countError(errors: Record<string, number>, error: unknown) {
  const key =
    (error instanceof Error ? `${error.name}: ${error.message}` : String(error))
      .slice(0, 160);
  errors[key] = (errors[key] ?? 0) + 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- streams

/** Receives the message events of the streams during a round. */
interface Tracker {
  onMessage(stream: Stream, id: number, round: number, seq: number): void;
}

let tracker: Tracker | null = null;
let strayOutsideRounds = 0;
// Time of the read being parsed: every event in one read was parsed "now".
let readAt = 0;
const event = newBenchEvent();

class Stream {
  conn: Deno.Conn | null = null;
  /** This stream's slot in the current round's bookkeeping. */
  slot = 0;
  lastId = 0;
  ids: number[] = [];
  closing = false;
  ended = false;
  private head: Uint8Array | null = new Uint8Array(0);
  private body: ((bytes: Uint8Array) => void) | null = null;
  private splitter: SseSplitter;
  private subscribed!: (error: Error | null) => void;
  readonly ready: Promise<Error | null>;
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor() {
    this.splitter = createSseSplitter((bytes) => this.onEvent(bytes));
    this.ready = new Promise((resolve) => (this.subscribed = resolve));
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  async open(port: number): Promise<Error | null> {
    try {
      this.conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await this.conn.write(enc.encode(
        `GET /stream?history=0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      ));
    } catch (error) {
      this.end(error instanceof Error ? error : new Error(String(error)));
      return await this.ready;
    }
    this.readLoop();
    return await this.ready;
  }

  close() {
    this.closing = true;
    try {
      this.conn?.close();
    } catch {
      // Already closed by the read loop.
    }
  }

  private async readLoop() {
    const buffer = new Uint8Array(READ_BUFFER);
    let error: Error | null = null;
    try {
      for (;;) {
        const n = await this.conn!.read(buffer);
        if (n === null) break;
        readAt = performance.now();
        this.feed(buffer.subarray(0, n));
      }
    } catch (e) {
      if (!this.closing) error = e instanceof Error ? e : new Error(String(e));
    }
    this.end(error ?? new Error("stream ended by the server"));
  }

  private end(error: Error) {
    if (this.ended) return;
    this.ended = true;
    this.subscribed(error);
    if (!this.closing) this.close();
    this.finish();
  }

  private feed(bytes: Uint8Array) {
    if (this.body !== null) return this.body(bytes);
    const head = new Uint8Array(this.head!.length + bytes.length);
    head.set(this.head!);
    head.set(bytes, this.head!.length);
    const text = latin1.decode(head);
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) {
      this.head = head;
      return;
    }
    this.head = null;
    const lines = text.slice(0, end).split("\r\n");
    const status = lines[0].match(/^HTTP\/1\.1 (\d{3})/);
    if (status === null || status[1] !== "200") {
      throw new Error(`GET /stream answered ${lines[0]}`);
    }
    const chunked = lines.some((l) =>
      /^transfer-encoding:\s*chunked\s*$/i.test(l)
    );
    if (chunked) {
      const decoder = createChunkedDecoder((piece) =>
        this.splitter.push(piece)
      );
      this.body = (b) => {
        decoder.push(b);
      };
    } else {
      this.body = (b) => this.splitter.push(b);
    }
    this.body(head.subarray(end + 4));
  }

  private onEvent(bytes: Uint8Array) {
    readBenchEvent(bytes, event);
    if (event.isHello) {
      this.subscribed(null);
      return;
    }
    if (!event.isMessage) return;
    if (tracker === null) strayOutsideRounds++;
    else tracker.onMessage(this, event.id, event.round, event.seq);
  }
}

const streams: Stream[] = [];

function openStreams(): Stream[] {
  return streams.filter((s) => !s.ended);
}

async function open(cmd: OpenCommand): Promise<OpenResult> {
  const start = performance.now();
  const errors: Record<string, number> = {};
  let opened = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < cmd.count) {
      next++;
      const stream = new Stream();
      streams.push(stream);
      const error = await stream.open(cmd.port);
      if (error === null) opened++;
      else {
        failed++;
        countError(errors, error);
      }
    }
  };
  const workers = Array.from(
    { length: Math.min(cmd.concurrency, cmd.count) },
    worker,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    Promise.all(workers).then(() => false),
    new Promise<boolean>((
      r,
    ) => (timer = setTimeout(() => r(true), cmd.timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    // Stop starting new ones; those in flight are left to the next close.
    failed += cmd.count - opened - failed;
    next = cmd.count;
    countError(errors, `timed out after ${cmd.timeoutMs} ms`);
  }
  return {
    requested: cmd.count,
    opened,
    failed,
    ms: Math.round(performance.now() - start),
    errors,
    openNow: openStreams().length,
  };
}

/** Result of "close". */
export interface CloseResult {
  closed: number;
  /** Message events that arrived outside any round since the last close (late ones of a timed-out round). */
  strayOutsideRounds: number;
}

async function closeAll(): Promise<CloseResult> {
  const all = streams.splice(0);
  for (const s of all) s.close();
  await Promise.all(all.map((s) => s.done));
  const stray = strayOutsideRounds;
  strayOutsideRounds = 0;
  return { closed: all.length, strayOutsideRounds: stray };
}

// ---------------------------------------------------------------- posting

/** One keep-alive HTTP/1.1 connection that sends POST /messages, one at a time. */
class Poster {
  private conn: Deno.Conn | null = null;
  private buffer = new Uint8Array(16 * 1024);
  private have = 0;

  constructor(private port: number) {}

  /** Writes the request, calling `onSent` just before; resolves with status and body. */
  async post(
    json: string,
    onSent: (at: number) => void,
  ): Promise<{ status: number; body: string }> {
    this.conn ??= await Deno.connect({
      hostname: "127.0.0.1",
      port: this.port,
    });
    const body = enc.encode(json);
    const head = enc.encode(
      `POST /messages HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const request = new Uint8Array(head.length + body.length);
    request.set(head);
    request.set(body, head.length);
    try {
      onSent(performance.now());
      let written = 0;
      while (written < request.length) {
        written += await this.conn.write(request.subarray(written));
      }
      return await this.readResponse();
    } catch (error) {
      // The connection is in an unknown state: start a new one next time.
      this.close();
      throw error;
    }
  }

  close() {
    try {
      this.conn?.close();
    } catch {
      // Already closed.
    }
    this.conn = null;
    this.have = 0;
  }

  private async fill() {
    if (this.have === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    const n = await this.conn!.read(this.buffer.subarray(this.have));
    if (n === null) throw new Error("connection closed before the answer");
    this.have += n;
  }

  private consume(n: number) {
    this.buffer.copyWithin(0, n, this.have);
    this.have -= n;
  }

  private async readResponse(): Promise<{ status: number; body: string }> {
    let end: number;
    for (;;) {
      end = latin1.decode(this.buffer.subarray(0, this.have)).indexOf(
        "\r\n\r\n",
      );
      if (end !== -1) break;
      await this.fill();
    }
    const lines = latin1.decode(this.buffer.subarray(0, end)).split("\r\n");
    this.consume(end + 4);
    const status = Number(lines[0].match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    const header = (name: string) => {
      const re = new RegExp(`^${name}:\\s*(.*?)\\s*$`, "i");
      for (const l of lines) {
        const m = l.match(re);
        if (m) return m[1];
      }
      return null;
    };
    const decoder = new TextDecoder();
    const length = header("content-length");
    if (length !== null) {
      const n = Number(length);
      while (this.have < n) await this.fill();
      const body = decoder.decode(this.buffer.subarray(0, n));
      this.consume(n);
      return { status, body };
    }
    if (/chunked/i.test(header("transfer-encoding") ?? "")) {
      let body = "";
      const chunks = createChunkedDecoder((piece) => {
        body += decoder.decode(piece, { stream: true });
      });
      for (;;) {
        const used = chunks.push(this.buffer.subarray(0, this.have));
        this.consume(used);
        if (chunks.done) return { status, body };
        await this.fill();
      }
    }
    throw new Error(`answer without a length: ${lines[0]}`);
  }
}

/** Runs `jobs` POSTs over `concurrency` keep-alive connections. */
class PostPool {
  private posters: Poster[];
  private idle: Poster[];
  private waiting: ((p: Poster) => void)[] = [];
  readonly latencies = new Histogram();
  readonly statuses: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  sent = 0;
  firstSentAt = Infinity;
  lastAnswerAt = 0;

  constructor(port: number, concurrency: number) {
    this.posters = Array.from({ length: concurrency }, () => new Poster(port));
    this.idle = [...this.posters];
  }

  /** Sends one message as soon as a connection is free; resolves with the answer (status 0 = failed). */
  async send(
    text: string,
    onSent?: (at: number) => void,
  ): Promise<{ status: number; body: string }> {
    const poster = this.idle.pop() ??
      await new Promise<Poster>((resolve) => this.waiting.push(resolve));
    let sentAt = 0;
    try {
      const answer = await poster.post(
        JSON.stringify({ author: "bench", text }),
        (at) => {
          sentAt = at;
          this.sent++;
          if (at < this.firstSentAt) this.firstSentAt = at;
          onSent?.(at);
        },
      );
      const now = performance.now();
      this.lastAnswerAt = Math.max(this.lastAnswerAt, now);
      this.latencies.add(now - sentAt);
      this.statuses[answer.status] = (this.statuses[answer.status] ?? 0) + 1;
      return answer;
    } catch (error) {
      this.statuses.error = (this.statuses.error ?? 0) + 1;
      countError(this.errors, error);
      return { status: 0, body: "" };
    } finally {
      const waiter = this.waiting.shift();
      if (waiter) waiter(poster);
      else this.idle.push(poster);
    }
  }

  stats(): PostStats {
    return {
      sent: this.sent,
      statuses: this.statuses,
      latency: this.latencies.distribution(),
      errors: this.errors,
    };
  }

  close() {
    for (const p of this.posters) p.close();
  }
}

// ---------------------------------------------------------------- rounds

/**
 * Absolute time = performance.now() + clockOffset. Date.now() has whole
 * milliseconds; sampling it for a few ms finds the offset to about a
 * microsecond (Date.now() − performance.now() never exceeds it and reaches
 * it just after each tick), so generators in different processes share a
 * clock: one posts, all of them time the deliveries.
 */
let clockOffset = performance.timeOrigin;

function calibrateClock() {
  let best = -Infinity;
  const end = performance.now() + 5;
  while (performance.now() < end) {
    const d = Date.now() - performance.now();
    if (d > best) best = d;
  }
  clockOffset = best;
}

/** The round being tracked, between "track" and "collect". */
interface Round {
  round: number;
  messages: number;
  streams: Stream[];
  /** Absolute arrival per (stream slot, seq); 0 = not yet. */
  arrivals: Float64Array;
  received: number;
  duplicates: number;
  outOfOrder: number;
  stray: number;
  /** performance.now() of the last delivery. */
  lastProgress: number;
  /** Received count once the deadline passed (-1 before). */
  atDeadline: number;
  onProgress: (() => void) | null;
  /** CPU and wall clock at "track", for the round's own cost. */
  cpuAtTrack: { user: number; system: number };
  wallAtTrack: number;
}

let current: Round | null = null;

function track(cmd: TrackCommand): { streams: number } {
  calibrateClock();
  const live = openStreams();
  live.forEach((s, i) => {
    s.slot = i;
    s.lastId = 0;
  });
  const r: Round = {
    round: cmd.round,
    messages: cmd.messages,
    streams: live,
    arrivals: new Float64Array(live.length * cmd.messages),
    received: 0,
    duplicates: 0,
    outOfOrder: 0,
    stray: 0,
    lastProgress: performance.now(),
    atDeadline: -1,
    onProgress: null,
    cpuAtTrack: process.cpuUsage(),
    wallAtTrack: performance.now(),
  };
  current = r;
  const m = cmd.messages;
  tracker = {
    onMessage(stream, id, round, seq) {
      if (round !== r.round || seq < 0 || seq >= m) {
        r.stray++;
        return;
      }
      const key = stream.slot * m + seq;
      if (r.arrivals[key] !== 0) {
        r.duplicates++;
        return;
      }
      r.arrivals[key] = readAt + clockOffset;
      if (id < stream.lastId) r.outOfOrder++;
      else stream.lastId = id;
      r.received++;
      r.lastProgress = readAt;
      if (r.received === r.arrivals.length) r.onProgress?.();
    },
  };
  return { streams: live.length };
}

async function send(cmd: SendCommand): Promise<SendResult> {
  calibrateClock();
  const sentAt: (number | null)[] = new Array(cmd.messages).fill(null);
  const pool = new PostPool(cmd.port, cmd.concurrency);
  const start = performance.now();
  const posts: Promise<unknown>[] = [];
  for (let seq = 0; seq < cmd.messages; seq++) {
    if (cmd.rate !== null) {
      // A fixed schedule (not "after the previous answer"), so a slow
      // answer does not slow the rate.
      const wait = start + (seq * 1000) / cmd.rate - performance.now();
      if (wait > 0) await sleep(wait);
    }
    if (performance.now() - start > cmd.timeoutMs) break;
    // Back to back, the pool queues them; the send time is taken at the
    // write, so time spent in the queue is not counted as delivery latency.
    posts.push(
      pool.send(
        `bench-${cmd.round}-${seq}`,
        (at) => (sentAt[seq] = at + clockOffset),
      ),
    );
  }
  await Promise.all(posts);
  pool.close();
  return { sentAt, posts: pool.stats() };
}

async function collect(cmd: CollectCommand): Promise<CollectResult> {
  const r = current;
  if (r === null) throw new Error("collect without track");
  const expected = r.arrivals.length;
  const complete = () => r.received === expected;
  // Until the deadline, then on while deliveries keep coming (late ones),
  // for at most graceMs.
  const waitUntil = async (absolute: number, stalledMs: number) => {
    while (!complete()) {
      const now = performance.now();
      const left = absolute - (now + clockOffset);
      if (left <= 0) return;
      if (stalledMs > 0 && now - r.lastProgress > stalledMs) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        r.onProgress = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      r.onProgress = null;
    }
  };
  await waitUntil(cmd.deadline, 0);
  const atDeadline = r.received;
  await waitUntil(cmd.deadline + cmd.graceMs, 2_000);
  tracker = null;
  current = null;
  const cpu = process.cpuUsage(r.cpuAtTrack);

  const m = r.messages;
  const latency = new Histogram();
  let negative = 0;
  let lastDelivery = 0;
  const perMessageCount = new Array<number>(m).fill(0);
  const perMessageLast = new Array<number>(m).fill(0);
  for (let slot = 0; slot < r.streams.length; slot++) {
    for (let seq = 0; seq < m; seq++) {
      const at = r.arrivals[slot * m + seq];
      if (at === 0) continue;
      const sent = cmd.sentAt[seq];
      if (sent === null) continue;
      const ms = at - sent;
      if (ms < 0) negative++;
      latency.add(ms);
      perMessageCount[seq]++;
      if (at > perMessageLast[seq]) perMessageLast[seq] = at;
      if (at > lastDelivery) lastDelivery = at;
    }
  }
  return {
    streams: r.streams.length,
    expected,
    received: r.received,
    late: r.received - atDeadline,
    duplicates: r.duplicates,
    outOfOrder: r.outOfOrder,
    stray: r.stray,
    streamsEnded: r.streams.filter((s) => s.ended).length,
    latency: latency.data(),
    maxLatency: latency.max,
    negative,
    perMessageCount,
    perMessageLast,
    lastDelivery,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    wallMs: Math.round(performance.now() - r.wallAtTrack),
  };
}

async function post(cmd: PostCommand): Promise<PostResult> {
  const round = cmd.round;
  const readers = openStreams();
  for (const s of readers) s.ids = [];
  tracker = {
    onMessage(stream, id, r) {
      if (r === round) stream.ids.push(id);
    },
  };
  const created: number[] = [];
  const pool = new PostPool(cmd.port, cmd.concurrency);
  const stopAt = performance.now() + cmd.durationMs;
  let seq = 0;
  const worker = async () => {
    while (performance.now() < stopAt) {
      const answer = await pool.send(`bench-${round}-${seq++}`);
      if (answer.status === 201) created.push(JSON.parse(answer.body).id);
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  pool.close();
  const drainUntil = performance.now() + cmd.drainMs;
  while (
    performance.now() < drainUntil &&
    readers.some((s) => !s.ended && s.ids.length < created.length)
  ) {
    await sleep(20);
  }
  tracker = null;
  const createdSet = new Set(created);
  let descending = 0;
  let missing = 0;
  let duplicates = 0;
  let unknown = 0;
  for (const s of readers) {
    const seen = new Set<number>();
    let last = 0;
    for (const id of s.ids) {
      if (id < last) descending++;
      last = Math.max(last, id);
      if (seen.has(id)) duplicates++;
      seen.add(id);
      if (!createdSet.has(id)) unknown++;
    }
    for (const id of created) if (!seen.has(id)) missing++;
  }
  const span = pool.lastAnswerAt - pool.firstSentAt;
  return {
    concurrency: cmd.concurrency,
    spanMs: round2(span),
    created: created.length,
    messagesPerSecond: span > 0
      ? Math.round((created.length / span) * 1000)
      : 0,
    posts: pool.stats(),
    ordering: {
      readers: readers.length,
      descending,
      missing,
      duplicates,
      unknown,
      ok: readers.length > 0 &&
        descending + missing + duplicates + unknown === 0,
    },
  };
}

// ---------------------------------------------------------------- main

async function run(cmd: GeneratorCommand): Promise<unknown> {
  switch (cmd.op) {
    case "open":
      return await open(cmd);
    case "track":
      return track(cmd);
    case "send":
      return await send(cmd);
    case "collect":
      return await collect(cmd);
    case "post":
      return await post(cmd);
    case "close":
      return await closeAll();
    case "exit":
      return await closeAll();
  }
}

async function main() {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const text of lines) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line === "") continue;
      const { id, ...cmd } = JSON.parse(line) as GeneratorCommand & {
        id: number;
      };
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      let reply: GeneratorReply;
      const cost = (): GeneratorCost => {
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        const wallMs = performance.now() - wall0;
        return {
          cpuMs: Math.round(cpuMs),
          wallMs: Math.round(wallMs),
          cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 100) : 0,
        };
      };
      try {
        const result = await run(cmd as GeneratorCommand);
        reply = { id, ok: true, result, cost: cost() };
      } catch (error) {
        reply = {
          id,
          ok: false,
          error: error instanceof Error
            ? error.stack ?? error.message
            : String(error),
          cost: cost(),
        };
      }
      console.log(JSON.stringify(reply));
      if (cmd.op === "exit") Deno.exit(0);
    }
  }
  // The runner went away: do not linger with thousands of sockets.
  await closeAll();
  Deno.exit(0);
}

if (import.meta.main) await main();
