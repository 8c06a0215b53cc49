/**
 * The load generator's changes check: PATCH /messages/<id> (edits), then
 * POST /messages/<id>/reactions (toggles), each kept in flight for a while
 * over keep-alive connections, for changes per second and their latency.
 */

import { PostPool } from "./poster.ts";
import type { JsonRequest } from "./poster.ts";
import type { ChangePhase, ChangesCommand, ChangesResult } from "./protocol.ts";

/** The emoji a reaction phase cycles through (protocol/reactions.ts's set). */
const EMOJIS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/** Sends `next(worker, seq)` from `concurrency` workers until `durationMs` is up. */
async function phase(
  port: number,
  concurrency: number,
  durationMs: number,
  next: (worker: number, seq: number) => JsonRequest,
): Promise<ChangePhase> {
  const pool = new PostPool(port, concurrency);
  const stopAt = performance.now() + durationMs;
  let ok = 0;
  const worker = async (w: number) => {
    for (let seq = 0; performance.now() < stopAt; seq++) {
      const answer = await pool.request(next(w, seq));
      if (answer.status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  pool.close();
  const span = pool.lastAnswerAt - pool.firstSentAt;
  return {
    spanMs: Math.round(span * 100) / 100,
    ok,
    perSecond: span > 0 ? Math.round((ok / span) * 1000) : 0,
    requests: pool.stats(),
  };
}

/** The "changes" command: each worker edits its own message, then toggles reactions on the next one's. */
export async function changes(cmd: ChangesCommand): Promise<ChangesResult> {
  const authors = cmd.authors;
  if (authors.length < cmd.concurrency) {
    throw new Error(
      `changes: ${authors.length} authors for ${cmd.concurrency} workers`,
    );
  }
  const edits = await phase(
    cmd.port,
    cmd.concurrency,
    cmd.durationMs,
    (w, seq) => ({
      method: "PATCH",
      path: `/messages/${authors[w].messageId}`,
      json: JSON.stringify({ text: `bench edit ${cmd.round}-${w}-${seq}` }),
      token: authors[w].token,
    }),
  );
  // Each message takes reactions from one name: what is measured is the
  // change itself, not several names queueing on one message's row.
  const reactions = await phase(
    cmd.port,
    cmd.concurrency,
    cmd.durationMs,
    (w, seq) => ({
      method: "POST",
      path: `/messages/${
        authors[(w + 1) % cmd.concurrency].messageId
      }/reactions`,
      json: JSON.stringify({ emoji: EMOJIS[seq % EMOJIS.length] }),
      token: authors[w].token,
    }),
  );
  return { concurrency: cmd.concurrency, edits, reactions };
}
