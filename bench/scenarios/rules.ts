/**
 * rules: what moderators' word and link rules cost the post path. The
 * matcher alone (in this process: µs per message with no rules and with
 * 1,000), then Plaza's posting throughput with no rules and with 1,000
 * (alternating, twice each, so a drift of the machine hits both alike).
 * The rules never match what the bench posts ("bench-<round>-<n>"): every
 * post is checked in full and stored.
 */

import postgres from "postgres";
import { compileRules } from "../../server/limits/rule_matcher.ts";
import type { Rule } from "../../protocol/rules.ts";
import type { PostResult } from "../load_generator/protocol.ts";
import { withCpu } from "../proc_stats.ts";
import { note, printHeader } from "../report.ts";
import { fmt } from "../format.ts";
import { type Context, measure } from "./scenario.ts";

/** Rules in the loaded case. */
export const RULE_COUNT = 1_000;
/** Matcher calls timed per case (after as many to warm up). */
const MATCHER_CALLS = 20_000;
/** Concurrency of the posting rows (the posting scenario's first). */
const POSTING_CONCURRENCY = 16;

/** `n` rules like a busy room's: mostly words, some phrases, substrings and domains. */
export function benchRules(n: number): Rule[] {
  return Array.from({ length: n }, (_, i) => {
    const shape = i % 10;
    const [kind, pattern, substring] = shape < 6
      ? ["word", `zqword${i}`, false]
      : shape < 8
      ? ["word", `zq phrase ${i}`, false]
      : shape < 9
      ? ["word", `zqsub${i}`, true]
      : ["domain", `zq${i}.invalid`, false];
    return {
      id: i + 1,
      kind: kind as Rule["kind"],
      pattern: pattern as string,
      substring: substring as boolean,
      action: (["refuse", "hold", "mute"] as const)[i % 3],
      muteMinutes: i % 3 === 2 ? 10 : null,
      reason: null,
      createdAt: "2026-12-06T00:00:00.000Z",
    };
  });
}

/** A typical message (a sentence, a mention, a link) and the longest one. */
export const SAMPLE_TEXTS = {
  typical:
    "hey @ann, have you seen https://example.com/some/page?id=7 — it's great, see you tomorrow at 10!",
  longest: "Lorem ipsum dolor sit amet, ünïcödé https://a.example/x ".repeat(36)
    .slice(0, 2000),
};

/** µs per match() of `text` against `n` rules, in this process. */
export function matcherMicros(n: number, text: string): number {
  const matcher = compileRules(benchRules(n));
  let hits = 0;
  for (let i = 0; i < MATCHER_CALLS; i++) if (matcher.match(text)) hits++;
  const start = performance.now();
  for (let i = 0; i < MATCHER_CALLS; i++) if (matcher.match(text)) hits++;
  const micros = (performance.now() - start) * 1000 / MATCHER_CALLS;
  if (hits > 0) throw new Error("a bench rule matched the sample text");
  return Math.round(micros * 100) / 100;
}

/** Puts exactly `n` bench rules in Plaza's database (its trigger tells the instance). */
async function setRules(databaseUrl: string, n: number) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`delete from moderation_rules`;
    if (n === 0) return;
    const rows = benchRules(n).map((r) => ({
      kind: r.kind,
      pattern: r.pattern,
      substring: r.substring,
      action: r.action,
      mute_minutes: r.muteMinutes,
    }));
    await sql`insert into moderation_rules ${sql(rows)}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Waits until the instance refuses (n > 0) or accepts (n = 0) a post the first rule matches. */
async function applied(port: number, n: number) {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ author: "bench-rules", text: "zqword0" }),
    });
    await res.body?.cancel();
    if ((n > 0) === (res.status === 422)) return;
    if (performance.now() > deadline) {
      throw new Error(`rules not applied: POST answered ${res.status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the rules scenario on the long-lived Plaza instance; leaves it with no rules. */
export async function rules(ctx: Context) {
  const { plan, generators } = ctx;
  printHeader(
    "rules",
    `the matcher alone (${
      fmt(MATCHER_CALLS)
    } calls, this process), then keep-alive POSTs at c=${POSTING_CONCURRENCY} for ${
      plan.postingMs / 1000
    } s with 0 and ${fmt(RULE_COUNT)} rules, alternating`,
  );
  for (const [name, text] of Object.entries(SAMPLE_TEXTS)) {
    for (const n of [0, RULE_COUNT]) {
      await measure(
        ctx,
        "rules",
        `match ${name}, ${fmt(n)}`,
        "plaza",
        () =>
          Promise.resolve({ figures: { matcherUs: matcherMicros(n, text) } }),
      );
    }
  }
  const server = ctx.servers!.plaza;
  const databaseUrl = ctx.plazaEnv.DATABASE_URL;
  const perSecond: Record<number, number[]> = { 0: [], [RULE_COUNT]: [] };
  for (const n of [0, RULE_COUNT, 0, RULE_COUNT]) {
    await setRules(databaseUrl, n);
    await applied(server.port, n);
    const run = perSecond[n].length + 1;
    await measure(
      ctx,
      "rules",
      `post, ${fmt(n)} #${run}`,
      "plaza",
      async () => {
        await generators.openStreams(server.port, 1, 1);
        const { value, serverCpu, machineCpu } = await withCpu(
          server,
          () =>
            generators.all[0].call<PostResult>({
              op: "post",
              port: server.port,
              round: generators.nextRound(),
              concurrency: POSTING_CONCURRENCY,
              durationMs: plan.postingMs,
              drainMs: 10_000,
            }, plan.postingMs + 40_000),
        );
        const r = value.result;
        const non201 = r.posts.sent - (r.posts.statuses["201"] ?? 0);
        perSecond[n].push(r.messagesPerSecond);
        return {
          figures: {
            perSecond: r.messagesPerSecond,
            p50: r.posts.latency.p50,
            p99: r.posts.latency.p99,
            non201,
          },
          generatorCpuPercent: value.cost.cpuPercent,
          serverCpuPercent: serverCpu,
          machineCpuPercent: machineCpu,
          error: non201 === 0
            ? undefined
            : `statuses ${JSON.stringify(r.posts.statuses)}`,
          raw: r,
        };
      },
    );
  }
  await setRules(databaseUrl, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (perSecond[0].length > 0 && perSecond[RULE_COUNT].length > 0) {
    const change = (mean(perSecond[RULE_COUNT]) / mean(perSecond[0]) - 1) *
      100;
    note(
      `posting with ${fmt(RULE_COUNT)} rules: ${change >= 0 ? "+" : ""}${
        change.toFixed(1)
      } % messages/s against none (mean of ${
        perSecond[0].length
      } runs each; target: within 5 %)`,
    );
  }
}
