/** Sends cases and judges each answer: from concurrent clients until time is up, or one case replayed. */
import { clip } from "./bytes.ts";
import { type Case, describeCase, type GenContext } from "./cases.ts";
import { generate } from "./generate.ts";
import { checkAnswer } from "./oracle_answer.ts";
import { type Outcome, REQUEST_TIMEOUT_MS } from "./outcome.ts";
import { addFinding, count, type RunState } from "./run_state.ts";
import { sendFetch } from "./send_fetch.ts";
import { sendRaw } from "./send_raw.ts";
import type { Settings } from "./settings.ts";

/** Requests in flight at once: modest, the test machines have 2 cores. */
export const CONCURRENCY = 8;

/** Where the cases go: the instance's base URL (fetch) and port (raw sockets). */
export interface Target {
  url: string;
  port: number;
}

/** Sends case `index` and records its outcome and any broken rule in `state`. */
async function runCase(
  index: number,
  c: Case,
  plaza: Target,
  state: RunState,
): Promise<Outcome> {
  const outcome = c.via === "fetch"
    ? await sendFetch(plaza.url, c)
    : await sendRaw(plaza.port, c);
  state.cases++;
  let stats = state.stats.get(c.kind);
  if (stats === undefined) {
    stats = { cases: 0, statuses: new Map() };
    state.stats.set(c.kind, stats);
  }
  stats.cases++;
  let problems: string[] = [];
  if ("answer" in outcome) {
    count(stats.statuses, String(outcome.answer.status));
    problems = checkAnswer(c, outcome.answer, state);
  } else if ("timedOut" in outcome) {
    count(stats.statuses, "timeout");
    problems = [`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`];
  } else if ("dropped" in outcome) {
    count(stats.statuses, "dropped");
    state.dropped++;
    count(state.dropReasons, `${c.kind}: ${outcome.dropped.slice(0, 70)}`);
    if (!c.mayDrop) problems = [`no answer: ${outcome.dropped}`];
  } else {
    count(stats.statuses, "sent");
    state.sentOnly++;
  }
  for (const problem of problems) {
    addFinding(state, {
      index,
      kind: c.kind,
      request: describeCase(c),
      problem,
    });
  }
  return outcome;
}

/**
 * With FUZZ_CASE, sends that one case and prints it with its answer;
 * otherwise sends cases 0, 1, 2… from CONCURRENCY clients until
 * `settings.seconds` have passed.
 */
export async function runCases(
  settings: Settings,
  ctx: GenContext,
  plaza: Target,
  state: RunState,
): Promise<void> {
  if (settings.only !== null) {
    const c = generate(settings.seed, settings.only, ctx);
    console.log(`case ${settings.only} (${c.kind}): ${describeCase(c)}`);
    const outcome = await runCase(settings.only, c, plaza, state);
    console.log(
      "answer:",
      "answer" in outcome
        ? {
          status: outcome.answer.status,
          headers: Object.fromEntries(outcome.answer.headers),
          body: clip(outcome.answer.body, 2000),
        }
        : outcome,
    );
    return;
  }
  const deadline = Date.now() + settings.seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const index = next++;
      try {
        await runCase(
          index,
          generate(settings.seed, index, ctx),
          plaza,
          state,
        );
      } catch (error) {
        // A bug of the fuzzer itself: report it with the case, and
        // keep the other clients going.
        addFinding(state, {
          index,
          kind: "raw-junk",
          request: "(the fuzzer failed to build or send it)",
          problem: `fuzzer error: ${Deno.inspect(error)}`,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}
