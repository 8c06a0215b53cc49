/**
 * Fuzzes a running Plaza instance over real TCP (127.0.0.1, a fresh test
 * database): random and malformed requests from 8 clients at once, with a
 * share of valid posts mixed in. It checks the HTTP contract of docs/api.md:
 *
 * - no answer is ever a 5xx (the database is up, so not even a 503);
 * - every 4xx from the app is JSON `{"error": "<sentence>"}` (405 with Allow,
 *   429 with Retry-After); rejections by Deno's HTTP layer itself (malformed
 *   request lines, oversized headers: a bare 400 before the app runs) are
 *   accepted but counted apart;
 * - answers the request predicts are the ones given (e.g. 413 past 16 KiB,
 *   415 for other content types, 201 for a valid post);
 * - the server logs no unhandled error (a 500 nobody saw is still a 500);
 * - nothing hangs (every request has a 10 s timeout);
 * - afterwards the instance still answers /healthz, every stored row passes
 *   validateMessageInput unchanged (no garbage stored), the rows are exactly
 *   the messages that got a 201 (less those a fuzzed DELETE with the admin
 *   token removed), GET /messages pages through the same rows, no stream
 *   stays counted, and a normal chat (stream, post, receive) works.
 *
 * The one 5xx allowed is the app's documented 503 text for GET / (and the
 * same page at /m/<id> and /embed) when no client is built, which is the
 * case in tests (counted apart).
 *
 * Environment:
 * - `FUZZ_SECONDS`: how long to send requests, default 25 (the whole test
 *   then takes about 30 s). A longer soak:
 *   `FUZZ_SECONDS=600 deno task test test/fuzz/fuzz_test.ts`.
 * - `FUZZ_SEED`: the seed, a 32-bit unsigned integer. Every run prints the
 *   one it used; set it to send the same requests again.
 * - `FUZZ_CASE`: with `FUZZ_SEED`, send only case number N of that run and
 *   print the request and the answer.
 *
 * Each case draws from its own PRNG seeded by (seed, case number), so case N
 * is the same request however the concurrent clients were scheduled; only
 * which earlier posts it races with can differ.
 *
 * The program: settings.ts reads the environment; generate.ts picks case N
 * from the gen_*.ts generators (one per class of request, built with
 * requests.ts, text_pools.ts and rng.ts); runner.ts sends the cases
 * (send_fetch.ts, send_raw.ts) and judges each answer with the oracles
 * (oracle_post.ts predicts, oracle_answer.ts checks); driver.ts runs it all
 * against an instance and, after the run, checks the stored rows
 * (oracle_stored.ts) and the chat (oracle_chat.ts); report.ts prints the
 * summary and the findings, each with the FUZZ_SEED/FUZZ_CASE that replays it.
 */
import assert from "node:assert/strict";
import { withTestDatabase } from "../harness/fixtures.ts";
import { fuzzInstance } from "./driver.ts";
import { summary } from "./report.ts";
import { readSettings } from "./settings.ts";

Deno.test("fuzz: malformed and random requests never get a 5xx, store garbage or break the chat", async () => {
  const settings = readSettings();
  console.log(
    `fuzz: seed ${settings.seed} (replay: FUZZ_SEED=${settings.seed}), ${
      settings.only === null
        ? `${settings.seconds} s (FUZZ_SECONDS)`
        : `case ${settings.only} only`
    }`,
  );
  await withTestDatabase(async (databaseUrl) => {
    const { state, elapsedMs, report } = await fuzzInstance(
      settings,
      databaseUrl,
    );
    console.log(summary(state, elapsedMs));
    assert.equal(
      report.length,
      0,
      `seed ${settings.seed}:\n${report.join("\n")}`,
    );
  });
});
