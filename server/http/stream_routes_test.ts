import assert from "node:assert/strict";
import { withNameApp } from "../../test/harness/name_app.ts";
import { testLimits } from "../../test/harness/app_deps.ts";
import type { StreamSlots } from "../limits/shared_limits.ts";

/** Stream slots that only count what the route asks of them. */
function countingSlots() {
  const calls = { acquire: 0, release: 0 };
  const slots: StreamSlots = {
    acquire() {
      calls.acquire++;
      return Promise.resolve(true);
    },
    release() {
      calls.release++;
    },
    close: () => Promise.resolve(),
  };
  return { slots, calls };
}

for (const [setting, expected] of [[Infinity, 0], [4, 1]] as const) {
  Deno.test(`GET /stream with STREAMS_PER_ADDRESS ${setting === Infinity ? "off counts nothing" : "on takes and gives back a slot"}`, async () => {
    const { slots, calls } = countingSlots();
    await withNameApp(async ({ app }) => {
      const res = await app.request("/stream?history=0");
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    }, {
      limits: testLimits({ streamsPerAddress: setting, streamSlots: slots }),
    });
    assert.deepEqual(calls, { acquire: expected, release: expected });
  });
}
