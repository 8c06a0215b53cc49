import assert from "node:assert/strict";
import { parseId, parseIntParam } from "./request_params.ts";

Deno.test("parseId accepts whole numbers and refuses everything else", () => {
  assert.deepEqual(parseId("0", "id"), { ok: true, value: 0 });
  assert.deepEqual(parseId(" 123 ", "id"), { ok: true, value: 123 });
  for (
    const bad of [
      "",
      "-1",
      "1.5",
      "1e3",
      "abc",
      "9".repeat(17),
      "9007199254740993",
      "0x10",
    ]
  ) {
    assert.equal(parseId(bad, "id").ok, false, bad);
  }
  const long = parseId("x".repeat(10_000), "since");
  assert.equal(long.ok, false);
  if (!long.ok) assert.ok(long.error.length < 200);
});

Deno.test("parseIntParam applies its bounds and default", () => {
  assert.deepEqual(parseIntParam(undefined, "limit", 1, 200, 50), {
    ok: true,
    value: 50,
  });
  assert.deepEqual(parseIntParam("200", "limit", 1, 200, 50), {
    ok: true,
    value: 200,
  });
  for (const bad of ["0", "201", "-5", "ten", "1".repeat(50)]) {
    assert.equal(parseIntParam(bad, "limit", 1, 200, 50).ok, false, bad);
  }
});
