/**
 * The generator of bot requests: POST, GET and DELETE /moderation/bots with
 * and without the admin token, with good and broken bodies. Its bots are
 * named zq-bot-N (no other generator posts under them) and their webhooks,
 * if any, are on .invalid hosts that never resolve: no fuzzed message makes
 * Plaza call out, nor posts an answer the stored-rows oracle did not expect.
 */
import { bytesOf } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import type { Rng } from "./rng.ts";

/** Authorization headers that are never the admin token. */
// deno-fmt-ignore
const BAD_AUTHORIZATIONS = [
  "", "Bearer", "Bearer x", "Basic YWRtaW46YWRtaW4=", "Bearer a b",
];
/** Bodies POST /moderation/bots refuses with a 400. */
// deno-fmt-ignore
const BAD_BODIES: readonly unknown[] = [
  {}, [], null, "text", 7, true, { name: "" }, { name: 7 }, { name: null },
  { name: "x".repeat(33) }, { name: "a\u0007b" }, { name: "zq-bot-1", extra: 1 },
  { name: "zq-bot-1", webhook: "ftp://bot.invalid/" },
  { name: "zq-bot-1", webhook: "https://u:p@bot.invalid/" },
  { name: "zq-bot-1", webhook: "not a url" }, { name: "zq-bot-1", webhook: 5 },
  { name: "zq-bot-1", webhook: "https://" + "a".repeat(2001) },
  { name: "zq-bot-1", webhook: "http://127.0.0.1/" },
  { name: "zq-bot-1", webhook: "http://[::1]:8080/" },
  { name: "zq-bot-1", webhook: "http://169.254.169.254/latest" },
  { name: "zq-bot-1", webhook: "http://localhost/" },
  { name: "zq-bot-1", allowLocal: "yes" }, { name: "zq-bot-1", allowLocal: 1 },
  { name: "zq-bot-1", allowLocal: true },
  { ["__proto__"]: { name: "zq-bot-1" } },
];
/** Raw bodies that are not JSON at all (still a 400). */
const BROKEN_JSON = ["{", '{"name":', "\u00ff", '{"name":"zq"}}', ""];
/** Names in a DELETE path that are not names: with the right token, a 400. */
// deno-fmt-ignore
const BAD_NAMES = ["%07", "%20", "x".repeat(40), "%E2%80%AE", "a%0Ab"];

/** A body for a bot that the server accepts (201), or 409 once its name is taken. */
function goodBot(g: Rng): Record<string, unknown> {
  const body: Record<string, unknown> = { name: `zq-bot-${g.int(1, 30)}` };
  if (g.chance(0.5)) {
    body.webhook = `https://bot-${g.int(1, 9)}.invalid/hook?n=${g.int(1, 99)}`;
    if (g.chance(0.3)) body.allowLocal = g.chance(0.5);
  }
  return body;
}

/** One request to the bot routes, with the statuses it may get. */
export function genBots(g: Rng, ctx: GenContext): Case {
  const op = g.weighted([["post", 5], ["get", 1], ["delete", 3]] as const);
  const auth = g.weighted([["none", 2], ["bad", 2], ["good", 6]] as const);
  const headers: [string, string][] = [];
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
  let route: Route;
  let method: string;
  let target = "/moderation/bots";
  let body: string | undefined;
  let expect: number[];
  if (op === "get") {
    route = "GET /moderation/bots";
    method = "GET";
    expect = [200];
  } else if (op === "delete") {
    route = "DELETE /moderation/bots/:name";
    method = "DELETE";
    const bad = g.chance(0.4);
    target += `/${bad ? g.pick(BAD_NAMES) : `zq-bot-${g.int(1, 30)}`}`;
    expect = bad ? [400] : [204, 404];
  } else {
    route = "POST /moderation/bots";
    method = "POST";
    const shape = g.weighted(
      [["good", 3], ["bad", 5], ["broken", 1], ["form", 1], [
        "type",
        1,
      ]] as const,
    );
    let type = "application/json";
    if (shape === "good") {
      body = JSON.stringify(goodBot(g));
      expect = [201, 409];
    } else if (shape === "bad") {
      body = JSON.stringify(g.pick(BAD_BODIES));
      expect = [400];
    } else if (shape === "broken") {
      body = g.pick(BROKEN_JSON);
      expect = [400];
    } else if (shape === "form") {
      type = "application/x-www-form-urlencoded";
      const good = g.chance(0.5);
      body = good
        ? `name=zq-bot-${g.int(1, 30)}&webhook=https%3A%2F%2Fb.invalid%2F`
        : g.pick(["", "name=", "name=zq-bot-1&allowLocal=maybe"]);
      expect = good ? [201, 409] : [400];
    } else {
      type = g.pick(["text/plain", "application/xml", "multipart/form-data"]);
      body = JSON.stringify(goodBot(g));
      expect = [415];
    }
    headers.push(["Content-Type", type]);
  }
  return {
    via: "fetch",
    kind: "moderation",
    route,
    // The token is checked before anything else.
    expect: authExpect ?? expect,
    method,
    target,
    headers,
    body: body === undefined ? undefined : bytesOf(body),
  };
}
