import assert from "node:assert/strict";
import {
  checkChatRoundTrip,
  checkClientServed,
} from "../../tools/docker_steps.ts";
import { startListening } from "../harness/server_process.ts";
import { withTestDatabase } from "../harness/fixtures.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const BINARY = new URL("../../dist/plaza", import.meta.url).pathname;

/**
 * `deno compile` needs the matching `denort` runtime: DENORT_BIN, a copy in
 * Deno's cache, or a download from dl.deno.land. Machines that reach only the
 * npm registry have none of these, so there the test is reported as ignored
 * rather than failing on the download.
 */
async function denortAvailable(): Promise<boolean> {
  if (Deno.env.get("DENORT_BIN")) return true;
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const { denoDir } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    denoDir: string;
  };
  const cached =
    `${denoDir}/dl/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  if (await Deno.stat(cached).then(() => true, () => false)) return true;
  try {
    const res = await fetch("https://dl.deno.land/", {
      method: "HEAD",
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "deno task compile gives one binary that serves the client and chats, from any directory",
  ignore: !(await denortAvailable()),
  async fn() {
    // One compile per run: it builds the client first and takes a while.
    const compiled = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(
      compiled.success,
      new TextDecoder().decode(compiled.stderr),
    );
    // Started elsewhere, the binary can only find dist/ and db/migrations
    // among its embedded files.
    const cwd = await Deno.makeTempDir({ prefix: "plaza-compiled-" });
    try {
      await withTestDatabase(async (url) => {
        const server = await startListening(BINARY, [], {
          cwd,
          env: { PORT: "0", HOST: "127.0.0.1", DATABASE_URL: url },
        });
        let stopped = false;
        try {
          await checkClientServed(server.url);
          await checkChatRoundTrip(server.url);
          stopped = true;
          const { code, stderr } = await server.stop();
          assert.equal(code, 0, stderr);
        } finally {
          if (!stopped) await server.stop();
        }
      });
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
