import assert from "node:assert/strict";
import { loadConfig } from "../server/config.ts";
import { limitsOff } from "./plaza_limits.ts";

Deno.test("the bench's settings turn off the post budget (names, edits, reactions) and the wrong-token budget", () => {
  const env = Object.fromEntries(limitsOff().map((l) => [l.name, l.value]));
  const config = loadConfig(env);
  assert.equal(config.postLimit, null);
  assert.equal(config.authFailureLimit, null);
  assert.equal(config.streamsPerAddress, Infinity);
  assert.equal(config.streamMaxAgeMs, 0);
});
