import assert from "node:assert/strict";
import { type NameApp, withNameApp } from "../../test/harness/name_app.ts";
import type { BanList } from "../limits/ban_list.ts";
import { createHub } from "../live/hub.ts";
import { until } from "../../test/harness/wait.ts";
import {
  checkStreamTicket,
  newStreamTicket,
  STREAM_TICKET_TTL_MS,
} from "./stream_ticket.ts";
import { testLimits } from "../../test/harness/app_deps.ts";
import type { StreamSlots } from "../limits/shared_limits.ts";
import { DOCUMENT_ONLY_HEADERS } from "./security_headers.ts";

/** Headers an event stream may carry (measured in docs/benchmarks.md). */
const MAX_STREAM_HEADERS = 11;

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

/** Opens GET `path`; for a 200 reads up to the first presence event and returns its names, else the status and error. */
async function openNamed(
  app: NameApp["app"],
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; names?: string[]; error?: string }> {
  const res = await app.request(path, { headers });
  if (res.status !== 200) {
    const body = await res.json();
    return { status: res.status, error: body.error };
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!/event: presence\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel();
  }
  const data = /event: presence\ndata: (.*)\n\n/.exec(text)![1];
  return { status: 200, names: JSON.parse(data).names };
}

const banned: BanList = {
  refresh: () => Promise.resolve(),
  ofName: (name) =>
    name.toLowerCase() === "troll"
      ? {
        id: 1,
        name: "troll",
        address: null,
        reason: null,
        createdAt: "2026-01-01T00:00:00.000Z",
        expiresAt: null,
      }
      : null,
  ofAddress: () => null,
};

Deno.test("GET /stream?name=: unclaimed names need no proof and show in the stream's own presence", async () => {
  await withNameApp(async ({ app }) => {
    assert.deepEqual(await openNamed(app, "/stream?history=0"), {
      status: 200,
      names: [],
    });
    assert.deepEqual(await openNamed(app, "/stream?history=0&name=%20Ada%20"), {
      status: 200,
      names: ["Ada"],
    });
  });
});

Deno.test("GET /stream?name=: a bad name is 400, a banned one 403, and nothing is counted", async () => {
  await withNameApp(async ({ app }) => {
    const empty = await openNamed(app, "/stream?name=");
    assert.equal(empty.status, 400);
    assert.match(empty.error!, /"name"/);
    const long = await openNamed(app, `/stream?name=${"x".repeat(100)}`);
    assert.equal(long.status, 400);
    const troll = await openNamed(app, "/stream?name=Troll");
    assert.equal(troll.status, 403);
    assert.match(troll.error!, /banned/);
    assert.deepEqual(await openNamed(app, "/stream?history=0"), {
      status: 200,
      names: [],
    });
  }, { limits: testLimits({ bans: banned }) });
});

Deno.test("GET /stream?name= with a claimed name: 403 without proof or with a wrong one; the token or a ticket opens it", async () => {
  await withNameApp(async ({ app, claim, send }) => {
    const token = await claim("Ada");
    const other = await claim("bob");
    const none = await openNamed(app, "/stream?name=ada");
    assert.equal(none.status, 403);
    assert.match(none.error!, /claimed/);
    const wrongToken = await openNamed(app, "/stream?name=ada", {
      Authorization: `Bearer ${other}`,
    });
    assert.equal(wrongToken.status, 403);
    const wrongTicket = await openNamed(
      app,
      `/stream?name=ada&ticket=${Date.now() + 30_000}.${"A".repeat(43)}`,
    );
    assert.equal(wrongTicket.status, 403);
    assert.match(wrongTicket.error!, /ticket/);
    // bob's ticket does not open ada's stream.
    const bobTicket = await (await send(
      "POST",
      "/names/bob/stream-ticket",
      undefined,
      other,
    )).json();
    assert.equal(
      (await openNamed(app, `/stream?name=ada&ticket=${bobTicket.ticket}`))
        .status,
      403,
    );
    // The ticket route itself wants the name's own token.
    assert.equal(
      (await send("POST", "/names/ada/stream-ticket", undefined, other)).status,
      403,
    );
    assert.equal(
      (await send("POST", "/names/ada/stream-ticket")).status,
      401,
    );
    const res = await send(
      "POST",
      "/names/ada/stream-ticket",
      undefined,
      token,
    );
    assert.equal(res.status, 201);
    const { ticket, expiresAt } = await res.json();
    const ttl = Date.parse(expiresAt) - Date.now();
    assert.ok(ttl > 50_000 && ttl <= STREAM_TICKET_TTL_MS, String(ttl));
    // Shown as claimed, whatever the case typed.
    assert.deepEqual(
      await openNamed(app, `/stream?name=ADA&ticket=${ticket}`),
      { status: 200, names: ["Ada"] },
    );
    assert.deepEqual(
      await openNamed(app, "/stream?name=ada", {
        Authorization: `Bearer ${token}`,
      }),
      { status: 200, names: ["Ada"] },
    );
  });
});

