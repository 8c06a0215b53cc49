// Reading the notification settings (notify_settings.ts): the server's
// answer and the device's stored copy, and nothing that does not fit.
import assert from "node:assert/strict";
import { parseSettings } from "./notify_settings.ts";

Deno.test("parseSettings takes the server's answer (ISO time) and the stored copy (epoch ms), and refuses the rest", () => {
  assert.deepEqual(parseSettings({ mode: "mentions", mutedUntil: null }), {
    mode: "mentions",
    mutedUntil: null,
  });
  assert.deepEqual(
    parseSettings({ mode: "all", mutedUntil: "2026-12-06T16:00:00.000Z" }),
    { mode: "all", mutedUntil: Date.UTC(2026, 11, 6, 16) },
  );
  assert.deepEqual(parseSettings({ mode: "none", mutedUntil: 5 }), {
    mode: "none",
    mutedUntil: 5,
  });
  for (
    const junk of [
      null,
      "all",
      { mode: "some", mutedUntil: null },
      { mode: "all" },
      { mode: "all", mutedUntil: "soon" },
      { mode: "toString", mutedUntil: null },
    ]
  ) {
    assert.equal(parseSettings(junk), null, JSON.stringify(junk));
  }
});
