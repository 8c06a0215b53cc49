/**
 * The load generator's posting check: POSTs kept in flight for a while give
 * the messages per second, and the open streams read along to check the
 * ordering guarantee (every created id arrives once, ids only ascend).
 */

import { setTimeout as sleep } from "node:timers/promises";
import { PostPool } from "./poster.ts";
import type { PostCommand, PostResult } from "./protocol.ts";
import { liveStreams, setTracker } from "./streams.ts";

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The "post" command: POSTs for a while, then checks every reader saw each created id once, ascending. */
export async function post(cmd: PostCommand): Promise<PostResult> {
  const round = cmd.round;
  const readers = liveStreams();
  for (const s of readers) s.ids = [];
  setTracker({
    onMessage(stream, id, r) {
      if (r === round) stream.ids.push(id);
    },
  });
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
  setTracker(null);
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
