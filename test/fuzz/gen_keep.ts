/**
 * The generator of the room keeper's requests: GET /export (admin token)
 * with good and broken ranges and formats, and DELETE /names/<name>/messages
 * with tokens that are no claim's (the names the fuzzer posts under are
 * never claimed, so nothing it tracks is erased).
 */
import type { Case, GenContext, Route } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** Ranges and formats GET /export accepts (200); the far future keeps most answers short. */
// deno-fmt-ignore
const GOOD_QUERIES = [
  "", "?format=ndjson", "?format=markdown", "?format=html",
  "?from=2099-01-01", "?from=2099-01-01&format=html",
  "?from=2000-01-01&to=2000-01-02", "?to=2000-01-01T00:00:00Z&format=markdown",
  "?from=2099-12-31T23:59:59.999999Z", "?from=2099-01-01T00:00:00%2B05:30",
  "?from=2099-01-01&unknown=1",
];
/** Queries GET /export refuses with a 400. */
// deno-fmt-ignore
const BAD_QUERIES = [
  "?from=yesterday", "?to=2026-02-30", "?from=2026-13-01", "?from=2026-1-1",
  "?from=2026-12-06T24:00Z", "?from=0000-01-01", "?from=99999-01-01",
  "?from=2026-12-07&to=2026-12-06", "?from=2026-12-06&to=2026-12-06",
  "?format=pdf", "?format=", "?format=NDJSON", "?from=%00", "?to=%F0%9F%98%80",
  "?from=2026-12-06T10:00:00%2B0100", "?from=" + "9".repeat(300),
  "?from=2026-12-06%20", "?from=2026-12-06T10:00:00.1234567Z",
];
/** Name segments for the erase route: unclaimed, invalid or odd. */
// deno-fmt-ignore
const NAMES = [
  "zq-erase", "zq-erase-2", "%00", "%20", "a%2Fb", "x".repeat(40), "%F0%9F%98%80",
  "%2E%2E%2E", "%E2%80%AE", "Ada", "%C3%A9",
];

/** One request to GET /export or DELETE /names/:name/messages, with the statuses it may get. */
export function genKeep(g: Rng, ctx: GenContext): Case {
  const headers: [string, string][] = [];
  if (g.chance(0.5)) {
    const auth = g.weighted([["none", 1], ["bad", 1], ["good", 4]] as const);
    let expect: number[];
    let target = "/export";
    if (auth === "none") {
      expect = [401];
    } else if (auth === "bad") {
      headers.push(["Authorization", `Bearer ${ctx.adminToken}x`]);
      expect = [403, 429];
    } else {
      headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
      const good = g.chance(0.5);
      target += good ? g.pick(GOOD_QUERIES) : g.pick(BAD_QUERIES);
      expect = good ? [200] : [400];
    }
    return {
      via: "fetch",
      kind: "keep",
      route: "GET /export" satisfies Route,
      expect,
      method: "GET",
      target,
      headers,
    };
  }
  const token = g.weighted(
    [["none", 1], ["odd", 1], ["random", 3], ["admin", 1]] as const,
  );
  let expect = [401];
  if (token === "odd") {
    headers.push([
      "Authorization",
      g.pick(["Bearer", "Basic eA==", "Bearer a b"]),
    ]);
  } else if (token !== "none") {
    const value = token === "admin"
      ? ctx.adminToken
      : Array.from({ length: g.int(1, 60) }, () => g.pick([..."aZ09-_"])).join(
        "",
      );
    headers.push(["Authorization", `Bearer ${value}`]);
    // No such claim: 404 (a claim with another token would be a 403).
    expect = [403, 404, 429];
  }
  return {
    via: "fetch",
    kind: "keep",
    route: "DELETE /names/:name/messages",
    expect,
    method: "DELETE",
    target: `/names/${g.pick(NAMES)}/messages`,
    headers,
  };
}