Deno.test("stream tickets expire and die with the token", () => {
  const claim = {
    id: 1,
    key: "ada",
    name: "Ada",
    tokenHash: "a".repeat(64),
    lastUsedAt: new Date(),
    claimedAt: new Date(),
  };
  const { ticket } = newStreamTicket(claim, 1_000_000);
  assert.ok(checkStreamTicket(ticket, claim, 1_000_000));
  assert.ok(
    !checkStreamTicket(ticket, claim, 1_000_000 + STREAM_TICKET_TTL_MS),
  );
  assert.ok(
    !checkStreamTicket(
      ticket,
      { ...claim, tokenHash: "b".repeat(64) },
      1_000_000,
    ),
  );
  assert.ok(!checkStreamTicket(ticket, { ...claim, key: "bob" }, 1_000_000));
  // A far-future expiry is not a ticket this server made.
  const far = newStreamTicket(claim, 1_000_000 + 10 * STREAM_TICKET_TTL_MS);
  assert.ok(!checkStreamTicket(far.ticket, claim, 1_000_000));
});

Deno.test("two streams under one name are listed once; the name goes with the last", async () => {
  const hub = createHub({ heartbeatMs: 60_000 });
  await withNameApp(async ({ app }) => {
    const open = async () => {
      const res = await app.request("/stream?history=0&name=ada");
      const reader = res.body!.getReader();
      await reader.read();
      return reader;
    };
    const one = await open();
    const two = await open();
    const names = () =>
      JSON.parse(new TextDecoder().decode(hub.presence).split("data: ")[1])
        .names;
    assert.deepEqual(names(), ["ada"]);
    await one.cancel();
    assert.deepEqual(names(), ["ada"]);
    await two.cancel();
    await until(() => names().length === 0);
  }, { hub });
  hub.close();
});

Deno.test("an event stream is sent without the headers that act only on documents, and with 11 headers at most; other answers keep them", async () => {
  await withNameApp(async ({ app }) => {
    const stream = await app.request("/stream?history=0");
    await stream.body?.cancel();
    const page = await app.request("/messages");
    await page.body?.cancel();
    for (const name of DOCUMENT_ONLY_HEADERS) {
      assert.equal(stream.headers.get(name), null, name);
      assert.notEqual(page.headers.get(name), null, name);
    }
    // What still acts on a non-document answer stays.
    for (
      const name of [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "permissions-policy",
        "cross-origin-resource-policy",
        "x-request-id",
      ]
    ) {
      assert.notEqual(stream.headers.get(name), null, name);
    }
    // Each header costs every open stream memory (security_headers.ts);
    // 11 is what docs/benchmarks.md measured. More needs a new measurement.
    assert.ok(
      [...stream.headers].length <= MAX_STREAM_HEADERS,
      [...stream.headers.keys()].join(", "),
    );
  });
});
