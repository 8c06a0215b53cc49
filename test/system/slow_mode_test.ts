// Slow mode holds for the room, not per instance: set through one instance
// it reaches the streams of another within a second, and a name's one turn
// per S seconds is spent across both. The automatic switch decides once for
// the room and tells every client.
import assert from "node:assert/strict";
import { startTestInstance, withTestDatabase } from "../harness/fixtures.ts";
import { openSse } from "../harness/sse_client.ts";
import type { Plaza } from "../../server/plaza.ts";
import { runModerate } from "../harness/moderate_cli.ts";
import { roomEvents, untilRoom } from "../harness/room_events.ts";

const ADMIN_TOKEN = "test-admin-token-0123456789";
/** How long a change may take to reach another instance's streams. */
const PROPAGATION_MS = 1_000;

async function post(
  url: string,
  author: string,
  clientId?: string,
): Promise<Response> {
  return await fetch(`${url}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author, text: "hello", clientId }),
  });
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

async function slowMode(url: string, method: string, body?: unknown) {
  const res = await fetch(`${url}/moderation/slow-mode`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function withTwo(
  env: Record<string, string>,
  fn: (a: Plaza, b: Plaza) => Promise<void>,
) {
  await withTestDatabase(async (url) => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => startTestInstance(url, { ADMIN_TOKEN, ...env })),
    );
    try {
      await fn(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("slow mode set on one instance reaches the other's streams within a second, and a name's turn is spent across both", async () => {
  await withTwo({}, async (a, b) => {
    const onB = await openSse(`${b.url}/stream?history=0`);
    try {
      // A new stream is told the current state: off.
      assert.deepEqual(await untilRoom(onB, () => true), {
        slowMode: null,
        notice: null,
        lockdown: null,
      });
      const set = await slowMode(a.url, "PUT", { seconds: 30 });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const started = Date.now();
      const told = await untilRoom(
        onB,
        (r) => r.slowMode !== null,
        PROPAGATION_MS,
      );
      assert.ok(Date.now() - started < PROPAGATION_MS);
      assert.deepEqual(told, {
        slowMode: { seconds: 30, until: null, by: "moderator" },
        notice: null,
        lockdown: null,
      });

      const first = await post(a.url, "ann");
      assert.equal(await status(first), 201);
      const second = await post(b.url, "ANN");
      assert.equal(second.status, 429);
      const wait = Number(second.headers.get("retry-after"));
      assert.ok(wait >= 29 && wait <= 30, `Retry-After ${wait}`);
      assert.match(
        (await second.json()).error,
        /^Slow mode is on: one message every 30 s per name\. You can post again in \d+ s\.$/,
      );
      assert.equal(await status(await post(b.url, "bob")), 201);

      // A stream opened now (a resumed client) is told at connect.
      const onA = await openSse(`${a.url}/stream?since=0`);
      try {
        assert.deepEqual(await untilRoom(onA, () => true), told);
      } finally {
        await onA.close();
      }

      const cleared = await slowMode(b.url, "DELETE");
      assert.deepEqual(cleared, { status: 200, body: { slowMode: null } });
      await untilRoom(onB, (r) => r.slowMode === null);
      assert.equal(await status(await post(a.url, "ann")), 201);
    } finally {
      await onB.close();
    }
  });
});

Deno.test("automatic slow mode: a burst switches the room on once for both instances, clients are told, and it holds", async () => {
  await withTwo(
    {
      SLOW_MODE_AUTO: "on",
      SLOW_MODE_AUTO_RATE: "6/1m",
      SLOW_MODE_AUTO_SECONDS: "30",
      SLOW_MODE_CHECK_MS: "100",
    },
    async (a, b) => {
      const onA = await openSse(`${a.url}/stream?history=0`);
      const onB = await openSse(`${b.url}/stream?history=0`);
      try {
        await untilRoom(onA, (r) => r.slowMode === null);
        // Five messages are below the threshold: several checks pass.
        for (let i = 0; i < 5; i++) {
          assert.equal(
            await status(await post(i % 2 ? a.url : b.url, `p${i}`)),
            201,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(roomEvents(onA).at(-1)?.slowMode, null);
        assert.equal(await status(await post(a.url, "p5")), 201);
        const expected = { seconds: 30, until: null, by: "auto" };
        assert.deepEqual(
          (await untilRoom(onA, (r) => r.slowMode !== null)).slowMode,
          expected,
        );
        assert.deepEqual(
          (await untilRoom(onB, (r) => r.slowMode !== null)).slowMode,
          expected,
        );
        // Each name that posted in the burst has spent nothing yet: its
        // first message under slow mode passes, the next does not.
        assert.equal(await status(await post(b.url, "p0")), 201);
        assert.equal(await status(await post(a.url, "p0")), 429);
        // Decided once: both instances' checks keep changing nothing.
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(
          roomEvents(onA).filter((r) => r.slowMode !== null).length,
          1,
        );
        // A moderator's setting wins over the automatic one, and stays.
        const set = await slowMode(b.url, "PUT", { seconds: 10 });
        assert.equal(set.body.slowMode.by, "moderator");
        await untilRoom(onA, (r) => r.slowMode?.by === "moderator");
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(roomEvents(onA).at(-1)?.slowMode?.by, "moderator");
      } finally {
        await Promise.all([onA.close(), onB.close()]);
      }
    },
  );
});

Deno.test("slow mode on the embedded database (PGlite): set, told, enforced", async () => {
  const dataDir = await Deno.makeTempDir();
  const plaza = await startTestInstance(null, {
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
  });
  const stream = await openSse(`${plaza.url}/stream?history=0`);
  try {
    await untilRoom(stream, (r) => r.slowMode === null);
    const set = await slowMode(plaza.url, "PUT", { seconds: 60, minutes: 10 });
    assert.equal(set.status, 200);
    const told = await untilRoom(stream, (r) => r.slowMode !== null);
    assert.equal(told.slowMode?.until, set.body.slowMode.until);
    assert.equal(await status(await post(plaza.url, "ann")), 201);
    assert.equal(await status(await post(plaza.url, "ann")), 429);
  } finally {
    await stream.close();
    await plaza.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deno task moderate slow-mode: set, show, off", async () => {
  await withTwo({}, async (a) => {
    const moderate = (...args: string[]) =>
      runModerate(a.url, ADMIN_TOKEN, ...args);
    const set = await moderate("slow-mode", "15", "30");
    assert.equal(set.code, 0, set.text);
    assert.match(
      set.text,
      /^slow mode: one message every 15 s per name, until 20\S+ \(set by moderator\)$/m,
    );
    assert.match((await moderate("slow-mode")).text, /every 15 s per name/);
    assert.equal((await moderate("slow-mode", "soon")).code, 2);
    const tooLong = await moderate("slow-mode", "4000");
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.text, /400 "seconds" must be a whole number/);
    const off = await moderate("slow-mode", "off");
    assert.equal(off.code, 0, off.text);
    assert.match(off.text, /^slow mode is off$/m);
  });
});
