/** One fuzz run against a fresh instance: start it, send the cases, check what it stored and that it still chats, close it, report. */
import { startTestInstance } from "../harness/fixtures.ts";
import type { GenContext } from "./cases.ts";
import { checkChat } from "./oracle_chat.ts";
import { checkStored } from "./oracle_stored.ts";
import { failureReport } from "./report.ts";
import { caseSeed, Rng } from "./rng.ts";
import { newRunState, type RunState } from "./run_state.ts";
import { runCases } from "./runner.ts";
import { captureConsoleErrors } from "./server_log.ts";
import type { Settings } from "./settings.ts";

/** The instance's ADMIN_TOKEN, which the generators use in some DELETEs. */
export const ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef";
/** clientIds shared by several cases, for the idempotency path. */
export const POOLED_CLIENT_IDS = 6;

/** What a run came to: its record, how long sending took, and the failure report (empty: passed). */
export interface RunResult {
  state: RunState;
  elapsedMs: number;
  report: string[];
}

/** Runs the fuzzer against a new instance on `databaseUrl` and closes it. */
export async function fuzzInstance(
  settings: Settings,
  databaseUrl: string,
): Promise<RunResult> {
  const plaza = await startTestInstance(databaseUrl, {
    // The default typing limit would answer nearly every fuzzed /typing
    // with 429 and leave its body parsing untested.
    TYPING_RATE: "100000/1s",
    TYPING_BURST: "100000",
    // Likewise reports: REPORT_RATE's default would leave POST /reports
    // nearly all 429 (its limit has its own tests).
    REPORT_RATE: "100000/1s",
    REPORT_BURST: "100000",
    // And uploads (UPLOAD_RATE has its own tests in test/system).
    UPLOAD_RATE: "off",
    // Moderation on, so DELETE /messages/:id and its token check are
    // fuzzed too; only cases that use this token can delete.
    ADMIN_TOKEN,
    // The fuzzer sends hundreds of wrong tokens from one address: with the
    // limit on, every later admin case (the right token too) would be a
    // 429 and the delete path would go unfuzzed. The limit has its own
    // tests in app_test.ts.
    AUTH_FAILURE_RATE: "off",
    // /embed then goes out with its own frame-ancestors (and no
    // X-Frame-Options), which the fuzz covers too.
    EMBED_ORIGINS: "https://blog.example",
  });
  try {
    // Drawn before any case, from a stream of its own (case -1), so the
    // pool is the same for a whole run and for a replay of one case.
    const poolRng = new Rng(caseSeed(settings.seed, -1));
    const ctx: GenContext = {
      host: `127.0.0.1:${plaza.port}`,
      pool: Array.from({ length: POOLED_CLIENT_IDS }, () => poolRng.uuid()),
      adminToken: ADMIN_TOKEN,
    };
    const state = newRunState();
    const errors = captureConsoleErrors();
    const after: string[] = [];
    let elapsedMs: number;
    try {
      const started = Date.now();
      await runCases(settings, ctx, plaza, state);
      elapsedMs = Date.now() - started;

      const health = await fetch(`${plaza.url}/healthz`);
      const healthBody = await health.text();
      if (health.status !== 200) {
        after.push(
          `/healthz answered ${health.status} ${healthBody} after the run`,
        );
      }
      after.push(...await checkStored(plaza.url, databaseUrl, state));
      after.push(...await checkChat(plaza.url));
      // Requests sent then closed unread may still be in the server. Closing
      // it resolves once every request in flight has ended (and logged), or
      // logs that some did not: either way the log is complete to judge.
      await plaza.close();
    } finally {
      errors.stop();
    }
    return {
      state,
      elapsedMs,
      report: failureReport(state, settings.seed, errors.logged, after),
    };
  } finally {
    await plaza.close();
  }
}
