import assert from "node:assert/strict";
import {
  execForm,
  parseDockerfile,
  runDockerSteps,
} from "../../tools/docker_steps.ts";
import { withTestDatabase } from "../harness/fixtures.ts";

const DOCKERFILE = new URL("../../Dockerfile", import.meta.url);

Deno.test("the Dockerfile runs the server with only the permissions it needs", async () => {
  const stages = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  const runtime = stages.at(-1)!;
  assert.ok(stages.length >= 2, "multi-stage: the runtime stage is separate");
  assert.ok(stages.every((s) => s.from === "denoland/deno:2.9.6"));
  const cmd = runtime.instructions.find((i) => i.keyword === "CMD");
  assert.ok(cmd);
  const args = execForm(cmd.args);
  // No --allow-all, no --allow-run, writes confined to the embedded DB.
  assert.deepEqual(args.filter((a) => a.startsWith("--allow")), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write=/app/data",
  ]);
  assert.equal(args.at(-1), "server/main.ts");
  assert.deepEqual(
    runtime.instructions.find((i) => i.keyword === "USER")?.args,
    "deno",
  );
  assert.equal(
    runtime.instructions.find((i) => i.keyword === "EXPOSE")?.args,
    "8000",
  );
  assert.ok(runtime.instructions.some((i) => i.keyword === "HEALTHCHECK"));
});

Deno.test("the Dockerfile's steps, replayed, give a server that chats", async () => {
  await withTestDatabase(async (url) => {
    const lines: string[] = [];
    await runDockerSteps({
      databaseUrl: url,
      log: (l) => lines.push(l),
    });
    // Every check ran, not merely nothing threw.
    for (
      const step of [
        "runtime stage free of",
        "GET / serves the built client",
        "POST /messages arrives on /stream",
        "HEALTHCHECK passes",
        "SIGTERM: clean exit",
      ]
    ) {
      assert.ok(lines.some((l) => l.startsWith(step)), lines.join("\n"));
    }
  });
});
