/**
 * `deno run -A bench/post_floor.ts [--posts 300]`
 *
 * What a message costs before any stream sees it: one client POSTs
 * messages one after another (nothing else running, no stream open) to
 * Plaza (on a throwaway PostgreSQL, the bench's limits off) and to the
 * bare broadcaster, and prints each one's 201 latency. Plaza answers 201
 * after the INSERT has committed and the message has been handed to the
 * hub; the bare broadcaster stores nothing. The difference is the floor
 * Plaza's fan-out latency sits on at small N (docs/benchmarks.md, "The
 * fan-out sweep").
 */

import { parseArgs } from "node:util";
import { Histogram } from "./histogram.ts";
import { type Target, TARGETS } from "./plan.ts";
import { limitsOff } from "./plaza_limits.ts";
import { plazaEnvironment, startPostgres, startServer } from "./servers.ts";
import { runProgram } from "./teardown.ts";

/** POSTs sent first and not counted (JIT, the pool's connections). */
const WARM_UP_POSTS = 50;

async function post(port: number, i: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: "floor", text: `message ${i}` }),
  });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`POST answered ${res.status}`);
  return performance.now() - started;
}

async function measure(
  target: Target,
  env: Record<string, string>,
  posts: number,
) {
  const server = await startServer(target, env, null);
  try {
    for (let i = 0; i < WARM_UP_POSTS; i++) await post(server.port, i);
    const h = new Histogram();
    for (let i = 0; i < posts; i++) h.add(await post(server.port, i));
    const d = h.distribution();
    console.log(
      `${target.padEnd(5)}  p50 ${d.p50.toFixed(2)} ms  p99 ${
        d.p99.toFixed(2)
      } ms  (${posts} POSTs, one at a time)`,
    );
  } finally {
    await server.stop();
  }
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: { posts: { type: "string", default: "300" } },
  });
  const posts = Number(values.posts);
  if (!(posts >= 1)) throw new Error("--posts wants a whole number ≥ 1");
  console.log(`# bench/post_floor.ts — ${new Date().toISOString()}`);
  const tmp = await Deno.makeTempDir({ prefix: "plaza-floor-" });
  try {
    const cluster = await startPostgres();
    const env = await plazaEnvironment(cluster, tmp, limitsOff());
    for (const target of TARGETS) await measure(target, env, posts);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

await runProgram("post_floor", main);
