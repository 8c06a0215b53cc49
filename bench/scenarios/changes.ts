/**
 * changes: edits (PATCH /messages/<id>) and reaction toggles
 * (POST /messages/<id>/reactions) kept in flight at each concurrency of the
 * plan, for changes per second and their latency. Plaza only: the bare
 * broadcaster has no names, edits or reactions.
 *
 * The set-up (claim a name per worker, post one message with its token) is
 * plain `fetch` from here: a few dozen requests, not measured. The measured
 * part runs in a load generator over raw keep-alive connections, like
 * posting, so the two scenarios' latencies compare.
 */

import type {
  ChangePhase,
  ChangesAuthor,
  ChangesResult,
} from "../load_generator/protocol.ts";
import { withCpu } from "../proc_stats.ts";
import { printHeader } from "../report.ts";
import { type Context, measure } from "./scenario.ts";

/** Set-up requests are given this long each. */
const SETUP_TIMEOUT_MS = 10_000;

/** POSTs `body` as JSON and returns the parsed answer, throwing unless it is `want`. */
async function postJson(
  url: string,
  body: unknown,
  want: number,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== want) {
    throw new Error(`set-up: ${url} answered ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

/** Claims `count` names and posts one message with each token. */
async function authors(
  port: number,
  round: number,
  count: number,
): Promise<ChangesAuthor[]> {
  const base = `http://127.0.0.1:${port}`;
  return await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `bench-${round}-${i}`;
      const claim = await postJson(`${base}/names`, { name }, 201);
      const token = String(claim.token);
      const message = await postJson(
        `${base}/messages`,
        { author: name, text: `bench changes ${round}-${i}` },
        201,
        token,
      );
      return { token, messageId: Number(message.id) };
    }),
  );
}

function problems(kind: string, p: ChangePhase): string {
  const non200 = p.requests.sent - p.ok;
  return non200 === 0
    ? ""
    : `${kind}: statuses ${JSON.stringify(p.requests.statuses)} ${
      JSON.stringify(p.requests.errors)
    }`;
}

/** Runs the changes scenario on the long-lived Plaza instance. */
export async function changes(ctx: Context) {
  const { plan, generators } = ctx;
  printHeader(
    "changes",
    `one name and message per connection; edits for ${
      plan.changesMs / 1000
    } s, then reaction toggles for ${
      plan.changesMs / 1000
    } s; one stream reads along; Plaza only`,
  );
  for (const c of plan.changesConcurrency) {
    await measure(ctx, "changes", `c=${c}`, "plaza", async () => {
      const server = ctx.servers!.plaza;
      const round = generators.nextRound();
      const cast = await authors(server.port, round, c);
      // After the set-up, so its messages are not strays on the stream.
      await generators.openStreams(server.port, 1, 1);
      const { value, serverCpu, machineCpu } = await withCpu(
        server,
        () =>
          generators.all[0].call<ChangesResult>({
            op: "changes",
            port: server.port,
            round,
            concurrency: c,
            durationMs: plan.changesMs,
            authors: cast,
          }, 2 * plan.changesMs + 40_000),
      );
      const { edits, reactions } = value.result;
      const error = [problems("edits", edits), problems("reactions", reactions)]
        .filter((s) => s).join("; ");
      return {
        figures: {
          editsPerSecond: edits.perSecond,
          editP50: edits.requests.latency.p50,
          editP99: edits.requests.latency.p99,
          reactionsPerSecond: reactions.perSecond,
          reactionP50: reactions.requests.latency.p50,
          reactionP99: reactions.requests.latency.p99,
          non200: edits.requests.sent - edits.ok + reactions.requests.sent -
            reactions.ok,
        },
        generatorCpuPercent: value.cost.cpuPercent,
        serverCpuPercent: serverCpu,
        machineCpuPercent: machineCpu,
        error: error || undefined,
        raw: value.result,
      };
    });
  }
}
