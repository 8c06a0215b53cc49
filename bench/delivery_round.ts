/**
 * A fan-out or burst round over every generator: each one tracks its
 * streams, the first one posts, and all of them report arrivals against the
 * send times; the runner merges their histograms and counts.
 */

import { fmt } from "./format.ts";
import { GENERATORS, type LoadGenerators } from "./generators.ts";
import { type Distribution, Histogram } from "./histogram.ts";
import type {
  CollectResult,
  PostStats,
  SendResult,
} from "./load_generator/protocol.ts";
import type { RowBody } from "./report.ts";

/** A fan-out or burst round, merged over every generator. */
export interface RoundResult {
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

/**
 * Every generator tracks its streams, the first one posts, and all of them
 * report arrivals against the send times; deliveries past `timeoutMs` after
 * the first POST count as late while they keep coming, then as lost.
 */
export async function deliverRound(
  generators: LoadGenerators,
  port: number,
  messages: number,
  rate: number | null,
  concurrency: number,
  timeoutMs: number,
): Promise<RoundResult> {
  const round = generators.nextRound();
  await Promise.all(
    generators.all.map((g) => g.call({ op: "track", round, messages }, 30_000)),
  );
  const sent = await generators.all[0].call<SendResult>({
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
  const parts = await Promise.all(
    generators.all.map((g) =>
      g.call<CollectResult>(
        { op: "collect", sentAt, deadline, graceMs },
        Math.max(0, deadline - Date.now()) + graceMs + 30_000,
      )
    ),
  );
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

/** A round as a fan-out or burst row, its problems spelled out in the error. */
export function deliveryRow(
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

/** Streams and messages that warm a fresh server up (JIT, first allocations) before a row is measured. */
export const WARM_UP = { streams: 20, messages: 20 };

/** Opens WARM_UP.streams streams on `port`, fans WARM_UP.messages messages out to them, and closes them. */
export async function warmUp(generators: LoadGenerators, port: number) {
  await generators.openStreams(port, WARM_UP.streams, GENERATORS);
  await deliverRound(generators, port, WARM_UP.messages, null, 4, 10_000);
  await generators.closeStreams();
}
