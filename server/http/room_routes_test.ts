import assert from "node:assert/strict";
import {
  countMessages,
  expectError,
  withNameApp,
} from "../../test/harness/name_app.ts";
import { parseLockdownInput, parseNoticeInput } from "./room_routes.ts";
import {
  MAX_LOCKDOWN_REASON_LENGTH,
  MAX_NOTICE_LENGTH,
} from "../../protocol/limits.ts";
import type { RoomEvent } from "../../protocol/events.ts";

const ADMIN = "room-admin-token-0123456789abcdef";
const OFF: RoomEvent = { notice: null, slowMode: null, lockdown: null };

const withRoomApp = (fn: Parameters<typeof withNameApp>[0]) =>
  withNameApp(fn, { adminToken: ADMIN });

function raw(
  method: string,
  path: string,
  body: string,
  type = "application/json",
  token: string | null = ADMIN,
) {
  const headers: Record<string, string> = { "Content-Type": type };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return [path, { method, headers, body }] as const;
}

Deno.test("room routes: GET /room is public; the moderation routes are 404 without ADMIN_TOKEN, 401 without a token, 403 with a wrong one", async () => {
  await withNameApp(async ({ app, send }) => {
    const res = await send("GET", "/room");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), OFF);
    for (const path of ["/moderation/notice", "/moderation/lockdown"]) {
      for (const method of ["PUT", "DELETE"]) {
        await expectError(
          await app.request(path, { method }),
          404,
          /needs ADMIN_TOKEN/,
        );
      }
    }
  });
  await withRoomApp(async ({ app, send }) => {
    const bodies = {
      "/moderation/notice": '{"text":"Hello"}',
      "/moderation/lockdown": '{"scope":"all"}',
    };
    for (const [path, body] of Object.entries(bodies)) {
      for (const method of ["PUT", "DELETE"]) {
        await expectError(
          await app.request(...raw(method, path, body, undefined, null)),
          401,
          /admin token/,
        );
        await expectError(
          await app.request(
            ...raw(method, path, body, undefined, "wrong-token-0123456789"),
          ),
          403,
          /not valid/,
        );
      }
    }
    assert.deepEqual(await (await send("GET", "/room")).json(), OFF);
  });
});

Deno.test("room routes: a bad notice or lockdown is a 400 (or 415) and changes nothing", async () => {
  await withRoomApp(async ({ app, send }) => {
    const notices = [
      "{}",
      "[]",
      "null",
      '"text"',
      '{"text":""}',
      '{"text":"   "}',
      '{"text":7}',
      '{"text":"a\\u0000b"}',
      `{"text":"${"x".repeat(MAX_NOTICE_LENGTH + 1)}"}`,
      '{"text":"hi","extra":1}',
      "{",
      "",
    ];
    for (const body of notices) {
      const res = await app.request(...raw("PUT", "/moderation/notice", body));
      assert.equal(res.status, 400, body);
      assert.equal(typeof (await res.json()).error, "string", body);
    }
    const lockdowns = [
      "{}",
      "[]",
      '{"scope":"some"}',
      '{"scope":"newer"}',
      '{"scope":"newer","since":"yesterday"}',
      '{"scope":"newer","since":"2026-12-06"}',
      '{"scope":"newer","since":"2026-12-06T18:00:00"}',
      '{"scope":"newer","since":"1999-12-31T23:59:59Z"}',
      '{"scope":"newer","since":"9999-12-31T23:59:59Z"}',
      '{"scope":"newer","since":"2026-13-40T18:00:00Z"}',
      '{"scope":"newer","since":"2026-02-30T18:00:00Z"}',
      '{"scope":"newer","since":"2026-12-06T24:00:00Z"}',
      '{"scope":"newer","since":12345}',
      '{"scope":"all","since":"2026-12-06T18:00:00Z"}',
      '{"scope":"all","reason":7}',
      '{"scope":"all","reason":"two\\nlines"}',
      `{"scope":"all","reason":"${
        "r".repeat(MAX_LOCKDOWN_REASON_LENGTH + 1)
      }"}`,
      '{"scope":"all","extra":true}',
      "{",
    ];
    for (const body of lockdowns) {
      const res = await app.request(
        ...raw("PUT", "/moderation/lockdown", body),
      );
      assert.equal(res.status, 400, body);
      assert.equal(typeof (await res.json()).error, "string", body);
    }
    for (const path of ["/moderation/notice", "/moderation/lockdown"]) {
      await expectError(
        await app.request(...raw("PUT", path, "text=hi", "text/plain")),
        415,
        /application\/json/,
      );
    }
    assert.deepEqual(await (await send("GET", "/room")).json(), OFF);
  });
});

Deno.test("room routes: a notice is set (each time a new version), shown by GET /room, and cleared", async () => {
  await withRoomApp(async ({ app, send }) => {
    const first = await send("PUT", "/moderation/notice", {
      text: "  **Welcome.** Be kind.  ",
    }, ADMIN);
    assert.equal(first.status, 200);
    const set: RoomEvent = await first.json();
    assert.equal(set.notice?.text, "**Welcome.** Be kind.", "trimmed");
    assert.deepEqual(await (await send("GET", "/room")).json(), set);
    // A form body works as for slow mode.
    const again = await app.request(
      ...raw(
        "PUT",
        "/moderation/notice",
        "text=Rules+changed",
        "application/x-www-form-urlencoded",
      ),
    );
    const changed: RoomEvent = await again.json();
    assert.equal(changed.notice?.text, "Rules changed");
    assert.ok(changed.notice!.version > set.notice!.version);
    const cleared = await send(
      "DELETE",
      "/moderation/notice",
      undefined,
      ADMIN,
    );
    assert.deepEqual(await cleared.json(), OFF);
    // A clear, then a new notice: still a newer version than any before.
    const third: RoomEvent = await (await send("PUT", "/moderation/notice", {
      text: "Back",
    }, ADMIN)).json();
    assert.ok(third.notice!.version > changed.notice!.version);
    // GET /room carries slow mode too.
    await send("PUT", "/moderation/slow-mode", { seconds: 9 }, ADMIN);
    const room: RoomEvent = await (await send("GET", "/room")).json();
    assert.equal(room.slowMode?.seconds, 9);
    assert.equal(room.notice?.text, "Back");
  });
});

