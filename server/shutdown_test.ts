// SIGTERM ends every stream, gives up on clients that stopped reading, closes
// the database and exits 0 within 5 s.
import assert from "node:assert/strict";
import postgres from "postgres";
import { withTestDatabase } from "./testing/fixtures.ts";
import { openSse } from "./testing/sse_client.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

Deno.test("SIGTERM: streams end, a stalled client does not hold the exit, exit 0 within 5 s", async () => {
  await withTestDatabase(async (url) => {
    const sql = postgres(url, { onnotice: () => {} });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN],
      env: {
        DATABASE_URL: url,
        PORT: "0",
        HOST: "127.0.0.1",
        DIST_DIR: "./no-client-here",
        STREAM_BUFFER_BYTES: String(64 * 1024 * 1024),
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    try {
      while (!/listening on (http:\/\/\S+)/.test(out)) {
        const { done, value } = await lines.read();
        if (done) throw new Error(`server exited early: ${await stderr}`);
        out += value;
      }
      const base = out.match(/listening on (http:\/\/\S+)/)![1];
      const stalled = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(base).port),
      });
      await stalled.write(new TextEncoder().encode(
        "GET /stream?history=0 HTTP/1.1\r\nHost: x\r\n\r\n",
      ));
      // Read up to the hello event (the stream is subscribed), then stop
      // reading for good.
      const chunk = new Uint8Array(4096);
      let head = "";
      while (!head.includes("event: hello")) {
        const n = await stalled.read(chunk);
        if (n === null) throw new Error("stalled stream closed early");
        head += new TextDecoder().decode(chunk.subarray(0, n));
      }
      const reader = await openSse(`${base}/stream?history=0`);
      await reader.until((e) => e.some((x) => x.event === "hello"));
      // ~40 MB of live messages: once the reader has them all, the hub has
      // queued the same bytes for the stalled client, far more than its
      // socket buffers hold.
      await sql`insert into messages (author, text)
                select 'seed', repeat('é', 2000) from generate_series(1, 10000)`;
      await reader.untilMessages(10_000);

      const started = Date.now();
      child.kill("SIGTERM");
      await reader.ended;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        child.status,
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), 10_000);
        }),
      ]);
      clearTimeout(timer);
      const elapsed = Date.now() - started;
      assert.ok(status !== null, "still running 10 s after SIGTERM");
      stalled.close();
      await reader.close();
      assert.equal(status.code, 0, await stderr);
      assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      // The stalled client really did hold a response open.
      assert.match(await stderr, /did not finish within/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await lines.cancel().catch(() => {});
      await child.status;
      await stderr;
      await sql.end({ timeout: 1 });
    }
  });
});
