/**
 * The generator of room-settings requests: GET /room (public) and PUT and
 * DELETE /moderation/notice and /moderation/lockdown, with and without the
 * admin token, with good and broken bodies. Notices may be set (they change
 * nothing a post depends on); a lockdown is only ever refused or lifted:
 * one in force would refuse the fuzzer's later posts with 403s the post
 * oracle rightly counts as failures. Setting one is tested in
 * server/http/room_routes_test.ts.
 */
import { bytesOf } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** PUT /moderation/notice bodies refused with a 400. */
// deno-fmt-ignore
const BAD_NOTICES: readonly unknown[] = [
  {}, [], null, "text", 7, { text: "" }, { text: "  " }, { text: 7 },
  { text: null }, { text: "a\u0000b" }, { text: "x".repeat(1001) },
  { text: "hi", extra: 1 }, { ["__proto__"]: { text: "hi" } }, { text: ["a"] },
];
/** PUT /moderation/lockdown bodies refused with a 400. */
// deno-fmt-ignore
const BAD_LOCKDOWNS: readonly unknown[] = [
  {}, [], null, "all", 7, { scope: "some" }, { scope: "ALL" }, { scope: "newer" },
  { scope: "newer", since: "yesterday" }, { scope: "newer", since: 0 },
  { scope: "newer", since: "2026-12-06" }, { scope: "newer", since: "1999-01-01T00:00:00Z" },
  { scope: "newer", since: "9999-12-31T23:59:59Z" }, { scope: "newer", since: "2026-02-30T10:00:00Z" },
  { scope: "newer", since: "2026-12-06T10:00:00+99:99" },
  { scope: "all", since: "2026-12-06T10:00:00Z" }, { scope: "all", reason: 5 },
  { scope: "all", reason: "r".repeat(201) }, { scope: "all", reason: "two\nlines" },
  { scope: "all", reason: "a\u009b[2J" }, { scope: "all", extra: true },
  { ["__proto__"]: { scope: "all" } },
];
/** Raw bodies that are not JSON at all (still a 400). */
const BROKEN_JSON = ["{", '{"text":', "\u00ff", '{"scope":"all"}}', ""];
/** Authorization headers that are never the admin token. */
const BAD_AUTHORIZATIONS = ["", "Bearer", "Bearer x", "Basic YWRtaW4="];

/** One request to GET /room or the notice and lockdown routes, with the statuses it may get. */
export function genRoom(g: Rng, ctx: GenContext): Case {
  const op = g.weighted(
    [["room", 2], ["notice", 4], ["lockdown", 4]] as const,
  );
  if (op === "room") {
    return {
      via: "fetch",
      kind: "room",
      route: "GET /room",
      expect: [200],
      method: "GET",
      target: g.pick(["/room", "/room?x=1"]),
      headers: [],
    };
  }
  const target = `/moderation/${op}`;
  const headers: [string, string][] = [];
  const auth = g.weighted([["none", 1], ["bad", 1], ["good", 6]] as const);
  let authExpect: number[] | null = null;
  if (auth === "none") {
    authExpect = [401];
  } else if (auth === "bad") {
    const value = g.chance(0.3)
      ? `Bearer ${ctx.adminToken}x`
      : g.pick(BAD_AUTHORIZATIONS);
    headers.push(["Authorization", value]);
    authExpect = /^Bearer\s+\S+\s*$/i.test(value.trim()) ? [403] : [401];
  } else {
    headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
  }
  const route = (method: string) => `${method} ${target}` as Route;
  if (g.chance(0.25)) {
    return {
      via: "fetch",
      kind: "room",
      route: route("DELETE"),
      expect: authExpect ?? [200],
      method: "DELETE",
      target,
      headers,
    };
  }
  const shape = g.weighted(
    [["good", op === "notice" ? 3 : 0], ["bad", 5], ["broken", 1], [
      "form",
      1,
    ], ["type", 1]] as const,
  );
  let type = "application/json";
  let body: string;
  let expect: number[];
  if (shape === "good") {
    body = JSON.stringify({
      text: g.pick(["Be kind.", "**Rules**: https://example.com", "📌 hi"]),
    });
    expect = [200];
  } else if (shape === "bad") {
    body = JSON.stringify(
      g.pick(op === "notice" ? BAD_NOTICES : BAD_LOCKDOWNS),
    );
    expect = [400];
  } else if (shape === "broken") {
    body = g.pick(BROKEN_JSON);
    expect = [400];
  } else if (shape === "form") {
    type = "application/x-www-form-urlencoded";
    const good = op === "notice" && g.chance(0.5);
    body = good ? "text=Hello+there" : g.pick(
      op === "notice"
        ? ["", "text=", "text=%20", "other=1"]
        : ["", "scope=", "scope=newer", "scope=newer&since=soon"],
    );
    expect = good ? [200] : [400];
  } else {
    type = g.pick(["text/plain", "application/xml", "multipart/form-data"]);
    body = op === "notice" ? '{"text":"hi"}' : '{"scope":"nope"}';
    expect = [415];
  }
  headers.push(["Content-Type", type]);
  return {
    via: "fetch",
    kind: "room",
    route: route("PUT"),
    // The token is checked before anything else.
    expect: authExpect ?? expect,
    method: "PUT",
    target,
    headers,
    body: bytesOf(body),
  };
}
