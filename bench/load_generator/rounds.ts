/**
 * A delivery round, spread over several generators (one process cannot read
 * 10,000 sockets 20 times a second on this machine without falling behind):
 * each one "track"s its streams, one of them "send"s the messages, and
 * "collect" turns every generator's arrival times into latencies against the
 * send times, on a clock shared through the wall clock (see calibrateClock).
 * Results come back as mergeable histograms. Each message's text is
 * "bench-<round>-<seq>", which maps a delivery back to its send time.
 */

import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { Histogram } from "../histogram.ts";
import { PostPool } from "./poster.ts";
import type {
  CollectCommand,
  CollectResult,
  SendCommand,
  SendResult,
  TrackCommand,
} from "./protocol.ts";
import { liveStreams, setTracker, type Stream } from "./streams.ts";

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

/** The "track" command: from now on, records each delivery of round `round` on the open streams. */
export function track(cmd: TrackCommand): { streams: number } {
  calibrateClock();
  const live = liveStreams();
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
  setTracker({
    onMessage(stream, id, round, seq, at) {
      if (round !== r.round || seq < 0 || seq >= m) {
        r.stray++;
        return;
      }
      const key = stream.slot * m + seq;
      if (r.arrivals[key] !== 0) {
        r.duplicates++;
        return;
      }
      r.arrivals[key] = at + clockOffset;
      if (id < stream.lastId) r.outOfOrder++;
      else stream.lastId = id;
      r.received++;
      r.lastProgress = at;
      if (r.received === r.arrivals.length) r.onProgress?.();
    },
  });
  return { streams: live.length };
}

/** The "send" command: posts the round's messages and says when each was written. */
export async function send(cmd: SendCommand): Promise<SendResult> {
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

/** The "collect" command: waits for the round's deliveries, then turns them into latencies. */
export async function collect(cmd: CollectCommand): Promise<CollectResult> {
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
  setTracker(null);
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
