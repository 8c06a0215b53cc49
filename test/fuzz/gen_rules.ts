/**
 * The generator of word and link rule requests: GET, POST and DELETE
 * /moderation/rules, POST /moderation/rules/shorteners, GET
 * /moderation/held and POST /moderation/held/<id>/approve|reject, with and
 * without the admin token, with good and broken bodies. The rules it adds
 * never match what the other generators post (words starting "zq", hosts
 * under .invalid, and the shorteners, which no fuzzed text links to), so
 * valid posts still get their 201 and nothing is ever held: approving and
 * rejecting answer 404.
 */
import { bytesOf } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import type { Rng } from "./rng.ts";

// deno-fmt-ignore
const BAD_AUTHORIZATIONS = ["", "Bearer", "Bearer x", "Basic YWRtaW46YWRtaW4=", "Bearer a b"];
/** Bodies POST /moderation/rules refuses with a 400. */
// deno-fmt-ignore
const BAD_RULES: readonly unknown[] = [
  {}, [], null, "text", 7, true, { word: "zqx" }, { word: "zqx", action: "ban" },
  { word: "zqx", domain: "a.invalid", action: "refuse" }, { word: "", action: "hold" },
  { word: "!!!", action: "hold" }, { word: 5, action: "hold" },
  { word: "x".repeat(201), action: "hold" }, { domain: "not a host", action: "refuse" },
  { domain: "zq.invalid", action: "refuse", substring: true },
  { domain: "", action: "refuse" }, { domain: "a@b.invalid", action: "refuse" },
  { word: "zqx", action: "mute" }, { word: "zqx", action: "mute", minutes: 0 },
  { word: "zqx", action: "mute", minutes: 1.5 }, { word: "zqx", action: "mute", minutes: 1e9 },
  { word: "zqx", action: "refuse", minutes: 5 }, { word: "zqx", action: "refuse", reason: 5 },
  { word: "zqx", action: "refuse", reason: "r".repeat(501) },
  { word: "zqx", action: "refuse", reason: "a\u0000b" },
  { word: "zqx", action: "refuse", substring: "yes" }, { word: "\ud800", action: "hold" },
  { word: "zqx", action: "refuse", extra: 1 }, { ["__proto__"]: { word: "zqx" } },
];
/** Bodies POST /moderation/rules/shorteners refuses with a 400. */
// deno-fmt-ignore
const BAD_SHORTENERS: readonly unknown[] = [
  {}, [], null, 7, { action: "ban" }, { action: "mute" }, { action: "hold", minutes: 5 },
  { action: "hold", word: "zqx" }, { action: "hold", reason: 5 },
];
const BROKEN_JSON = ["{", '{"word":', "\u00ff", '{"word":"zq"}}', ""];
// deno-fmt-ignore
const UNPARSABLE_IDS = ["abc", "-1", "1.5", "0x10", "%00", "%20", "1".repeat(17)];

/** A rule the server accepts: never one that matches a fuzzed post. */
function goodRule(g: Rng): Record<string, unknown> {
  const n = g.int(1, 40);
  const body: Record<string, unknown> = g.pick([
    { word: `zqword${n}` },
    { word: `ZQ phrase ${n}` },
    { word: `zqsub${n}`, substring: true },
    { domain: `zq${n}.invalid` },
    { domain: `https://*.zq-host${n}.invalid/path` },
  ]);
  body.action = g.pick(["refuse", "hold", "mute"]);
  if (body.action === "mute") body.minutes = g.pick([1, 60, "5"]);
  if (g.chance(0.3)) body.reason = g.pick(["spam", "", "no 🙅"]);
  return body;
}

type Request = [Route, string, string, string | undefined, number[]];

function rulesRequest(g: Rng): Request {
  const op = g.weighted(
    [["list", 1], ["add", 6], ["delete", 2], ["shorteners", 1], ["held", 1], [
      "verdict",
      2,
    ]] as const,
  );
  if (op === "list") {
    return ["GET /moderation/rules", "GET", "/moderation/rules", undefined, [
      200,
    ]];
  }
  if (op === "held") {
    return ["GET /moderation/held", "GET", "/moderation/held", undefined, [
      200,
    ]];
  }
  if (op === "delete") {
    const bad = g.chance(0.4);
    return [
      "DELETE /moderation/rules/:id",
      "DELETE",
      `/moderation/rules/${bad ? g.pick(UNPARSABLE_IDS) : g.int(1, 200)}`,
      undefined,
      bad ? [400] : [204, 404],
    ];
  }
  if (op === "verdict") {
    const verdict = g.pick(["approve", "reject"]);
    const bad = g.chance(0.3);
    return [
      "POST /moderation/held/:id/:verdict",
      "POST",
      `/moderation/held/${bad ? g.pick(UNPARSABLE_IDS) : g.int(1, 500)}/${
        g.chance(0.1) ? "maybe" : verdict
      }`,
      undefined,
      bad ? [400, 404] : [404],
    ];
  }
  if (op === "shorteners") {
    const good = g.chance(0.4);
    const body = good
      ? { action: g.pick(["refuse", "hold"]), reason: "short links" }
      : g.pick(BAD_SHORTENERS);
    return [
      "POST /moderation/rules/shorteners",
      "POST",
      "/moderation/rules/shorteners",
      JSON.stringify(body),
      good ? [200] : [400],
    ];
  }
  const shape = g.weighted(
    [["good", 4], ["bad", 5], ["broken", 1], ["form", 1]] as const,
  );
  const route: Route = "POST /moderation/rules";
  if (shape === "good") {
    // 200: the same pattern again changes that rule.
    return [route, "POST", "/moderation/rules", JSON.stringify(goodRule(g)), [
      200,
      201,
    ]];
  }
  if (shape === "bad") {
    return [
      route,
      "POST",
      "/moderation/rules",
      JSON.stringify(
        g.pick(BAD_RULES),
      ),
      [400],
    ];
  }
  if (shape === "broken") {
    return [route, "POST", "/moderation/rules", g.pick(BROKEN_JSON), [400]];
  }
  const good = g.chance(0.5);
  return [
    route,
    "POST",
    "/moderation/rules",
    good
      ? `word=zqform${g.int(1, 9)}&action=hold`
      : g.pick(["", "word=", "word=zq&action=", "domain=%00&action=hold"]),
    good ? [200, 201] : [400],
  ];
}

/** One request to the rule and held-message routes, with the statuses it may get. */
export function genRules(g: Rng, ctx: GenContext): Case {
  const auth = g.weighted([["none", 1], ["bad", 1], ["good", 5]] as const);
  const headers: [string, string][] = [];
  let authExpect: number[] | null = null;
  if (auth === "none") authExpect = [401];
  else if (auth === "bad") {
    const value = g.pick(BAD_AUTHORIZATIONS);
    headers.push(["Authorization", value]);
    authExpect = /^Bearer\s+\S+\s*$/i.test(value.trim()) ? [403] : [401];
  } else headers.push(["Authorization", `Bearer ${ctx.adminToken}`]);
  const [route, method, target, body, expect] = rulesRequest(g);
  if (body !== undefined) {
    headers.push([
      "Content-Type",
      /^(word|domain)=|^$/.test(body) && !body.startsWith("{")
        ? "application/x-www-form-urlencoded"
        : "application/json",
    ]);
  }
  // An unknown verdict is no route at all: 404 whatever the token.
  const noRoute = target.endsWith("/maybe");
  return {
    via: "fetch",
    kind: "rules",
    route,
    expect: noRoute ? [404] : authExpect ?? expect,
    method,
    target,
    headers,
    body: body === undefined ? undefined : bytesOf(body),
  };
}
