// What `deno task moderate notice|lockdown` sends and prints, without a server.
import assert from "node:assert/strict";
import { describeRoom, roomRequest, sinceOf } from "./room.ts";

const NOW = Date.parse("2026-12-06T18:00:00Z");

Deno.test("roomRequest: notice and lockdown arguments become the API's requests; bad ones are null", () => {
  assert.deepEqual(roomRequest("notice", []), { method: "GET", path: "/room" });
  assert.deepEqual(roomRequest("notice", ["set", "Be **kind**"]), {
    method: "PUT",
    path: "/moderation/notice",
    body: { text: "Be **kind**" },
  });
  assert.deepEqual(roomRequest("notice", ["clear"]), {
    method: "DELETE",
    path: "/moderation/notice",
  });
  assert.deepEqual(roomRequest("lockdown", ["all", "--reason", "raid"]), {
    method: "PUT",
    path: "/moderation/lockdown",
    body: { scope: "all", reason: "raid" },
  });
  assert.deepEqual(roomRequest("lockdown", ["newer", "30m"], NOW), {
    method: "PUT",
    path: "/moderation/lockdown",
    body: { scope: "newer", since: "2026-12-06T17:30:00.000Z" },
  });
  assert.deepEqual(roomRequest("lockdown", ["off"]), {
    method: "DELETE",
    path: "/moderation/lockdown",
  });
  for (
    const [command, args] of [
      ["notice", ["set"]],
      ["notice", ["set", "a", "b"]],
      ["notice", ["pin", "a"]],
      ["lockdown", ["some"]],
      ["lockdown", ["newer"]],
      ["lockdown", ["newer", "--reason", "x"]],
      ["lockdown", ["all", "--reason"]],
      ["lockdown", ["all", "extra"]],
      ["lockdown", ["off", "now"]],
    ] as const
  ) {
    assert.equal(roomRequest(command, [...args]), null, args.join(" "));
  }
  assert.equal(sinceOf("2h", NOW), "2026-12-06T16:00:00.000Z");
  assert.equal(sinceOf("2026-12-06T10:00:00Z"), "2026-12-06T10:00:00Z");
});

Deno.test("describeRoom: one readable line per setting", () => {
  const text = JSON.stringify({
    notice: { text: "Hi", version: 3, setAt: "2026-12-06T18:00:00.000Z" },
    slowMode: null,
    lockdown: {
      scope: "newer",
      since: "2026-12-06T17:30:00.000Z",
      reason: "raid",
      setAt: "2026-12-06T18:00:00.000Z",
    },
  });
  assert.equal(
    describeRoom("notice", text),
    "notice (version 3, set 2026-12-06T18:00:00.000Z):\nHi",
  );
  assert.equal(
    describeRoom("lockdown", text),
    "lockdown since 2026-12-06T18:00:00.000Z: read-only for names claimed after 2026-12-06T17:30:00.000Z and unclaimed names (reason: raid)",
  );
  const off = JSON.stringify({ notice: null, slowMode: null, lockdown: null });
  assert.equal(describeRoom("notice", off), "no notice");
  assert.equal(describeRoom("lockdown", off), "no lockdown: everyone may post");
});
