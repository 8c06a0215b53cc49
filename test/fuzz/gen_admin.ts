/** The generator of moderation requests: DELETE /messages/:id with and without the admin token. */
import type { Case, GenContext } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** Authorization headers that are never the admin token. */
// deno-fmt-ignore
const BAD_AUTHORIZATIONS = [
  "", "Bearer", "Bearer ", "Bearer x", "bearer 0123456789abcdef0123",
  "Bearer  spaced  ", "Bearer a b", "Basic YWRtaW46YWRtaW4=",
  "Token 0123456789abcdef",
  "Bearer \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "Bearer\tx",
  "Bearer " + "a".repeat(64), "Bearer " + "x".repeat(60_000),
];
/** Ids the server cannot parse: with the right token, a 400 and nothing deleted. */
// deno-fmt-ignore
const UNPARSABLE_IDS = [
  "abc", "-1", "1.5", "1e3", "0x10", "%00", "%FF", "%20", "١", "1".repeat(17),
  "99999999999999999999",
];

/** DELETE /messages/:id: mostly refused (401/403), sometimes allowed on a plain id. */
export function genAdmin(g: Rng, ctx: GenContext): Case {
  const variant = g.weighted(
    [
      ["no-token", 2],
      ["bad-token", 4],
      ["good-token-bad-id", 1],
      ["good-token", 1],
    ] as const,
  );
  const headers: [string, string][] = [];
  let id = String(g.int(1, 3000));
  let expect: number[];
  let deletes: number | undefined;
  switch (variant) {
    case "no-token":
      expect = [401];
      id = g.chance(0.5) ? id : g.pick(UNPARSABLE_IDS);
      break;
    case "bad-token": {
      const auth = g.chance(0.2)
        ? `Bearer ${ctx.adminToken}x`
        : g.pick(BAD_AUTHORIZATIONS);
      headers.push(["Authorization", auth]);
      // "Bearer <one word>" with the wrong word is a 403; a header of any
      // other shape a 401. (fetch trims the value's ends, as the server
      // would see it.)
      expect = /^Bearer\s+\S+\s*$/i.test(auth.trim()) ? [403] : [401];
      id = g.chance(0.5) ? id : g.pick(UNPARSABLE_IDS);
      break;
    }
    case "good-token-bad-id":
      headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
      id = g.pick(UNPARSABLE_IDS);
      expect = [400];
      break;
    case "good-token":
      headers.push([
        "Authorization",
        `${g.pick(["Bearer", "bearer", "BEARER"])} ${ctx.adminToken}`,
      ]);
      expect = [204, 404];
      deletes = Number(id);
      break;
  }
  return {
    via: "fetch",
    kind: "admin",
    route: "DELETE /messages/:id",
    expect,
    deletes,
    // The HTTP layer may refuse the 60 kB header by closing.
    mayDrop: headers.some(([, v]) => v.length > 16_000),
    method: "DELETE",
    target: `/messages/${id}`,
    headers,
  };
}