Deno.test("room routes: lockdown for all refuses posts, edits, reactions and typing with the reason, until lifted", async () => {
  await withRoomApp(async ({ db, send, claim, post }) => {
    const token = await claim("Ada");
    const before = await post("Ada", "before", token);
    const on = await send("PUT", "/moderation/lockdown", {
      scope: "all",
      reason: "Cooling down",
    }, ADMIN);
    assert.equal(on.status, 200);
    const room: RoomEvent = await on.json();
    assert.equal(room.lockdown?.scope, "all");
    assert.equal(room.lockdown?.reason, "Cooling down");
    assert.equal(room.lockdown?.since, null);
    const refusals = [
      await send("POST", "/messages", { author: "Ada", text: "hi" }, token),
      await send("POST", "/messages", { author: "Guest", text: "hi" }),
      await send("PATCH", `/messages/${before.id}`, { text: "edit" }, token),
      await send(
        "POST",
        `/messages/${before.id}/reactions`,
        { emoji: "👍" },
        token,
      ),
      await send("POST", "/typing", { author: "Ada" }),
    ];
    for (const res of refusals) {
      const body = await res.json();
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.match(body.error, /read-only.*Cooling down/);
      assert.deepEqual(body.lockdown, room.lockdown);
    }
    assert.equal(await countMessages(db), 1, "nothing was stored");
    const off = await send("DELETE", "/moderation/lockdown", undefined, ADMIN);
    assert.deepEqual(await off.json(), OFF);
    await post("Ada", "after", token);
    const typing = await send("POST", "/typing", { author: "Ada" });
    assert.equal(typing.status, 202);
  });
});

Deno.test("room routes: lockdown for newer names refuses names claimed after `since` and unclaimed names, not older claims", async () => {
  await withRoomApp(async ({ db, send, claim, post }) => {
    const oldToken = await claim("Old");
    const target = await post("Old", "a message to react to", oldToken);
    // Claimed an hour ago; the raid began half an hour ago.
    await db.query(
      "update names set claimed_at = now() - interval '1 hour' where key = 'old'",
    );
    const since = new Date(Date.now() - 30 * 60_000).toISOString();
    const newToken = await claim("New");
    const on = await send("PUT", "/moderation/lockdown", {
      scope: "newer",
      since,
    }, ADMIN);
    const room: RoomEvent = await on.json();
    assert.deepEqual(
      { scope: room.lockdown?.scope, since: room.lockdown?.since },
      { scope: "newer", since },
    );
    assert.equal(room.lockdown?.reason, null);

    // The stream ticket tells a client its claim's time, which is how it
    // knows whether a `newer` lockdown stops it.
    const ticket = async (name: string, token: string) =>
      Date.parse(
        (await (await send("POST", `/names/${name}/stream-ticket`, {}, token))
          .json()).claimedAt,
      );
    assert.ok(await ticket("Old", oldToken) < Date.parse(since));
    assert.ok(await ticket("New", newToken) > Date.parse(since));

    await post("Old", "still here", oldToken);
    const react = await send(
      "POST",
      `/messages/${target.id}/reactions`,
      { emoji: "👍" },
      oldToken,
    );
    assert.equal(react.status, 200);
    assert.equal(
      (await send("POST", "/typing", { author: "Old" })).status,
      202,
    );

    const refusals = [
      await send(
        "POST",
        "/messages",
        { author: "New", text: "spam" },
        newToken,
      ),
      await send("POST", "/messages", { author: "Anon", text: "spam" }),
      await send(
        "POST",
        `/messages/${target.id}/reactions`,
        { emoji: "👍" },
        newToken,
      ),
      await send("POST", "/typing", { author: "New" }),
      await send("POST", "/typing", { author: "Anon" }),
    ];
    for (const res of refusals) {
      const body = await res.json();
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.match(body.error, /names claimed after/);
      assert.equal(body.lockdown.scope, "newer");
    }
    assert.equal(await countMessages(db), 2);
  });
});

Deno.test("parseLockdownInput: normalises `since` to UTC and keeps an optional reason", () => {
  const now = Date.parse("2026-12-06T18:00:00Z");
  assert.deepEqual(
    parseLockdownInput(
      { scope: "newer", since: "2026-12-06T19:30:00+02:00", reason: " raid " },
      now,
    ),
    {
      ok: true,
      value: {
        scope: "newer",
        since: "2026-12-06T17:30:00.000Z",
        reason: "raid",
      },
    },
  );
  assert.deepEqual(parseLockdownInput({ scope: "all", reason: "" }, now), {
    ok: true,
    value: { scope: "all", since: null, reason: null },
  });
  assert.equal(
    parseLockdownInput({ scope: "newer", since: "2026-12-08T18:00:00Z" }, now)
      .ok,
    false,
    "two days ahead",
  );
  assert.equal(
    parseNoticeInput({ text: "x".repeat(MAX_NOTICE_LENGTH) }).ok,
    true,
  );
});
